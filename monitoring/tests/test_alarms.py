"""Alarm rules end to end: each action, once per breach, acknowledgement, auto-resolution, isolation."""

import datetime

import pytest
from django.utils import timezone

from capa.models import Capa
from inspection.models import LineStop, Stage
from monitoring import services
from monitoring.models import Alarm, AlarmStatus
from nonconformance.models import Ncr
from nonconformance.tests import factories as ncr_f
from qms.core.errors import DomainError
from qms.core.models import Notification

from . import factories as f


@pytest.fixture
def line_setup(site, people):
    ipqc = f.plan(site, people["qe"], people["qm"], Stage.IPQC, number="RG-2")
    line = f.line(site, "L1")
    return {"plan": ipqc, "line": line, "schedule": f.schedule(site, ipqc, line)}


def _rule(site, user, **kw):
    fields = dict(
        name="IPQC pass rate below 95 %",
        kpi="ipqc.fpy",
        dim_key="line",
        window="today",
        window_size=1,
        comparator="<",
        threshold=95,
        recipient_roles="production_supervisor",
        cooldown_minutes=0,
    )
    fields.update(kw)
    return services.alarm_rule_create(site=site, user=user, **fields)


def _checks(setup, ok=1, failed=1, when=None):
    when = when or timezone.now() - datetime.timedelta(minutes=5)
    for _ in range(ok):
        f.inspection(setup["plan"], when=when, sample=5, schedule=setup["schedule"])
    for _ in range(failed):
        f.inspection(setup["plan"], when=when, sample=5, bad=2, schedule=setup["schedule"], accepted=False)


def test_line_stop_action_raised_once_then_auto_resolved(site, people, line_setup):
    rule = _rule(site, people["qm"], action="line_stop")
    _checks(line_setup, ok=1, failed=1)
    assert services.rule_evaluate(rule=rule)["raised"] == 1
    assert services.rule_evaluate(rule=rule)["raised"] == 0  # no duplicate on the next tick
    alarm = Alarm.objects.get(rule=rule)
    assert alarm.dim_value == "L1" and alarm.value == 50.0
    stop = LineStop.objects.get(line=line_setup["line"])
    assert stop.is_open and stop.inspection.status == "rejected"
    assert "L1" in alarm.action_reference
    assert Notification.objects.filter(recipient=people["supervisor"], dedup_key=f"alarm:{alarm.pk}").exists()
    _checks(line_setup, ok=20, failed=0)
    assert services.rule_evaluate(rule=rule)["resolved"] == 1
    alarm.refresh_from_db()
    assert alarm.status == AlarmStatus.RESOLVED and alarm.auto_resolved
    assert LineStop.objects.filter(line=line_setup["line"]).count() == 1


def test_ncr_action_opens_an_ncr_on_the_part_by_the_system_actor(site, people, line_setup):
    rule = _rule(site, people["qm"], name="Defect rate > 10 %", kpi="ipqc.defect_rate", comparator=">", threshold=10,
                 window="hours", window_size=8, action="ncr")  # fmt: skip
    _checks(line_setup, ok=1, failed=1)  # 2 bad of 10 = 20 %
    services.rule_evaluate(rule=rule)
    alarm = Alarm.objects.get(rule=rule)
    ncr = Ncr.objects.get(code=alarm.action_reference)
    assert ncr.part == line_setup["plan"].part and ncr.source == "ipqc" and ncr.source_reference == alarm.code
    assert ncr.created_by.username == "system"


def test_capa_action_three_complaints_same_part_in_30_days(site, people):
    from nonconformance.services import complaint_create

    rule = services.alarm_rule_create(
        site=site, user=people["qm"], name="3 complaints on a part", kpi="complaint.count", dim_key="part",
        window="days", window_size=30, comparator=">=", threshold=3, recipient_roles="quality_manager", action="capa",
    )  # fmt: skip
    p, cust = ncr_f.part(), ncr_f.customer()
    today = timezone.localdate()
    for i in range(3):
        complaint_create(site=site, customer=cust, part=p, title=f"Noise {i}", description="x", user=people["qe"],
                         received_on=today - datetime.timedelta(days=i * 5), response_due_on=today)  # fmt: skip
    from monitoring.engine import rollup_recent

    rollup_recent(days=31, sites=[site])
    services.rule_evaluate(rule=rule)
    alarm = Alarm.objects.get(rule=rule)
    capa = Capa.objects.get(code=alarm.action_reference)
    assert capa.source == "alarm" and capa.owner == people["qm"] and alarm.dim_value == p.number


def test_supplier_ppm_this_month(site, people):
    iqc = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    a, b = ncr_f.supplier(site, "SUP-A"), ncr_f.supplier(site, "SUP-B")
    rule = services.alarm_rule_create(
        site=site, user=people["qm"], name="Supplier ppm > 500", kpi="iqc.ppm", dim_key="supplier", window="month",
        window_size=1, comparator=">", threshold=500, recipient_roles="sqe",
    )  # fmt: skip
    now = timezone.now()
    f.inspection(iqc, when=now - datetime.timedelta(minutes=1), sample=1000, bad=1, supplier=a)
    f.inspection(iqc, when=now - datetime.timedelta(minutes=1), sample=1000, bad=0, supplier=b)
    services.rule_evaluate(rule=rule)
    assert list(Alarm.objects.values_list("dim_value", flat=True)) == ["SUP-A"]
    assert Notification.objects.filter(recipient=people["sqe"]).exists()


def test_consecutive_windows_and_minimum_sample(site, people, line_setup):
    rule = _rule(site, people["qm"], window="hours", window_size=2, consecutive=2, min_denominator=2)
    now = timezone.now()
    _checks(line_setup, ok=0, failed=2, when=now - datetime.timedelta(minutes=10))
    assert services.rule_evaluate(rule=rule, now=now)["raised"] == 0  # the earlier window has no data
    _checks(line_setup, ok=0, failed=2, when=now - datetime.timedelta(hours=3))
    assert services.rule_evaluate(rule=rule, now=now)["raised"] == 1


def test_acknowledge_and_resolve(site, people, line_setup):
    rule = _rule(site, people["qm"])
    _checks(line_setup)
    services.rule_evaluate(rule=rule)
    alarm = Alarm.objects.get(rule=rule)
    with pytest.raises(DomainError):
        services.alarm_acknowledge(alarm=alarm, user=people["auditor"], comment="seen")
    alarm = services.alarm_acknowledge(alarm=alarm, user=people["supervisor"], comment="adjusting the tool")
    assert alarm.status == "acknowledged" and alarm.acknowledged_by == people["supervisor"]
    with pytest.raises(DomainError):
        services.alarm_acknowledge(alarm=alarm, user=people["qe"])
    with pytest.raises(DomainError):
        services.alarm_resolve(alarm=alarm, user=people["supervisor"], reason=" ")
    services.alarm_resolve(alarm=alarm, user=people["supervisor"], reason="tool changed, re-check passed")
    with pytest.raises(DomainError):
        services.alarm_resolve(alarm=alarm, user=people["supervisor"], reason="again")


def test_cooldown_after_resolution(site, people, line_setup, time_machine):
    # At noon, so that the hour after the cool-down stays inside the rule's "today" window.
    time_machine.move_to(timezone.localtime().replace(hour=12, minute=0), tick=False)
    rule = _rule(site, people["qm"], cooldown_minutes=60)
    _checks(line_setup)
    services.rule_evaluate(rule=rule)
    alarm = Alarm.objects.get(rule=rule)
    services.alarm_resolve(alarm=alarm, user=people["qm"], reason="handled")
    assert services.rule_evaluate(rule=rule)["raised"] == 0
    assert services.rule_evaluate(rule=rule, now=timezone.now() + datetime.timedelta(minutes=61))["raised"] == 1


def test_failed_ipqc_event_evaluates_the_line_rules_at_once(site, people, line_setup):
    from inspection.signals import inspection_rejected

    _rule(site, people["qm"], evaluate_on_event=True)
    _checks(line_setup, ok=0, failed=1)
    insp = line_setup["plan"].inspections.first()
    inspection_rejected.send(sender=type(insp), inspection=insp)
    assert Alarm.objects.filter(site=site, dim_value="L1").count() == 1


def test_rules_refuse_bad_input_and_wrong_role(site, people):
    with pytest.raises(DomainError):
        _rule(site, people["qe"])  # alarms.manage: quality manager or administrator
    for bad in [
        {"kpi": "nope"},
        {"dim_key": "customer"},
        {"comparator": "=="},
        {"threshold": "abc"},
        {"recipient_roles": "boss"},
        {"window": "week"},
        {"action": "line_stop", "dim_key": ""},
        {"window_size": 0},
    ]:
        with pytest.raises(DomainError):
            _rule(site, people["qm"], **bad)


def test_rules_of_one_site_see_only_its_records(site, other_site, make_user, people, line_setup):
    from qms.core.models import Role

    qm2 = make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    rule = _rule(other_site, qm2)
    _checks(line_setup)
    services.rule_evaluate(rule=rule)
    assert not Alarm.objects.filter(rule=rule).exists()


def test_rules_sharing_a_window_are_each_judged_on_their_own_threshold(site, people, line_setup):
    strict = _rule(site, people["qm"], name="strict", threshold=95)
    lax = _rule(site, people["qm"], name="lax", threshold=40)
    _checks(line_setup, ok=1, failed=1)  # 50 %
    totals = services.alarm_rules_evaluate(site_ids=[site.pk])
    assert totals == {"rules": 2, "raised": 1, "resolved": 0, "failed": 0}
    assert Alarm.objects.get().rule == strict and not Alarm.objects.filter(rule=lax).exists()


def test_kpi_rollup_command(site, line_setup):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    _checks(line_setup)
    call_command("kpi_rollup", "--days", "2", "--site", site.code, "--kpi", "ipqc.fpy")
    from monitoring.models import KpiDaily

    assert KpiDaily.objects.filter(kpi="ipqc.fpy", dim_key="line", dim_value="L1").exists()
    with pytest.raises(CommandError):
        call_command("kpi_rollup", "--kpi", "nope")
