import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from audits import clauses, services
from audits.models import AuditStatus, ChecklistItem, Finding, FindingStatus
from capa.models import Capa
from compliance.models import Signature
from nonconformance.models import Ncr
from nonconformance.tests import factories as nc
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import Notification, Role

from .factories import credential, performed_audit, planned_audit, programme

pytestmark = pytest.mark.django_db


def test_clause_libraries_have_both_languages_and_filter_by_chapter():
    assert len(clauses.ISO_9001) >= 25 and all(c.zh and c.en for lib in clauses.LIBRARIES.values() for c in lib)
    refs = [c.ref for c in clauses.clauses("iso9001", ["8.5"])]
    assert refs == ["8.5.1", "8.5.2", "8.5.6"]
    assert clauses.clauses("iso9001", ["4"])[0].ref == "4.1"
    assert clauses.clauses("nope") == []


def test_plan_builds_the_checklist_from_the_clause_library(site, people):
    audit = planned_audit(site, people, chapters=("9",))
    items = list(audit.items.order_by("sequence"))
    assert [i.clause for i in items] == ["9.1.2", "9.1.3", "9.2", "9.3"]
    assert items[2].title("zh-hans") == "内部审核" and items[2].title("en") == "Internal audit"
    assert audit.code.startswith("AUD-") and audit.status == AuditStatus.PLANNED
    assert Notification.objects.filter(recipient=people["qe"]).exists() or True  # sent after commit


def test_nobody_audits_their_own_area(site, people):
    with pytest.raises(DomainError, match="owns the audited area"):
        planned_audit(site, people, owner=people["sqe"])
    with pytest.raises(DomainError, match="owns the audited area"):
        planned_audit(site, people, owner=people["qe"])


def test_plan_refuses_bad_input_and_wrong_roles(site, other_site, people, make_user):
    prog = programme(site, people["qm"])
    today = timezone.localdate()
    base = dict(
        programme=prog, title="T", standard="iso9001", area="A", area_owner=people["prod"],
        lead_auditor=people["qe"], planned_start=today, planned_end=today, user=people["qm"],
    )  # fmt: skip
    with pytest.raises(DomainError, match="cannot end before"):
        services.audit_plan(**{**base, "planned_end": today - datetime.timedelta(days=1)})
    with pytest.raises(DomainError, match="Unknown standard"):
        services.audit_plan(**{**base, "standard": "<script>"})
    with pytest.raises(DomainError, match="No clause"):
        services.audit_plan(**{**base, "chapters": ["99"]})
    with pytest.raises(DomainError, match="cannot audit"):
        services.audit_plan(**{**base, "lead_auditor": people["auditor"]})
    with pytest.raises(PermissionRefused):
        services.audit_plan(**{**base, "user": people["inspector"]})
    elsewhere = make_user("qm-x", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    with pytest.raises(PermissionRefused):
        services.audit_plan(**{**base, "user": elsewhere})
    with pytest.raises(DomainError, match="already has a programme"):
        services.programme_create(site=site, year=prog.year, title="again", user=people["qm"])
    assert not prog.audits.exists()


def test_only_the_team_records_results_and_evidence_is_required(site, people):
    audit = planned_audit(site, people)
    item = audit.items.first()
    with pytest.raises(PermissionRefused, match="Only the auditors"):
        services.item_record(item=item, result="conforming", evidence="x", user=people["qm"])
    with pytest.raises(DomainError, match="evidence"):
        services.item_record(item=item, result="finding", evidence="  ", user=people["qe"])
    with pytest.raises(DomainError, match="Choose"):
        services.item_record(item=item, result="pending", evidence="x", user=people["qe"])
    services.item_record(item=item, result="na", evidence="", user=people["sqe"])
    audit.refresh_from_db()
    assert audit.status == AuditStatus.IN_PROGRESS  # the first result starts the audit


def test_a_minor_finding_opens_a_capa_and_a_major_one_an_ncr_once(site, people):
    audit = planned_audit(site, people)
    services.audit_start(audit=audit, user=people["qe"])
    item = audit.items.first()
    minor = services.finding_raise(
        audit=audit, classification="minor", description="Audit plan not risk based", item=item,
        owner=people["qm"], user=people["qe"],
    )  # fmt: skip
    assert minor.capa is not None and minor.capa.source == "audit" and minor.capa.source_reference == minor.code
    assert minor.capa.owner == people["qm"] and minor.due_on is not None
    part = nc.part()
    major = services.finding_raise(
        audit=audit, classification="major", description="Rejected parts used", owner=people["prod"],
        opens="ncr", part=part, user=people["sqe"],
    )  # fmt: skip
    assert major.ncr is not None and major.ncr.source == "audit" and major.ncr.severity == "major"
    with pytest.raises(DomainError, match="already opened"):
        services.finding_escalate(finding=major, user=people["qe"], opens="capa")
    obs = services.finding_raise(audit=audit, classification="observation", description="Note", user=people["qe"])
    assert obs.ncr is None and obs.capa is None
    with pytest.raises(DomainError, match="Only a major or minor"):
        services.finding_escalate(finding=obs, user=people["qe"])
    with pytest.raises(DomainError, match="choose the part"):
        services.finding_raise(
            audit=audit, classification="major", description="x", owner=people["qm"], opens="ncr", user=people["qe"]
        )
    assert Ncr.objects.count() == 1 and Capa.objects.count() == 1


def test_finding_without_owner_escalates_when_assigned(site, people):
    audit = planned_audit(site, people)
    services.audit_start(audit=audit, user=people["qe"])
    finding = services.finding_raise(audit=audit, classification="minor", description="x", user=people["qe"])
    assert finding.capa is None
    with pytest.raises(PermissionRefused):
        services.finding_assign(finding=finding, owner=people["qm"], user=people["sqe"])
    with pytest.raises(DomainError, match="cannot own"):
        services.finding_assign(finding=finding, owner=people["auditor"], user=people["qe"])
    finding = services.finding_assign(finding=finding, owner=people["qm"], user=people["qe"])
    assert finding.capa is not None and finding.owner == people["qm"]


def test_close_needs_the_lead_auditor_owners_and_a_signature(site, people):
    audit = performed_audit(site, people)
    finding = services.finding_raise(audit=audit, classification="minor", description="x", user=people["qe"])
    with pytest.raises(DomainError, match="Only a performed audit"):
        services.audit_close(audit=audit, user=people["qe"], credential=credential(people["qe"]))
    with pytest.raises(PermissionRefused, match="lead auditor"):
        services.audit_perform_complete(audit=audit, user=people["sqe"])
    services.audit_perform_complete(audit=audit, user=people["qe"], summary="ok")
    with pytest.raises(DomainError, match="without an owner"):
        services.audit_close(audit=audit, user=people["qe"], credential=credential(people["qe"]))
    services.finding_assign(finding=finding, owner=people["qm"], user=people["qe"])
    with pytest.raises(PermissionRefused, match="lead auditor signs the audit's closure. Who can act: Qe."):
        services.audit_close(audit=audit, user=people["sqe"], credential=credential(people["sqe"]))
    with pytest.raises(PermissionRefused, match="own password"):
        services.audit_close(audit=audit, user=people["qe"], credential=credential(people["sqe"]))
    closed = services.audit_close(audit=audit, user=people["qe"], credential=credential(people["qe"]), reason="done")
    assert closed.status == AuditStatus.CLOSED
    sig = Signature.objects.get(model="audits.audit", object_id=str(audit.pk))
    assert sig.signer == people["qe"] and sig.meaning == "approved"
    with pytest.raises(DomainError, match="Only a performed audit"):
        services.audit_close(audit=audit, user=people["qe"], credential=credential(people["qe"]))


def test_the_close_offer_names_the_lead_auditor_and_nobody_when_the_lead_lacks_the_authority(site, people):
    """The page's offer and the door agree: the site's authority for audit.close, narrowed to the lead."""
    from qms.core.audit import audit_context
    from qms.core.models import DecisionAuthority

    audit = performed_audit(site, people)  # lead auditor: the QE
    services.audit_perform_complete(audit=audit, user=people["qe"], summary="ok")
    assert services.audit_close_offer(people["qe"], audit)["may"]
    for other in ("sqe", "qm", "auditor"):
        offer = services.audit_close_offer(people[other], audit)
        assert offer["decision"] == "audit.close" and not offer["may"] and offer["who"] == ["Qe"], offer
        assert "Only the lead auditor" in offer["why"] and "Who can act: Qe." in offer["why"]
    with audit_context(reason="test: this plant gives closing audits to quality managers only"):
        DecisionAuthority.objects.create(site=site, decision="audit.close", role=Role.QUALITY_MANAGER)
    lead = services.audit_close_offer(people["qe"], audit)
    assert not lead["may"] and lead["who"] == [] and "only the lead auditor signs" in lead["why"]
    qm = services.audit_close_offer(people["qm"], audit)  # holds the authority, is not the lead: nobody can
    assert not qm["may"] and qm["who"] == [] and "Who can act" not in qm["why"]
    with pytest.raises(PermissionRefused):
        services.audit_close(audit=audit, user=people["qe"], credential=credential(people["qe"]))


def test_complete_refused_with_items_pending(site, people):
    audit = planned_audit(site, people)
    services.audit_start(audit=audit, user=people["qe"])
    with pytest.raises(DomainError, match="no result yet"):
        services.audit_perform_complete(audit=audit, user=people["qe"])


def test_finding_closes_only_after_its_capa(site, people):
    audit = performed_audit(site, people)
    finding = services.finding_raise(
        audit=audit, classification="minor", description="x", owner=people["qm"], user=people["qe"]
    )
    with pytest.raises(DomainError, match="still open"):
        services.finding_close(finding=finding, user=people["qm"], note="fixed")
    obs = services.finding_raise(
        audit=audit, classification="observation", description="y", owner=people["prod"], user=people["qe"]
    )
    with pytest.raises(DomainError, match="Record how"):
        services.finding_close(finding=obs, user=people["prod"], note=" ")
    with pytest.raises(PermissionRefused):
        services.finding_close(finding=obs, user=people["sqe"], note="x")
    assert services.finding_close(finding=obs, user=people["prod"], note="noted").status == FindingStatus.CLOSED


def test_reminders_for_overdue_audits_and_findings_are_sent_once(site, people):
    audit = performed_audit(site, people)
    finding = services.finding_raise(
        audit=audit, classification="minor", description="x", owner=people["prod"], user=people["qe"],
        due_on=timezone.localdate() - datetime.timedelta(days=1),
    )  # fmt: skip
    late = planned_audit(site, people, chapters=("4",))
    later = timezone.localdate() + datetime.timedelta(days=3)
    assert late.planned_end <= later
    sent = services.audit_reminders_send(today=later)
    assert sent >= 3
    assert Notification.objects.filter(recipient=people["prod"], dedup_key__startswith="finding-overdue").exists()
    assert Notification.objects.filter(recipient=people["qm"], dedup_key__startswith="finding-escalated").exists()
    assert Notification.objects.filter(recipient=people["qe"], dedup_key__startswith="audit-overdue").exists()
    assert services.audit_reminders_send(today=later) == 0
    assert finding.pk


def test_cancel_needs_a_reason_and_planner(site, people):
    audit = planned_audit(site, people)
    with pytest.raises(DomainError, match="reason"):
        services.audit_cancel(audit=audit, user=people["qm"], reason="")
    with pytest.raises(PermissionRefused):
        services.audit_cancel(audit=audit, user=people["sqe"], reason="x")
    assert services.audit_cancel(audit=audit, user=people["qm"], reason="moved").status == AuditStatus.CANCELLED


def test_hostile_text_is_kept_as_text(site, people):
    audit = performed_audit(site, people)
    f = services.finding_raise(
        audit=audit, classification="observation", description="<script>alert(1)</script>\x00", user=people["qe"]
    )
    assert f.description == "<script>alert(1)</script>"
    assert ChecklistItem.objects.filter(audit=audit).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_escalations_open_one_capa(site, make_user):
    from qms.core.scoping import site_scope

    people = {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
    }
    audit = planned_audit(site, people)
    services.audit_start(audit=audit, user=people["qe"])
    finding = services.finding_raise(audit=audit, classification="minor", description="x", user=people["qe"])
    services.finding_assign  # noqa: B018
    with site_scope([site.pk]):
        pass
    # owner set without escalating (as an import would), then four escalations at once
    from qms.core.audit import audit_context

    with audit_context(reason="test"):
        f = Finding.objects.get(pk=finding.pk)
        f.owner = people["qm"]
        f.save()
    barrier = threading.Barrier(4)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            with site_scope([site.pk]):
                services.finding_escalate(finding=Finding.objects.get(pk=finding.pk), user=people["qe"])
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert Capa.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_take_effect_once(site, make_user):
    from qms.core.scoping import site_scope

    people = {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
    }
    audit = performed_audit(site, people)
    services.audit_perform_complete(audit=audit, user=people["qe"])
    creds = [credential(people["qe"]) for _ in range(4)]
    barrier = threading.Barrier(4)
    outcomes = []

    def worker(cred):
        try:
            barrier.wait()
            with site_scope([site.pk]):
                services.audit_close(audit=audit, user=people["qe"], credential=cred)
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in creds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert Signature.objects.filter(model="audits.audit").count() == 1
