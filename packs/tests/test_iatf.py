"""Automotive packs: the control plan (AIAG columns, versioned with the inspection plans, EN/ZH PDF and
page), the PPAP submission pack with its attachments, the complaint pack with the 8D."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from compliance.exports import export_job_run_now
from compliance.models import ExportJob, ExportStatus
from compliance.pdf import render_report_pdf
from inspection import services as insp_services
from inspection.models import Stage
from inspection.tests import factories as insp_f
from packs.iatf import control_plan_generate
from packs.models import ControlPlan, PackManifest
from qms.core.audit import audit_context
from qms.core.errors import PermissionRefused
from qms.core.models import Role
from qms.core.scoping import site_scope

from .factories import part as make_part


@pytest.fixture
def people(make_user, other_site):
    return {
        "qm": make_user("pk_qm", roles=[Role.QUALITY_MANAGER]),
        "qe": make_user("pk_qe", roles=[Role.QUALITY_ENGINEER]),
        "sqe": make_user("pk_sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "auditor": make_user("pk_auditor", roles=[Role.AUDITOR]),
        "inspector": make_user("pk_insp", roles=[Role.INSPECTOR]),
        "other_qm": make_user("pk_oqm", roles=[Role.QUALITY_MANAGER], sites=[other_site]),
    }


@pytest.fixture
def bearing(site, people):
    p = make_part("PKB-6204", name="Ball bearing")
    insp_f.plan(
        site, p, people["qe"], people["qm"], Stage.FQC,
        chars=[
            {"name": "Bore diameter", "nominal": "20", "tolerance": "0.01", "unit": "mm", "decimals": 3,
             "special": "CC", "method": "Air gauge"},
            {"name": "Width", "nominal": "14", "tolerance": "0.1", "unit": "mm", "decimals": 2},
        ],
        operation_name="Final inspection",
    )  # fmt: skip
    return p


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_control_plan_has_the_aiag_columns_and_follows_the_plan_versions(site, people, bearing):
    cp, created = control_plan_generate(site=site, part=bearing, user=people["qe"])
    assert created and cp.version == 1 and len(cp.sha256) == 64
    rows = cp.rows["en"]
    bore = next(r for r in rows if r["characteristic"] == "Bore diameter")
    assert bore["special"] == "CC" and bore["step"] == "Final inspection"
    assert "19.99" in bore["specification"] and "20.01" in bore["specification"]
    assert "Air gauge" in bore["technique"] and "sort every piece" in bore["reaction"]
    assert bore["sample"] and bore["frequency"] and bore["control"]
    assert cp.rows["zh-hans"][0]["characteristic"] == rows[0]["characteristic"]
    # Nothing changed: the same version comes back.
    again, created = control_plan_generate(site=site, part=bearing, user=people["qe"])
    assert not created and again.pk == cp.pk
    from packs.selectors import dashboard_tiles

    assert dashboard_tiles(people["qe"])[0]["value"] == 0
    assert dashboard_tiles(people["auditor"]) == []
    # A new plan version gives a new control plan version; the old one stays as it was.
    old_plan = cp.sources[0]
    from inspection.models import InspectionPlan

    plan = InspectionPlan.objects.get(pk=old_plan["plan"])
    v2 = insp_services.plan_new_version(plan=plan, user=people["qe"])
    insp_services.characteristic_add(
        plan=v2, user=people["qe"], name="Roundness", nominal="0", tolerance="0.005", unit="mm"
    )
    insp_services.plan_approve(plan=v2, user=people["qm"], credential=insp_f.cred(people["qm"]))
    assert dashboard_tiles(people["qe"])[0]["value"] == 1  # the plan moved on: regenerate
    cp2, created = control_plan_generate(site=site, part=bearing, user=people["qe"])
    assert created and cp2.version == 2 and cp2.sha256 != cp.sha256
    assert any(r["characteristic"] == "Roundness" for r in cp2.rows["en"])
    assert not any(r["characteristic"] == "Roundness" for r in ControlPlan.objects.get(pk=cp.pk).rows["en"])
    # PDF in English and Chinese through the report registry.
    for lang, words in (
        ("en", ["Process step", "Reaction plan", "Bore diameter", "Roundness"]),
        ("zh-hans", ["反应计划"]),
    ):
        with site_scope([site.pk]):
            pdf, stored = render_report_pdf(
                key="packs.control_plan", params={"site": site.code, "part": bearing.number}, language=lang,
                user=people["auditor"],
            )  # fmt: skip
        text = _pdf_text(pdf)
        for word in words:
            assert word in text, (lang, word)
        assert stored.site_id == site.pk


@pytest.mark.django_db
def test_only_engineers_generate_control_plans_and_pages_stay_at_their_site(client, site, people, bearing):
    with pytest.raises(PermissionRefused):
        control_plan_generate(site=site, part=bearing, user=people["inspector"])
    client.force_login(people["inspector"])
    url = reverse("packs:control_plan_generate")
    assert client.post(url, {"site": site.code, "part": bearing.pk}).status_code == 403
    client.force_login(people["qe"])
    index = client.get(reverse("packs:index"), {"site": site.code})
    assert index.status_code == 200 and "PKB-6204" in index.content.decode()
    response = client.post(url, {"site": site.code, "part": bearing.pk})
    cp = ControlPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("packs:control_plan", args=[cp.pk])
    page = client.get(reverse("packs:control_plan", args=[cp.pk]))
    assert page.status_code == 200 and "Bore diameter" in page.content.decode()
    client.force_login(people["other_qm"])
    assert client.get(reverse("packs:control_plan", args=[cp.pk])).status_code in (403, 404)
    # A part without an approved plan: a message, no version.
    client.force_login(people["qe"])
    lonely = make_part("PKNO-PLAN")
    response = client.post(url, {"site": site.code, "part": lonely.pk}, follow=True)
    assert ControlPlan.objects.count() == 1 and response.status_code == 200


def _real_pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.django_db
def test_ppap_pack_holds_psw_elements_fai_results_and_the_attached_test_reports(site, people, bearing):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from suppliers import services as sup
    from suppliers.tests.factories import make_supplier

    supplier = make_supplier(people["sqe"], site, code="SUP-PK")
    ppap = sup.ppap_create(supplier=supplier, part=bearing, level=3, reason="initial", user=people["sqe"])
    element = ppap.elements.get(number=10)
    sup.ppap_attachment_add(
        element=element,
        upload=SimpleUploadedFile("mtr.pdf", _real_pdf("Material test report MTR-42"), content_type="application/pdf"),
        user=people["sqe"],
    )
    control_plan_generate(site=site, part=bearing, user=people["qe"])
    with audit_context(reason="test"):
        from inspection.models import Inspection, InspectionPlan, Measurement

        plan = InspectionPlan.objects.get(part=bearing)
        fai = Inspection.objects.create(
            code="FAI-PK-1", stage=Stage.FAI, site=site, part=bearing, plan=plan, status="accepted", sample_size=1,
            inspector=people["qe"], completed_at=timezone.now(),
        )  # fmt: skip
        import uuid

        Measurement.objects.create(
            inspection=fai, characteristic=plan.characteristics.get(name="Bore diameter"), sample_no=1,
            value="20.004", ok=True, submission=uuid.uuid4(), recorded_by=people["qe"],
        )  # fmt: skip
    job = ExportJob.objects.create(
        key="packs.ppap", params={"ppap": ppap.code}, format="pdf", language="en", requested_by=people["qm"]
    )
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.READY, job.message
    data = job.generated_report.file.open("rb").read()
    text = _pdf_text(data)
    for expected in [ppap.code, "Part submission warrant", "Dimensional results", "FAI-PK-1", "20.004",
                     "Control plan", "Bore diameter", "Material test report MTR-42", "SUP-PK"]:  # fmt: skip
        assert expected in text, expected
    row = PackManifest.objects.get(kind="ppap")
    assert row.manifest["attachments"][0]["appended"] is True
    from packs.assemble import verify_pack

    assert verify_pack(row).ok


@pytest.mark.django_db
def test_complaint_pack_includes_the_8d(site, people, bearing):
    from capa.services import capa_create
    from nonconformance.services import complaint_create
    from traceability.tests.factories import customer

    c = customer("PKOEM-1")
    complaint = complaint_create(
        site=site, customer=c, part=bearing, title="Noise in bearing", description="Customer reports noise",
        response_due_on=timezone.localdate() + datetime.timedelta(days=5), user=people["qe"],
    )  # fmt: skip
    capa = capa_create(
        site=site, title="Noise 8D", owner=people["qe"], user=people["qe"], complaint=complaint, form="8d",
        problem_statement="Noisy bearings at OEM",
    )  # fmt: skip
    job = ExportJob.objects.create(
        key="packs.complaint", params={"complaint": complaint.code}, format="pdf", language="en",
        requested_by=people["auditor"],
    )  # fmt: skip
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.READY, job.message
    text = _pdf_text(job.generated_report.file.open("rb").read())
    for expected in [complaint.code, "Noise in bearing", capa.code, "8D", "Noisy bearings at OEM"]:
        assert expected in text, expected
    # The other site's manager cannot have it made.
    job = ExportJob.objects.create(
        key="packs.complaint", params={"complaint": complaint.code}, format="pdf", language="en",
        requested_by=people["other_qm"],
    )  # fmt: skip
    assert export_job_run_now(job_id=job.pk).status == ExportStatus.FAILED
