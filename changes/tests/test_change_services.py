import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from changes import selectors, services
from changes.models import BoardRole, BoardVote, ChangeRequest, ChangeStatus, ChangeTask, ImpactItem, TaskKind
from compliance.models import Signature
from qms.core.audit import audit_context
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import Industry, Notification, Role

from .factories import approved, at_board, change, credential, world

pytestmark = pytest.mark.django_db
S = ChangeStatus


def test_submit_computes_the_impact_suggestions(site, people):
    w = world(site, people)
    c = change(site, people, part=w["part"], change_type="supplier", supplier=w["supplier"])
    c = services.change_submit(change=c, user=people["prod"])
    kinds = {(i.kind, i.reference) for i in ImpactItem.objects.filter(change=c)}
    assert ("part", "BRG-6204 rev A") in kinds
    assert ("lot", "LOT-CHG-1") in kinds and ("supplier", "STEEL-1") in kinds
    assert any(k == "plan" for k, _r in kinds)
    assert c.status == S.ASSESSMENT
    # refreshing adds nothing twice
    assert services.impact_suggest(change=c, user=people["qe"]) == 0


def test_manual_impact_edits(site, people):
    w = world(site, people)
    c = change(site, people, part=w["part"])
    services.change_submit(change=c, user=people["prod"])
    with pytest.raises(DomainError, match="No Open lot"):
        services.impact_add(change=c, kind="lot", reference="NOPE", user=people["qe"])
    with pytest.raises(DomainError, match="listed already"):
        services.impact_add(change=c, kind="lot", reference="LOT-CHG-1", user=people["qe"])
    doc = services.impact_add(change=c, kind="document", reference="WI-GRD-01", user=people["qe"], note="rev C")
    assert doc.source == "manual"
    lot_item = ImpactItem.objects.get(change=c, kind="lot")
    services.impact_set(item=lot_item, included=False, user=people["qe"], note="used up before the change")
    assert ImpactItem.objects.get(pk=lot_item.pk).included is False
    with pytest.raises(PermissionRefused):
        services.impact_add(change=c, kind="document", reference="X", user=people["prod"])


def test_request_refuses_bad_input(site, other_site, people):
    w = world(site, people)
    with pytest.raises(DomainError, match="what changes and why"):
        change(site, people, title=" ", reason="")
    with pytest.raises(DomainError, match="type of change"):
        change(site, people, change_type="<b>")
    with pytest.raises(DomainError, match="names the supplier"):
        change(site, people, change_type="supplier")
    other_supplier = __import__("nonconformance.tests.factories", fromlist=["x"]).supplier(other_site, code="FAR-1")
    with pytest.raises(DomainError, match="does not supply"):
        change(site, people, change_type="supplier", supplier=other_supplier)
    with pytest.raises(PermissionRefused):
        change(site, people, requester="auditor")
    assert w and not ChangeRequest.objects.exists()


def test_board_approval_segregation_roles_and_ppap_task(site, people):
    w = world(site, people)
    c = at_board(site, people, part=w["part"], requester="qe", change_type="supplier", supplier=w["supplier"])
    with pytest.raises(PermissionRefused, match="authored"):
        services.change_board_sign(change=c, user=people["qe"], credential=credential(people["qe"]), vote="approve")
    with pytest.raises(PermissionRefused, match="authority"):
        services.change_board_sign(
            change=c, user=people["inspector"], credential=credential(people["inspector"]), vote="approve"
        )
    with pytest.raises(PermissionRefused, match="own password"):
        services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qe2"]), vote="approve")
    services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="approve")
    with pytest.raises(PermissionRefused, match="no board role"):
        services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="approve")
    c.refresh_from_db()
    assert c.status == S.BOARD
    services.change_board_sign(change=c, user=people["qe2"], credential=credential(people["qe2"]), vote="approve")
    c.refresh_from_db()
    assert c.status == S.IMPLEMENTATION and c.approved_at
    ppap = ChangeTask.objects.get(change=c, kind=TaskKind.PPAP)
    assert ppap.owner == people["sqe"] and "STEEL-1" in ppap.description
    sigs = Signature.objects.filter(model="changes.changerequest", object_id=str(c.pk))
    assert sorted(s.role for s in sigs) == ["quality_engineer", "quality_manager"]
    # the PPAP submission is requested through the suppliers services and linked to the task
    task = services.task_ppap_request(task=ppap, user=people["sqe"])
    assert task.ppap.part == w["part"] and task.ppap.supplier == w["supplier"] and task.ppap.reason == "subcontractor"
    with pytest.raises(DomainError, match="requested already"):
        services.task_ppap_request(task=task, user=people["sqe"])
    with pytest.raises(DomainError, match="PPAP is approved"):
        services.task_complete(task=task, user=people["sqe"], evidence="sent")
    with pytest.raises(DomainError, match="cannot be cancelled"):
        services.task_cancel(task=task, user=people["qe"], reason="no")


def test_no_ppap_task_off_automotive_or_for_document_changes(site, other_site, people, make_user):
    w = world(site, people)
    c = approved(site, people, part=w["part"], change_type="document")
    assert not c.tasks.filter(kind="ppap").exists()
    with audit_context(reason="test"):
        site.industry = Industry.FOOD
        site.save()
    c2 = approved(site, people, part=w["part"], change_type="process", title="Other")
    assert not c2.tasks.filter(kind="ppap").exists()


def test_rejection_needs_a_reason_and_ends_the_change(site, people):
    c = at_board(site, people)
    with pytest.raises(DomainError, match="reason for rejecting"):
        services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="reject")
    services.change_board_sign(
        change=c, user=people["qm"], credential=credential(people["qm"]), vote="reject", comment="Not justified"
    )
    c.refresh_from_db()
    assert c.status == S.REJECTED
    with pytest.raises(DomainError, match="decided this change already"):
        services.change_board_sign(change=c, user=people["qe"], credential=credential(people["qe"]), vote="approve")


def test_board_roles_are_configurable_per_site(site, people):
    with audit_context(reason="test"):
        BoardRole.objects.create(site=site, role=Role.PRODUCTION_SUPERVISOR)
        BoardRole.objects.create(site=site, role=Role.QUALITY_MANAGER)
    assert set(selectors.board_roles(site)) == {"production_supervisor", "quality_manager"}
    c = at_board(site, people, requester="qe")
    services.change_board_sign(change=c, user=people["prod"], credential=credential(people["prod"]), vote="approve")
    with pytest.raises(PermissionRefused, match="no board role"):
        services.change_board_sign(change=c, user=people["qe2"], credential=credential(people["qe2"]), vote="approve")
    services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="approve")
    c.refresh_from_db()
    assert c.status == S.IMPLEMENTATION


def test_implementation_effectiveness_not_by_implementer_and_close(site, people):
    w = world(site, people)
    c = approved(site, people, part=w["part"], change_type="document")
    with pytest.raises(DomainError, match="At least one"):
        services.implementation_complete(change=c, user=people["qe"])
    task = services.task_add(
        change=c, description="Issue WI rev C", owner=people["qe2"], due_on=timezone.localdate(), user=people["qe"]
    )
    with pytest.raises(PermissionRefused):
        services.task_complete(task=task, user=people["prod"], evidence="x")
    services.task_complete(task=task, user=people["qe2"], evidence="WI rev C")
    check = services.implementation_complete(change=c, user=people["qe"], check_due_on=timezone.localdate())
    with pytest.raises(PermissionRefused, match="executed"):
        services.change_effectiveness_record(
            check=check, result="effective", evidence="ok", user=people["qe2"], credential=credential(people["qe2"])
        )
    services.change_effectiveness_record(
        check=check, result="effective", evidence="3 lots ok", user=people["qm"], credential=credential(people["qm"])
    )
    c.refresh_from_db()
    assert c.status == S.VERIFIED
    with pytest.raises(DomainError, match="document version"):
        services.change_close(change=c, user=people["qe"])
    services.change_output_link(change=c, user=people["qe"], plan=w["plan"])
    with pytest.raises(DomainError, match="linked already"):
        services.change_output_link(change=c, user=people["qe"], plan=w["plan"])
    assert services.change_close(change=c, user=people["qe"]).status == S.CLOSED


def test_not_effective_goes_back_to_implementation(site, people):
    c = approved(site, people)
    task = services.task_add(
        change=c, description="x", owner=people["prod"], due_on=timezone.localdate(), user=people["qe"]
    )
    for t in c.tasks.filter(kind="ppap"):
        services.task_complete(task=t, user=people["sqe"], evidence="PSW to customer")
    services.task_complete(task=task, user=people["prod"], evidence="done")
    check = services.implementation_complete(
        change=c, user=people["qe"], check_due_on=timezone.localdate() + datetime.timedelta(days=5)
    )
    with pytest.raises(DomainError, match="observation period"):
        services.change_effectiveness_record(
            check=check, result="effective", evidence="ok", user=people["qm"], credential=credential(people["qm"])
        )
    services.change_effectiveness_record(
        check=check,
        result="not_effective",
        evidence="burn again",
        user=people["qm"],
        credential=credential(people["qm"]),
    )
    c.refresh_from_db()
    assert c.status == S.IMPLEMENTATION


def test_cancel_is_signed_with_a_reason(site, people):
    c = change(site, people)
    with pytest.raises(DomainError, match="reason"):
        services.change_cancel(change=c, user=people["qe"], credential=credential(people["qe"]), reason=" ")
    with pytest.raises(PermissionRefused):
        services.change_cancel(change=c, user=people["prod"], credential=credential(people["prod"]), reason="x")
    c = services.change_cancel(change=c, user=people["qe"], credential=credential(people["qe"]), reason="dup")
    assert c.status == S.CANCELLED and Signature.objects.filter(meaning="rejected").count() == 1


def test_reminders_and_escalation_once(site, people):
    c = approved(site, people)
    services.task_add(
        change=c, description="late", owner=people["prod"], due_on=timezone.localdate() - datetime.timedelta(days=1),
        user=people["qe"],
    )  # fmt: skip
    sent = services.change_reminders_send()
    assert sent >= 2
    assert Notification.objects.filter(recipient=people["prod"], dedup_key__startswith="change-task-overdue").exists()
    assert Notification.objects.filter(recipient=people["qm"], dedup_key__startswith="change-task-escalated").exists()
    assert services.change_reminders_send() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_board_signatures_sign_a_role_once(site, make_user):
    from qms.core.scoping import site_scope

    people = {
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
    }
    c = at_board(site, people)
    creds = [credential(people["qm"]) for _ in range(4)]
    barrier = threading.Barrier(4)
    outcomes = []

    def worker(cred):
        try:
            barrier.wait()
            with site_scope([site.pk]):
                services.change_board_sign(change=c, user=people["qm"], credential=cred, vote="approve")
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(cr,)) for cr in creds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert BoardVote.objects.filter(change=c).count() == 1
    assert Signature.objects.filter(model="changes.changerequest").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_effectiveness_records_take_effect_once(site, make_user):
    from qms.core.scoping import site_scope

    people = {
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
    }
    c = approved(site, people, change_type="product")
    task = services.task_add(
        change=c, description="x", owner=people["prod"], due_on=timezone.localdate(), user=people["qe"]
    )
    services.task_complete(task=task, user=people["prod"], evidence="done")
    check = services.implementation_complete(change=c, user=people["qe"], check_due_on=timezone.localdate())
    creds = [credential(people["qm"]) for _ in range(4)]
    barrier = threading.Barrier(4)
    outcomes = []

    def worker(cred):
        try:
            barrier.wait()
            with site_scope([site.pk]):
                services.change_effectiveness_record(
                    check=check, result="effective", evidence="ok", user=people["qm"], credential=cred
                )
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(cr,)) for cr in creds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert Signature.objects.filter(model="changes.changeeffectivenesscheck").count() == 1
