import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from documents import services
from documents.models import Document, DocumentVersion, TrainingRecord, TrainingTask, VersionStatus
from qms.core.models import Role

from .factories import cred, document, draft, effective, in_review, pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db


def sign(username, **extra):
    return {"username": username, "password": PASSWORD, **extra}


def test_every_role_reads_the_list_and_only_managers_register(site, people, login):
    doc = document(site, people)
    effective(doc, people)
    for key in people:
        client = login(people[key])
        page = client.get(reverse("documents:list"))
        assert page.status_code == 200
        create = client.get(reverse("documents:create"))
        assert create.status_code == (200 if key in ("qm", "qe", "qe2") else 403), key


def test_register_a_document_once_and_its_first_version(site, people, login):
    client = login(people["qm"])
    url = reverse("documents:create")
    page = client.get(url).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    data = {
        "site": site.pk,
        "doc_type": "sop",
        "title": "Cleaning",
        "owner": people["qm"].pk,
        "review_period_months": 24,
        "training_roles": [Role.INSPECTOR],
        "form_token": token,
    }
    first = client.post(url, data)
    again = client.post(url, data)
    assert first.status_code == 302 and again.status_code == 302
    assert Document.objects.count() == 1
    doc = Document.objects.get()
    client = login(people["qe"])
    response = client.post(
        reverse("documents:version_create", args=[doc.pk]),
        {"change_summary": "first", "file": pdf_upload()},
    )
    assert response.status_code == 302
    assert DocumentVersion.objects.get(document=doc).file_sha256


def test_hostile_upload_through_the_page_shows_the_reason(site, people, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = document(site, people)
    client = login(people["qe"])
    response = client.post(
        reverse("documents:version_create", args=[doc.pk]),
        {"change_summary": "x", "file": SimpleUploadedFile("evil.pdf", b"<script>alert(1)</script>")},
    )
    assert response.status_code == 200
    assert "is not a file" in response.content.decode()
    assert not DocumentVersion.objects.exists()


def test_review_and_approve_pages_offer_forms_only_to_those_allowed(site, people, login):
    doc = document(site, people)
    v = in_review(doc, people)
    client = login(people["qe"])  # the author
    page = client.get(reverse("documents:version_review", args=[v.pk])).content.decode()
    assert 'name="password"' not in page and "You authored" in page
    response = client.post(reverse("documents:version_review", args=[v.pk]), sign("qe", outcome="reviewed"))
    assert response.status_code == 200 and not v.reviews.filter(status="reviewed").exists()
    client = login(people["sup"])
    page = client.get(reverse("documents:version", args=[v.pk])).content.decode()
    assert reverse("documents:version_review", args=[v.pk]) in page
    response = client.post(reverse("documents:version_review", args=[v.pk]), sign("sup", outcome="reviewed"))
    assert response.status_code == 302
    # the reviewer is refused approval with the reason, the author too, the QM may
    page = client.get(reverse("documents:version_approve", args=[v.pk]))
    assert page.status_code == 403  # a supervisor holds no approval permission
    client = login(people["qm"])
    page = client.get(reverse("documents:version_approve", args=[v.pk])).content.decode()
    assert 'name="password"' in page
    today = timezone.localdate().isoformat()
    response = client.post(reverse("documents:version_approve", args=[v.pk]), sign("qm", effective_from=today))
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.status == VersionStatus.EFFECTIVE


def test_wrong_password_records_nothing(site, people, login):
    doc = document(site, people)
    v = in_review(doc, people)
    client = login(people["sup"])
    response = client.post(
        reverse("documents:version_review", args=[v.pk]),
        {"username": "sup", "password": "wrong", "outcome": "reviewed"},
    )
    assert response.status_code == 200 and "Wrong password" in response.content.decode()
    assert not v.reviews.filter(status="reviewed").exists()


def test_other_site_sees_nothing(site, other_site, people, make_user, login):
    doc = document(site, people)
    v = effective(doc, people)
    stranger = make_user("qm-else", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    client = login(stranger)
    for name, arg in [
        ("documents:detail", doc.pk),
        ("documents:version", v.pk),
        ("documents:version_download", v.pk),
        ("documents:version_approve", v.pk),
        ("documents:obsolete", doc.pk),
        ("documents:edit", doc.pk),
    ]:
        assert client.get(reverse(name, args=[arg])).status_code == 404, name
    assert doc.number not in client.get(reverse("documents:list")).content.decode()
    assert client.get(reverse("documents:training_matrix") + f"?site={site.pk}").status_code == 404


def test_distribution_by_role_and_drafts_hidden(site, people, login):
    doc = document(site, people, distribution_roles=[Role.QUALITY_ENGINEER])
    v1 = effective(doc, people)
    v2 = draft(doc, people["qe"], summary="work in progress")
    client = login(people["insp"])
    assert client.get(reverse("documents:detail", args=[doc.pk])).status_code == 404
    assert doc.number not in client.get(reverse("documents:list")).content.decode()
    open_doc = document(site, people, title="For everyone")
    ov = effective(open_doc, people)
    page = client.get(reverse("documents:detail", args=[open_doc.pk])).content.decode()
    assert f">{ov.label}<" in page
    assert client.get(reverse("documents:version", args=[v1.pk])).status_code == 404
    assert client.get(reverse("documents:version", args=[v2.pk])).status_code == 404
    open_draft = draft(open_doc, people["qe"], summary="next")
    assert client.get(reverse("documents:version", args=[ov.pk])).status_code == 200
    assert client.get(reverse("documents:version", args=[open_draft.pk])).status_code == 404


def test_history_on_request(site, people, login):
    doc = document(site, people)
    v1 = effective(doc, people)
    effective(doc, people)
    client = login(people["insp"])
    url = reverse("documents:detail", args=[doc.pk])
    assert reverse("documents:version", args=[v1.pk]) not in client.get(url).content.decode()
    assert reverse("documents:version", args=[v1.pk]) in client.get(url + "?history=1").content.decode()


def test_controlled_copy_and_uncontrolled_watermark(site, people, login):
    from pypdf import PdfReader

    from qms.core.models import User

    doc = document(site, people)
    v1 = effective(doc, people)
    client = login(people["insp"])
    response = client.get(reverse("documents:version_download", args=[v1.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert doc.number in text and "Controlled copy printed by Insp" in text and "UNCONTROLLED" not in text
    assert "受控" in text  # the Chinese line
    effective(doc, people)
    v1.refresh_from_db()
    client = login(User.objects.get(username="qe"))
    data = client.get(reverse("documents:version_download", args=[v1.pk])).content
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "UNCONTROLLED" in text and "Superseded" in text


def test_broken_pdf_download_is_a_message_not_a_500(site, people, login):
    doc = document(site, people)
    v = draft(doc, people["qe"])
    with v.file.open("wb") as fh:
        fh.write(b"%PDF-1.4 garbage that is no pdf")
    client = login(people["qe"])
    response = client.get(reverse("documents:version_download", args=[v.pk]))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "cannot be read" in page


def test_in_force_on_a_date_answers_version_and_signatures(site, people, login):
    doc = document(site, people)
    now = timezone.now()
    v1 = effective(doc, people, at=now - datetime.timedelta(days=100))
    effective(doc, people, at=now - datetime.timedelta(days=10))
    client = login(people["auditor"])
    day = (timezone.localdate() - datetime.timedelta(days=50)).isoformat()
    page = client.get(reverse("documents:detail", args=[doc.pk]) + f"?on={day}").content.decode()
    assert f'data-in-force="{v1.label}"' in page and "Qm" in page and "Sup" in page
    page = client.get(reverse("documents:detail", args=[doc.pk]) + "?on=not-a-date").content.decode()
    assert "Enter a valid date" in page


def test_my_training_acknowledge_by_page(site, people, login):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    effective(doc, people)
    task = TrainingTask.objects.get(user=people["insp"])
    client = login(people["insp2"])
    assert client.get(reverse("documents:training_acknowledge", args=[task.pk])).status_code == 404
    client = login(people["insp"])
    assert doc.number in client.get(reverse("documents:my_training")).content.decode()
    response = client.post(reverse("documents:training_acknowledge", args=[task.pk]), sign("insp"))
    assert response.status_code == 302
    assert TrainingRecord.objects.filter(user=people["insp"]).exists()


def test_matrix_and_settings_pages(site, people, login):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    effective(doc, people)
    client = login(people["auditor"])
    page = client.get(reverse("documents:training_matrix")).content.decode()
    assert doc.number in page and "Insp2" in page
    assert client.get(reverse("documents:settings")).status_code == 403
    client = login(people["qm"])
    response = client.post(
        reverse("documents:settings") + f"?site={site.pk}",
        {"gate_mode": "block", "review_reminder_days": 30, "rule_lot.release": doc.pk, "reason": "audit finding"},
    )
    assert response.status_code == 302
    assert services.site_setting(site).gate_mode == "block"
    client = login(people["insp"])
    assert client.get(reverse("documents:training_matrix")).status_code == 403


def test_reports_render(site, people):
    from compliance.pdf import render_report_pdf

    doc = document(site, people, training_roles=[Role.INSPECTOR])
    effective(doc, people)
    for key in ("documents.register", "documents.training_matrix"):
        for lang in ("en", "zh-hans"):
            pdf, stored = render_report_pdf(key=key, params={"site": site.code}, language=lang, user=people["qm"])
            assert pdf.startswith(b"%PDF") and stored is not None


def test_pdf_helper_is_cached():
    assert pdf_bytes("x") is pdf_bytes("x")


def test_instructor_page_by_trainer(site, people, login):
    doc = document(site, people)
    services.requirement_set(document=doc, role=Role.INSPECTOR, user=people["qm"], method="instructor")
    v = effective(doc, people)
    client = login(people["insp"])
    assert client.get(reverse("documents:training_instructor", args=[v.pk])).status_code == 403
    client = login(people["sup"])
    response = client.post(
        reverse("documents:training_instructor", args=[v.pk]),
        sign("sup", trainees=[people["insp"].pk], trained_on=timezone.localdate().isoformat(), assessment="passed"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TrainingRecord.objects.get(user=people["insp"]).trainer == people["sup"]
    assert cred  # factories import kept for symmetry


def test_register_and_matrix_export_as_background_jobs(site, people):
    from compliance.exports import export_job_create, export_job_open, export_job_run_now

    doc = document(site, people, training_roles=[Role.INSPECTOR])
    effective(doc, people)
    for key, expected in (("documents.register", doc.number), ("documents.training_matrix", "Insp2")):
        job = export_job_create(user=people["qm"], key=key, params={"site": site.code}, fmt="csv", language="en")
        job = export_job_run_now(job_id=job.pk)
        assert job.status == "ready", (key, job.status, getattr(job, "error", ""))
        with export_job_open(job) as fh:
            assert expected in fh.read().decode("utf-8-sig")
