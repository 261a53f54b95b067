import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audits import services
from audits.models import Audit, AuditStatus, Finding
from compliance.reports import REPORTS
from conftest import PASSWORD
from qms.core.models import Role

from .factories import performed_audit, planned_audit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", Role.values)
def test_every_role_sees_the_list_and_the_detail(site, people, make_user, login, role):
    audit = planned_audit(site, people)
    client = login(make_user(f"r-{role}", roles=[role]))
    assert client.get(reverse("audits:audit_list")).status_code == 200
    page = client.get(reverse("audits:audit_detail", args=[audit.code]))
    assert page.status_code == 200 and audit.code in page.content.decode()
    assert client.get(reverse("audits:programme_create")).status_code == (
        200 if role in ("quality_manager", "quality_engineer") else 403
    )


def test_the_other_site_is_refused(site, other_site, people, make_user, login):
    audit = performed_audit(site, people)
    finding = services.finding_raise(audit=audit, classification="observation", description="x", user=people["qe"])
    client = login(make_user("qm-else", roles=[Role.QUALITY_MANAGER], sites=[other_site]))
    assert client.get(reverse("audits:audit_detail", args=[audit.code])).status_code == 404
    assert client.post(reverse("audits:finding_close", args=[finding.pk]), {"note": "x"}).status_code == 404
    assert client.post(reverse("audits:audit_close", args=[audit.code]), {"password": PASSWORD}).status_code == 404
    assert audit.code not in client.get(reverse("audits:audit_list")).content.decode()
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_auditor_role_reads_but_cannot_write(site, people, login):
    audit = planned_audit(site, people)
    client = login(people["auditor"])
    page = client.get(reverse("audits:audit_detail", args=[audit.code])).content.decode()
    assert "Start the audit" not in page and 'name="result"' not in page
    assert client.post(reverse("audits:audit_start", args=[audit.code])).status_code == 403
    item = audit.items.first()
    assert (
        client.post(
            reverse("audits:item_record", args=[item.pk]), {"result": "conforming", "evidence": "x"}
        ).status_code
        == 403
    )


def test_hostile_form_input_gives_a_message_not_a_500(site, people, login):
    audit = planned_audit(site, people)
    client = login(people["qe"])
    item = audit.items.first()
    r = client.post(
        reverse("audits:item_record", args=[item.pk]), {"result": "'; drop table", "evidence": "x"}, follow=True
    )
    assert r.status_code == 200 and "Choose the result" in r.content.decode()
    r = client.post(
        reverse("audits:finding_create", args=[audit.code]),
        {"classification": "major", "description": "", "item": "abc"},
        follow=True,
    )
    assert r.status_code == 200 and "not raised" in r.content.decode()
    assert not Finding.objects.exists()
    client = login(people["qm"])
    prog = audit.programme
    r = client.post(
        reverse("audits:audit_create", args=[prog.pk]),
        {"title": "x" * 500, "standard": "iso9001", "area": "A", "planned_start": "2026-99-01"},
    )
    assert r.status_code == 200 and Audit.objects.count() == 1


def test_journey_programme_plan_perform_finding_capa_ncr_report(
    site, people, login, django_capture_on_commit_callbacks
):
    """programme → plan → perform → finding → NCR / CAPA → close (e-signed) → report PDF in both languages."""
    from nonconformance.tests import factories as nc

    year = timezone.localdate().year
    qm = login(people["qm"])
    r = qm.post(
        reverse("audits:programme_create"),
        {"site": site.pk, "year": year, "title": "Programme", "form_token": "0" * 32},
    )
    assert r.status_code == 302
    prog = site.audit_programmes.get()
    start = max(timezone.localdate(), datetime.date(year, 1, 1))
    r = qm.post(
        reverse("audits:audit_create", args=[prog.pk]),
        {
            "title": "Production control", "standard": "iatf16949", "chapters": "8.5, 8.7", "area": "Line A",
            "area_owner": people["prod"].pk, "lead_auditor": people["qe"].pk, "auditors": [people["sqe"].pk],
            "planned_start": start.isoformat(), "planned_end": start.isoformat(), "scope": "Line A",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    audit = Audit.objects.get()
    assert [i.clause for i in audit.items.order_by("sequence")] == ["8.5.1.1", "8.5.1.3", "8.5.6.1", "8.7.1.4"]
    qe = login(people["qe"])
    assert qe.post(reverse("audits:audit_start", args=[audit.code])).status_code == 302
    items = list(audit.items.order_by("sequence"))
    for item in items:
        result = "finding" if item.clause == "8.7.1.4" else "conforming"
        qe.post(reverse("audits:item_record", args=[item.pk]), {"result": result, "evidence": "seen"})
    part = nc.part("BRG-6204")
    r = qe.post(
        reverse("audits:finding_create", args=[audit.code]),
        {"classification": "major", "description": "Reworked parts not re-inspected", "item": items[-1].pk,
         "owner": people["prod"].pk, "opens": "ncr", "part": part.pk, "form_token": "1" * 32},
    )  # fmt: skip
    assert r.status_code == 302
    r = qe.post(
        reverse("audits:finding_create", args=[audit.code]),
        {
            "classification": "minor",
            "description": "Control plan not at station",
            "opens": "capa",
            "form_token": "2" * 32,
        },
    )
    minor = Finding.objects.get(classification="minor")
    assert minor.capa is None
    qe.post(reverse("audits:finding_assign", args=[minor.pk]), {"owner": people["qm"].pk, "opens": "capa"})
    minor.refresh_from_db()
    major = Finding.objects.get(classification="major")
    assert major.ncr.source == "audit" and minor.capa.source == "audit"
    qe.post(reverse("audits:audit_complete", args=[audit.code]), {"summary": "Two findings"})
    audit.refresh_from_db()
    assert audit.status == AuditStatus.REPORTING
    # the SQE (not lead) is not offered the signature form
    sqe_page = login(people["sqe"]).get(reverse("audits:audit_close", args=[audit.code])).content.decode()
    assert 'name="password"' not in sqe_page and "Only the lead auditor" in sqe_page
    qe = login(people["qe"])
    r = qe.post(
        reverse("audits:audit_close", args=[audit.code]), {"username": "qe", "password": PASSWORD, "reason": "ok"}
    )
    assert r.status_code == 302
    audit.refresh_from_db()
    assert audit.status == AuditStatus.CLOSED
    # the NCR page lists the finding that opened it
    ncr_page = qe.get(reverse("nonconformance:ncr_detail", args=[major.ncr.code])).content.decode()
    assert major.code in ncr_page
    assert "audits.report" in REPORTS
    for lang in ("en", "zh-hans"):
        r = qe.get(reverse("compliance:report_pdf", args=["audits.report"]) + f"?audit={audit.code}&lang={lang}")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content[:4] == b"%PDF"
