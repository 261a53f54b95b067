import datetime

import pytest
import time_machine
from django.utils import timezone

from capa import services
from capa.models import CapaStatus, CheckResult, ScarStatus
from nonconformance import services as ncr_services
from nonconformance.tests import factories as nf
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import Notification

from .factories import capa_with_done_action, credential

pytestmark = pytest.mark.django_db


def test_capa_from_ncr_uses_8d_on_automotive_and_simple_elsewhere(site, other_site, people, make_user):
    ncr = nf.open_ncr(site, people["qe"])
    capa = services.capa_create(site=site, title="t", owner=people["qe"], user=people["qm"], ncr=ncr)
    assert capa.form == "8d" and capa.source == "ncr" and capa.source_reference == ncr.code
    assert capa.team.get().user == people["qe"]
    food_qm = make_user("fqm", sites=[other_site])
    simple = services.capa_create(site=other_site, title="t", owner=food_qm, user=food_qm)
    assert simple.form == "simple"


def test_auditor_and_inspector_cannot_raise_a_capa(site, people):
    for who in ("auditor", "inspector"):
        with pytest.raises(PermissionRefused):
            services.capa_create(site=site, title="t", owner=people["qe"], user=people[who])
    with pytest.raises(DomainError, match="cannot own"):
        services.capa_create(site=site, title="t", owner=people["auditor"], user=people["qm"])


def test_actions_must_be_done_before_the_effectiveness_check(site, people):
    capa = services.capa_create(site=site, title="t", owner=people["qe"], user=people["qm"])
    with pytest.raises(DomainError):
        services.capa_actions_close(capa=capa, user=people["qm"])
    action = services.capa_action_add(
        capa=capa, description="fix", owner=people["qe"], due_on=timezone.localdate(), user=people["qm"]
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.IN_PROGRESS
    with pytest.raises(DomainError, match="still open"):
        services.capa_actions_close(capa=capa, user=people["qm"])
    services.capa_action_complete(action=action, user=people["qe"], evidence="done")
    with pytest.raises(DomainError, match="root cause"):
        services.capa_actions_close(capa=capa, user=people["qm"])


def test_effectiveness_gates_closure_and_not_effective_reopens(site, people):
    owner, qm = people["qe"], people["qm"]
    capa = capa_with_done_action(site, owner, qm)
    check = services.capa_actions_close(capa=capa, user=owner, criteria="no bore reject in 3 lots")
    capa.refresh_from_db()
    assert capa.status == CapaStatus.EFFECTIVENESS
    assert check.due_on == timezone.localdate() + datetime.timedelta(days=30)
    with pytest.raises(DomainError, match="effective"):
        services.capa_close(capa=capa, user=qm)
    with pytest.raises(DomainError, match="observation period"):
        services.effectiveness_check_record(
            check=check, result=CheckResult.EFFECTIVE, evidence="ok", user=qm, credential=credential(qm)
        )
    # not effective (allowed at any time) reopens
    services.effectiveness_check_record(
        check=check, result=CheckResult.NOT_EFFECTIVE, evidence="reject again", user=qm, credential=credential(qm)
    )
    capa.refresh_from_db()
    assert capa.status == CapaStatus.IN_PROGRESS
    action = services.capa_action_add(
        capa=capa, description="new wheel supplier", owner=owner, due_on=timezone.localdate(), user=qm
    )
    services.capa_action_complete(action=action, user=owner, evidence="PO 123")
    check2 = services.capa_actions_close(
        capa=capa, user=owner, check_due_on=timezone.localdate() + datetime.timedelta(days=5)
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(days=6)):
        with pytest.raises(PermissionRefused, match="owner"):
            services.effectiveness_check_record(
                check=check2, result=CheckResult.EFFECTIVE, evidence="ok", user=owner, credential=credential(owner)
            )
        services.effectiveness_check_record(
            check=check2, result=CheckResult.EFFECTIVE, evidence="3 lots clean", user=qm, credential=credential(qm)
        )
        capa.refresh_from_db()
        capa = services.capa_close(capa=capa, user=owner)
    assert capa.status == CapaStatus.CLOSED
    from compliance.signatures import signatures_for

    assert [s.meaning for s in signatures_for(check2)] == ["verified"]
    with pytest.raises(DomainError):
        services.capa_update(capa=capa, user=qm, root_cause="changed")


def test_inspector_cannot_verify_effectiveness(site, people):
    capa = capa_with_done_action(site, people["qe"], people["qm"])
    check = services.capa_actions_close(capa=capa, user=people["qm"], check_due_on=timezone.localdate())
    with pytest.raises(PermissionRefused):
        services.effectiveness_check_record(
            check=check,
            result="effective",
            evidence="x",
            user=people["inspector"],
            credential=credential(people["inspector"]),
        )


def test_action_reminders_and_escalation_are_sent_once_each(site, people):
    owner = people["qe"]
    capa = services.capa_create(site=site, title="t", owner=owner, user=people["qm"])
    today = timezone.localdate()
    action = services.capa_action_add(
        capa=capa, description="fix", owner=owner, due_on=today + datetime.timedelta(days=2), user=people["qm"]
    )
    Notification.objects.all().delete()
    assert services.capa_action_reminders_send(today=today) == 1
    assert services.capa_action_reminders_send(today=today) == 0
    later = today + datetime.timedelta(days=3)
    sent = services.capa_action_reminders_send(today=later)
    assert sent == 2  # owner overdue + quality manager escalation
    assert services.capa_action_reminders_send(today=later) == 0
    assert services.capa_action_reminders_send(today=later + datetime.timedelta(days=1)) == 0
    subjects = list(Notification.objects.values_list("recipient__username", "subject"))
    assert ("qm", f"Escalation: CAPA {capa.code} action of Qe overdue since {action.due_on}") in subjects
    assert sum(1 for u, _s in subjects if u == "qe") == 2


def test_effectiveness_due_reminder_once_and_not_to_owner(site, people):
    capa = capa_with_done_action(site, people["qe"], people["qm"])
    check = services.capa_actions_close(
        capa=capa, user=people["qe"], check_due_on=timezone.localdate() + datetime.timedelta(days=1)
    )
    assert services.effectiveness_checks_due_send(today=timezone.localdate()) == 0
    day = check.due_on
    n = services.effectiveness_checks_due_send(today=day)
    assert n >= 1
    assert services.effectiveness_checks_due_send(today=day) == 0
    assert not Notification.objects.filter(recipient=people["qe"], dedup_key__startswith="capa-effectiveness").exists()


def test_return_to_supplier_opens_a_scar_and_the_response_feeds_the_scorecard(site, people):
    from suppliers.models import ScarRecord

    qe, qm = people["qe"], people["qm"]
    sup = nf.supplier(site)
    lot = nf.lot(site, nf.part(), supplier=sup, quantity=10)
    ncr = nf.ncr_in_review(site, qe, qe, [("return_to_supplier", 10, {})], lots=[lot], qty_confirmed=10)
    ncr_services.mrb_decide(disposition=ncr.mrb, mrb_role="quality", vote="approve", user=qm, credential=credential(qm))
    line = ncr.mrb.lines.get()
    with pytest.raises(DomainError, match="shipment reference"):
        ncr_services.disposition_line_execute(line=line, user=qe)
    ncr_services.disposition_line_execute(line=line, user=qe, return_reference="RMA-77")
    scar = ncr.scars.get()
    assert scar.status == ScarStatus.DRAFT and scar.supplier == sup
    assert scar.contact_email == "q@steel.invalid"
    with pytest.raises(PermissionRefused):
        services.scar_send(scar=scar, user=people["inspector"])
    scar = services.scar_send(scar=scar, user=people["sqe"])
    rec = ScarRecord.objects.get(scar_code=scar.code)
    assert rec.issued_on == timezone.localdate() and rec.responded_on is None
    from django.core import mail

    scar = services.scar_record_response(
        scar=scar, user=people["sqe"], containment="sorted", root_cause="die wear", corrective_action="new die"
    )
    rec.refresh_from_db()
    assert rec.responded_on == timezone.localdate()
    scar = services.scar_reject_response(
        scar=scar, user=people["sqe"], comment="no evidence", due_on=timezone.localdate() + datetime.timedelta(days=5)
    )
    assert scar.status == ScarStatus.SENT
    scar = services.scar_record_response(
        scar=scar, user=people["sqe"], containment="sorted", root_cause="die wear", corrective_action="new die + SPC"
    )
    scar = services.scar_accept(scar=scar, user=people["sqe"], credential=credential(people["sqe"]), comment="ok")
    assert scar.status == ScarStatus.ACCEPTED
    assert isinstance(mail.outbox, list)
    # a CAPA can be raised from the SCAR
    capa = services.capa_create(site=site, title="supplier die", owner=people["sqe"], user=people["sqe"], scar=scar)
    assert capa.source == "scar"


def test_scar_transitions_refused_out_of_order(site, people):
    sup = nf.supplier(site)
    scar = services.scar_create(site=site, supplier=sup, title="x", user=people["sqe"])
    with pytest.raises(DomainError):
        services.scar_record_response(
            scar=scar, user=people["sqe"], containment="", root_cause="a", corrective_action="b"
        )
    with pytest.raises(DomainError):
        services.scar_accept(scar=scar, user=people["sqe"], credential=credential(people["sqe"]))
    services.scar_cancel(scar=scar, user=people["sqe"], reason="duplicate")
    scar.refresh_from_db()
    with pytest.raises(DomainError):
        services.scar_send(scar=scar, user=people["sqe"])
