"""IPQC schedules name the running work order's current operation; a failed patrol check stops it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection import selectors, services
from inspection.models import Inspection, IpqcSchedule, LineStop, Stage, Station
from qms.core.audit import audit_context
from qms.core.errors import DomainError

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_setup(site, people):
    from traceability.services import operation_start, work_order_advance, work_order_create

    p = f.part("BRG-OP")
    line = f.gauge(site, "LINE-OP")
    plan = f.plan(site, p, people["qe"], people["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=2, aql="")
    now = timezone.now()
    with audit_context(reason="test"):
        st = Station.objects.create(site=site, code="ST-OP", name="Line patrol", stages="IPQC", line=line)
        st.inspectors.set([people["inspector"]])
        sched = IpqcSchedule.objects.create(
            site=site, plan=plan, line=line, station=st, every_minutes=120, pieces=2, grace_minutes=15,
            next_due_at=now - datetime.timedelta(minutes=5),
        )  # fmt: skip
    wo = work_order_create(site=site, part=p, line=line, operations=("Pressing", "Greasing"), user=None)
    work_order_advance(work_order=wo, step="setup", user=people["supervisor"])
    work_order_advance(work_order=wo, step="run", user=people["supervisor"])
    op1, op2 = wo.operations.order_by("sequence")
    operation_start(operation=op1, user=people["supervisor"])
    return {"schedule": sched, "wo": wo, "op1": op1, "op2": op2, "now": now}


def test_due_check_names_the_running_operation(client, people, line_setup):
    assert services.ipqc_due_run(now=line_setup["now"])["created"] == 1
    check = Inspection.objects.get(schedule=line_setup["schedule"])
    assert check.work_order == line_setup["wo"] and check.operation == line_setup["op1"]
    client.force_login(people["inspector"])
    page = client.get(reverse("inspection:worklist"))
    assert check.code in page.text and "Pressing" in page.text and line_setup["wo"].code in page.text
    assert "Pressing" in client.get(reverse("inspection:detail", args=[check.code])).text


def test_due_check_without_a_running_work_order_names_none(site, people, line_setup):
    from traceability.services import operation_complete, operation_start, work_order_advance

    operation_complete(operation=line_setup["op1"], user=people["supervisor"])
    operation_start(operation=line_setup["op2"], user=people["supervisor"])
    operation_complete(operation=line_setup["op2"], user=people["supervisor"])
    work_order_advance(work_order=line_setup["wo"], step="complete", user=people["supervisor"])
    services.ipqc_due_run(now=line_setup["now"])
    check = Inspection.objects.get(schedule=line_setup["schedule"])
    assert check.work_order is None and check.operation is None


def test_failed_patrol_check_blocks_the_operation_until_the_recheck_passes(people, line_setup):
    from traceability.services import operation_complete, operation_start

    services.ipqc_due_run(now=line_setup["now"])
    check = Inspection.objects.get(schedule=line_setup["schedule"])
    f.fill(check, people["inspector"], bad=(1,))
    services.inspection_complete(inspection=check, user=people["inspector"], credential=f.cred(people["inspector"]))
    stop = LineStop.objects.get(inspection=check)
    assert stop.operation == line_setup["op1"] and stop.work_order == line_setup["wo"]
    operation_complete(operation=line_setup["op1"], user=people["supervisor"])
    verdict = selectors.handover_verdict(line_setup["op2"])
    assert not verdict.ok and any(check.code in r and "Line stop" in r for r in verdict.reasons)
    with pytest.raises(DomainError, match="Line stop"):
        operation_start(operation=line_setup["op2"], user=people["supervisor"])
    stop = services.line_stop_correct(stop=stop, correction="press re-shimmed", user=people["supervisor"])
    assert stop.recheck.operation == line_setup["op1"]
    f.fill(stop.recheck, people["inspector"])
    services.inspection_complete(
        inspection=stop.recheck, user=people["inspector"], credential=f.cred(people["inspector"])
    )
    assert selectors.handover_verdict(line_setup["op2"]).ok
    assert operation_start(operation=line_setup["op2"], user=people["supervisor"]).status == "running"
