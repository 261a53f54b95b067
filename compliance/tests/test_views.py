"""Pages: who may see them, what they show, constant queries, PDF download."""

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.models import AuditEntry, GeneratedReport
from qms.core.audit import audit_context
from qms.core.models import Role

from .factories import make_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", roles=[Role.AUDITOR])


@pytest.fixture
def inspector(make_user):
    return make_user("inspector", roles=[Role.INSPECTOR])


@pytest.fixture
def qm(make_user):
    return make_user("qm", roles=[Role.QUALITY_MANAGER])


@pytest.fixture
def part(qm):
    part = make_part(user=qm, number="BRG-6204")
    part.name = "Deep groove bearing"
    with audit_context(user=qm):
        part.save(reason="ECN-017")
    return part


def test_audit_trail_access(login, auditor, inspector, part):
    url = reverse("compliance:audit_trail")
    response = login(auditor).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "BRG-6204" in html and "ECN-017" in html and "Deep groove bearing" in html
    assert "Chain intact" in html
    assert "Run full verification" not in html  # auditors read; quality managers verify
    assert login(inspector).get(url).status_code == 403


def test_audit_trail_filters(login, auditor, part, qm):
    make_part(user=qm, number="OTHER-9")
    client = login(auditor)
    response = client.get(reverse("compliance:audit_trail"), {"model": "core.part", "object_id": part.pk})
    html = response.content.decode()
    assert "ECN-017" in html and "OTHER-9" not in html
    assert reverse("compliance:report_pdf", args=["audit.record"]) in html
    response = client.get(reverse("compliance:audit_trail"), {"user": "nobody"})
    assert "BRG-6204" not in response.content.decode()
    response = client.get(reverse("compliance:audit_trail"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert response.status_code == 200 and "must be on or after" in response.content.decode()


def test_audit_trail_queries_do_not_grow_with_rows(login, auditor, qm):
    client = login(auditor)
    make_part(user=qm, number="A-0")
    client.get(reverse("compliance:audit_trail"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("compliance:audit_trail"))
    for i in range(1, 40):
        make_part(user=qm, number=f"A-{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("compliance:audit_trail"))
    assert response.status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]


def test_full_verification_is_for_quality_managers(login, qm, auditor, part):
    url = reverse("compliance:audit_verify")
    assert login(auditor).post(url).status_code == 403
    client = login(qm)
    page = client.get(reverse("compliance:audit_trail")).content.decode()
    assert "Run full verification" in page
    response = client.post(url, follow=True)
    assert "Audit trail intact" in response.content.decode()
    entry = AuditEntry.objects.filter(action="verify").get()
    assert entry.username == "qm" and entry.changes["result"] == [None, "intact"]
    assert "Last full verification" in response.content.decode()


def test_record_trail_partial_and_page(login, auditor, inspector, part):
    url = reverse("compliance:record_trail", args=["core.part", part.pk])
    client = login(auditor)
    partial = client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert "ECN-017" in html and "Deep groove bearing" in html
    page = client.get(url)
    assert "<html" in page.content.decode() and "ECN-017" in page.content.decode()
    assert client.get(reverse("compliance:record_trail", args=["core.nothing", 1])).status_code == 404
    assert login(inspector).get(url).status_code == 403


def test_record_trail_tag_renders_htmx_loader(rf, auditor, inspector, part):
    from django.template import Context, Template

    template = Template("{% load compliance_tags %}{% record_trail obj %}")
    request = rf.get("/")
    request.user = auditor
    html = template.render(Context({"request": request, "obj": part}))
    assert f'hx-get="{reverse("compliance:record_trail", args=["core.part", part.pk])}"' in html
    request.user = inspector
    assert "hx-get" not in template.render(Context({"request": request, "obj": part}))


def test_pdf_download_stores_and_returns_pdf(login, auditor, part):
    client = login(auditor)
    url = reverse("compliance:report_pdf", args=["audit.record"])
    response = client.get(url, {"lang": "zh-hans", "model": "core.part", "id": part.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    stored = GeneratedReport.objects.get()
    assert stored.generated_by == auditor and stored.language == "zh-hans"
    assert stored.sha256 == hashlib.sha256(response.content).hexdigest() == response["X-PDF-SHA256"]
    assert stored.document_number in response["Content-Disposition"]

    listing = client.get(reverse("compliance:generated_reports")).content.decode()
    assert stored.document_number in listing and stored.sha256 in listing
    again = client.get(reverse("compliance:generated_download", args=[stored.pk]))
    assert again.status_code == 200 and hashlib.sha256(again.content).hexdigest() == stored.sha256


def test_pdf_download_checks_the_reports_permission(login, make_user, inspector, part):
    sqe = make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER])  # may export reports, not read the trail
    url = reverse("compliance:report_pdf", args=["audit.trail"])
    assert login(sqe).get(url).status_code == 403
    assert login(inspector).get(url).status_code == 403
    assert not GeneratedReport.objects.exists()


def test_pdf_download_with_a_missing_parameter_explains(login, auditor):
    response = login(auditor).get(reverse("compliance:report_pdf", args=["audit.record"]), {"model": "core.part"})
    assert response.status_code == 400
    assert "“id”" in response.content.decode()
    assert login(auditor).get(reverse("compliance:report_pdf", args=["nope"])).status_code == 404


def test_reports_index_lists_forms(login, auditor, make_user):
    html = login(auditor).get(reverse("compliance:reports")).content.decode()
    for key in ("audit.record", "audit.user", "audit.trail"):
        assert reverse("compliance:report_pdf", args=[key]) in html
    assert 'name="lang"' in html and 'name="model"' in html and 'type="date"' in html
    sqe = make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER])
    html = login(sqe).get(reverse("compliance:reports")).content.decode()
    assert "audit.record" not in html  # only reports the user may export


def test_tampered_stored_pdf_is_refused(login, auditor, part):
    client = login(auditor)
    client.get(reverse("compliance:report_pdf", args=["audit.record"]), {"model": "core.part", "id": part.pk})
    stored = GeneratedReport.objects.get()
    with open(stored.file.path, "ab") as fh:
        fh.write(b"%forged")
    response = client.get(reverse("compliance:generated_download", args=[stored.pk]))
    assert response.status_code == 409
    assert "not an authentic copy" in response.content.decode()


def test_nav_items_registered():
    from qms.core.registries import registry

    assert registry.nav_items["compliance.audit_trail"].perm == "audit.view"
    assert registry.nav_items["compliance.reports"].perm == "reports.export"
