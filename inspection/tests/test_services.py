"""Inspections, judgement, gates (FAI, IPQC stop, handover, release), switching, idempotency."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from inspection import checks, selectors, services, signals
from inspection.models import Inspection, Kind, LineStop, LotRelease, Measurement, Stage, SupplierSwitching
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.models import Notification

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ring(site, people):
    p = f.part("RG-6204-IN")
    pl = f.plan(site, p, people["qe"], people["qm"])
    return p, pl


def _iqc(site, ring, qty=1000, sup=None):
    from traceability.models import Lot
    from traceability.signals import lot_received

    p, _pl = ring
    lot = f.lot(site, p, qty, sup=sup or f.supplier())
    lot_received.send(sender=Lot, lot=lot)
    return lot, Inspection.objects.get(lot=lot, stage=Stage.IQC)


@pytest.mark.parametrize(
    "value, ok",
    [
        ("9.98", True),
        ("10.02", True),
        ("9.979", False),
        ("10.021", False),
        ("10.0200000", True),
        ("10.020001", False),
        ("9.979999", False),
        ("10", True),
        ("-10", False),
    ],
)
def test_limits_are_inclusive_and_exact(site, people, ring, value, ok):
    _p, pl = ring
    c = pl.characteristics.get()
    assert (c.lower_limit, c.upper_limit) == (Decimal("9.98"), Decimal("10.02"))
    assert services.judge(c, services.parse_value(c, value)) is ok


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["10.02000001", "NaN", "Infinity", "1e999", "1" * 40, "1,0,0"])
def test_values_the_database_cannot_hold_exactly_are_refused(site, people, ring, value):
    # numeric(16, 6) would round 10.02000001 to 10.020000 and store a reject as a pass.
    _p, pl = ring
    c = pl.characteristics.get()
    with pytest.raises(services.InspectionError):
        services.parse_value(c, value)


def test_plan_approval_is_signed_and_not_by_author(site, people):
    p = f.part("X-1")
    pl = services.plan_create(site=site, part=p, stage=Stage.IQC, title="x", user=people["qe"])
    services.characteristic_add(plan=pl, user=people["qe"], name="c", nominal="1", tolerance="0.1")
    with pytest.raises(DomainError, match="authored"):
        services.plan_approve(plan=pl, user=people["qe"], credential=f.cred(people["qe"]))
    pl = services.plan_approve(plan=pl, user=people["qm"], credential=f.cred(people["qm"]))
    assert pl.status == "approved"
    v2 = services.plan_new_version(plan=pl, user=people["qe"])
    assert v2.version == 2 and v2.characteristics.count() == 1
    services.plan_approve(plan=v2, user=people["qm"], credential=f.cred(people["qm"]))
    pl.refresh_from_db()
    assert pl.status == "obsolete"


def test_receiving_a_lot_creates_iqc_with_sampling_plan(site, people, ring):
    lot, insp = _iqc(site, ring, qty=2000)
    assert insp.status == "pending" and insp.plan == ring[1]
    assert (insp.code_letter, insp.sample_size, insp.accept_number, insp.reject_number) == ("K", 125, 3, 4)
    assert insp.severity == "normal"
    # idempotent: a second signal creates nothing
    assert services.iqc_create_for_lot(lot=lot) == insp


def test_iqc_accept_releases_lot_and_records_scorecard(site, people, ring, django_capture_on_commit_callbacks):
    from suppliers.models import ReceiptRecord

    with audit_context(reason="test"):
        site.auto_release_after_iqc = True  # the site permits automatic release after an accepted IQC
        site.save()
    lot, insp = _iqc(site, ring, qty=20)
    f.fill(insp, people["inspector"])
    got = []
    signals.inspection_accepted.connect(
        lambda sender, inspection, **kw: got.append(inspection.code), weak=False, dispatch_uid="t1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    signals.inspection_accepted.disconnect(dispatch_uid="t1")
    lot.refresh_from_db()
    assert lot.status == "released"
    release = LotRelease.objects.get(lot=lot)
    # recorded under the explicit system actor, with the accepting inspection's signature as evidence
    assert release.automatic and release.released_by.username == "system"
    assert not release.released_by.has_usable_password()  # nobody can sign in as the system actor
    assert release.evidence.meaning == "approved" and release.evidence.object_id == str(insp.pk)
    assert got == [insp.code]
    rec = ReceiptRecord.objects.get(lot_code=lot.code)
    assert rec.accepted and rec.quantity_inspected == insp.sample_size


def test_iqc_reject_holds_lot_and_signals(site, people, ring, django_capture_on_commit_callbacks):
    lot, insp = _iqc(site, ring, qty=20)  # n=5 (C), Ac 0 at AQL 1.0 -> D? check Re from the record
    f.fill(insp, people["inspector"], bad=range(1, insp.reject_number + 1))
    got = []
    signals.inspection_rejected.connect(
        lambda sender, inspection, **kw: got.append(inspection.code), weak=False, dispatch_uid="t2"
    )
    with django_capture_on_commit_callbacks(execute=True):
        insp = services.inspection_complete(
            inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"])
        )
    signals.inspection_rejected.disconnect(dispatch_uid="t2")
    lot.refresh_from_db()
    assert insp.status == "rejected" and "rejection number" in insp.result_note
    assert lot.status == "quarantine" and lot.is_on_hold
    assert got == [insp.code]


def test_incomplete_inspection_cannot_be_accepted(site, people, ring):
    _lot, insp = _iqc(site, ring, qty=20)
    c = insp.plan.characteristics.get()
    services.measurements_record(
        inspection=insp,
        values=[{"characteristic": c.pk, "sample_no": 1, "raw": "10"}],
        submission_key=uuid.uuid4(),
        user=people["inspector"],
    )
    with pytest.raises(DomainError, match="missing"):
        services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))


def test_same_submission_records_nothing_twice(site, people, ring):
    _lot, insp = _iqc(site, ring, qty=20)
    c = insp.plan.characteristics.get()
    key = uuid.uuid4()
    values = [{"characteristic": c.pk, "sample_no": n, "raw": "10.01"} for n in (1, 2)]
    assert (
        services.measurements_record(
            inspection=insp, values=values, submission_key=key, user=people["inspector"]
        ).recorded
        == 2
    )
    assert (
        services.measurements_record(
            inspection=insp, values=values, submission_key=key, user=people["inspector"]
        ).recorded
        == 0
    )
    assert Measurement.objects.filter(inspection=insp).count() == 2
    with pytest.raises(DomainError, match="already recorded"):
        services.measurements_record(
            inspection=insp, values=values, submission_key=uuid.uuid4(), user=people["inspector"]
        )


def test_gauge_past_calibration_refuses_only_its_values(site, people):
    g = f.gauge(site, "MIC-9", due_in_days=-5)
    ok_gauge = f.gauge(site, "MIC-1", due_in_days=30)
    p = f.part("G-1")
    f.plan(
        site, p, people["qe"], people["qm"],
        chars=[
            {"name": "Width", "nominal": "5", "tolerance": "0.1", "gauge": g},
            {"name": "Height", "nominal": "3", "tolerance": "0.1", "gauge": ok_gauge},
        ],
    )  # fmt: skip
    lot, insp = _iqc(site, (p, None), qty=10)
    width, height = insp.plan.characteristics.order_by("sequence", "pk")
    result = services.measurements_record(
        inspection=insp,
        values=[
            {"characteristic": width.pk, "sample_no": 1, "raw": "5"},
            {"characteristic": height.pk, "sample_no": 1, "raw": "3"},
        ],
        submission_key=uuid.uuid4(),
        user=people["inspector"],
    )
    assert result.recorded == 1 and list(result.refused) == [width.pk]
    due = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    msg = result.refused[width.pk]
    assert "MIC-9" in msg and due in msg and "7.1.5" in msg
    assert list(Measurement.objects.filter(inspection=insp).values_list("characteristic_id", flat=True)) == [height.pk]
    # only the gauge's values: nothing recorded, nothing half-written
    only = services.measurements_record(
        inspection=insp,
        values=[{"characteristic": width.pk, "sample_no": 2, "raw": "5"}],
        submission_key=uuid.uuid4(),
        user=people["inspector"],
    )
    assert only.recorded == 0 and width.pk in only.refused
    assert Measurement.objects.filter(inspection=insp).count() == 1


def test_switching_to_tightened_discontinued_and_restored(site, people, ring, django_capture_on_commit_callbacks):
    sup = f.supplier("SUP-T")
    results = []
    for _ in range(2):
        lot, insp = _iqc(site, ring, qty=1000, sup=sup)
        f.fill(insp, people["inspector"], bad=range(1, insp.reject_number + 1))
        with django_capture_on_commit_callbacks(execute=True):
            services.inspection_complete(
                inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"])
            )
        results.append(insp.severity)
    sw = SupplierSwitching.objects.get(supplier=sup)
    assert results == ["normal", "normal"] and sw.severity == "tightened"
    event = sw.events.get()
    assert (event.from_severity, event.to_severity, event.cause) == ("normal", "tightened", "two_of_five_rejected")
    _lot, nxt = _iqc(site, ring, qty=1000, sup=sup)
    assert nxt.severity == "tightened" and (nxt.sample_size, nxt.accept_number) == (80, 1)  # J tightened at 1.0
    # five lots not accepted on tightened: discontinued; receipts refused
    for i in range(5):
        insp = nxt if i == 0 else _iqc(site, ring, qty=1000, sup=sup)[1]
        f.fill(insp, people["inspector"], bad=range(1, insp.reject_number + 1))
        with django_capture_on_commit_callbacks(execute=True):
            services.inspection_complete(
                inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"])
            )
    sw.refresh_from_db()
    assert sw.severity == "discontinued"
    reasons = checks.receipt_check(site=site, part=ring[0], supplier=sup)
    assert reasons and "discontinued" in reasons[0]
    with pytest.raises(DomainError):
        services.switching_restore(switching=sw, user=people["qe"], reason="8D closed")  # not the authority
    services.switching_restore(switching=sw, user=people["qm"], reason="8D closed, SCAR verified")
    sw.refresh_from_db()
    assert sw.severity == "tightened" and checks.receipt_check(site=site, part=ring[0], supplier=sup) == []


def _work_order(site, p, ops=("Turning", "Assembly")):
    from traceability.services import work_order_create

    return work_order_create(site=site, part=p, operations=ops, user=None)


def test_fai_gate_blocks_run_until_passed(site, people, django_capture_on_commit_callbacks):
    from traceability.services import work_order_advance

    p = f.part("BRG-1")
    f.plan(site, p, people["qe"], people["qm"], stage=Stage.FAI, scheme="fixed", fixed_sample_size=1, aql="")
    wo = _work_order(site, p)
    work_order_advance(work_order=wo, step="setup", user=people["supervisor"])
    with pytest.raises(DomainError, match="first article"):
        work_order_advance(work_order=wo, step="run", user=people["supervisor"])
    fai = services.inspection_create_fai(work_order=wo, user=people["inspector"])
    f.fill(fai, people["inspector"], bad=(1,))
    services.inspection_complete(inspection=fai, user=people["inspector"], credential=f.cred(people["inspector"]))
    with pytest.raises(DomainError, match=f"{fai.code} failed.*Out of limits: Bore"):
        work_order_advance(work_order=wo, step="run", user=people["supervisor"])
    fai2 = services.inspection_create_fai(work_order=wo, user=people["inspector"])
    f.fill(fai2, people["inspector"])
    services.inspection_complete(inspection=fai2, user=people["inspector"], credential=f.cred(people["inspector"]))
    assert work_order_advance(work_order=wo, step="run", user=people["supervisor"]).status == "running"


def test_handover_and_ipqc_stop(site, people):
    from traceability.models import Operation
    from traceability.services import operation_complete, operation_start, work_order_advance

    p = f.part("BRG-2")
    ipqc = f.plan(site, p, people["qe"], people["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=2, aql="")
    wo = _work_order(site, p)
    work_order_advance(work_order=wo, step="setup", user=people["supervisor"])
    work_order_advance(work_order=wo, step="run", user=people["supervisor"])
    op1, op2 = Operation.objects.filter(work_order=wo).order_by("sequence")
    operation_start(operation=op1, user=people["supervisor"])
    check = services.inspection_create(
        stage=Stage.IPQC, plan=ipqc, work_order=wo, operation=op1, lot_size=2, user=people["inspector"]
    )
    operation_complete(operation=op1, user=people["supervisor"])
    verdict = selectors.handover_verdict(op2)
    assert not verdict.ok and check.code in verdict.reasons[0]
    f.fill(check, people["inspector"], bad=(1,))
    services.inspection_complete(inspection=check, user=people["inspector"], credential=f.cred(people["inspector"]))
    stop = LineStop.objects.get(inspection=check)
    assert Notification.objects.filter(recipient=people["supervisor"], subject__contains="LINE STOP").exists()
    with pytest.raises(DomainError) as err:
        operation_start(operation=op2, user=people["supervisor"])
    assert "Line stop" in str(err.value) and "Handover" in str(err.value)
    with pytest.raises(DomainError):
        services.line_stop_correct(stop=stop, correction="re-shimmed press", user=people["inspector"])
    stop = services.line_stop_correct(stop=stop, correction="re-shimmed press", user=people["supervisor"])
    assert stop.recheck.is_open and not selectors.handover_verdict(op2).ok
    f.fill(stop.recheck, people["inspector"])
    services.inspection_complete(
        inspection=stop.recheck, user=people["inspector"], credential=f.cred(people["inspector"])
    )
    stop.refresh_from_db()
    assert stop.cleared_at is not None
    assert selectors.handover_verdict(op2).ok
    assert operation_start(operation=op2, user=people["supervisor"]).status == "running"


def _fqc_lot(site, people, requires_qa=False):
    p = f.part("FG-1")
    pl = f.plan(site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql="")
    if requires_qa:
        with audit_context(reason="test"):
            site.requires_qa_release = True
            site.save()
    lot = f.lot(site, p, 100)
    insp = services.inspection_create(stage=Stage.FQC, plan=pl, lot=lot, user=people["inspector"])
    return lot, insp


def test_release_gate_reasons_and_segregation(site, people):
    lot, insp = _fqc_lot(site, people)
    with pytest.raises(DomainError, match="must pass first"):
        services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))
    assert not LotRelease.objects.exists()
    f.fill(insp, people["qe"])  # a quality engineer inspected this lot
    services.inspection_complete(inspection=insp, user=people["qe"], credential=f.cred(people["qe"]))
    with pytest.raises(DomainError, match="inspected lot"):
        services.lot_release_sign(lot=lot, user=people["qe"], credential=f.cred(people["qe"]))
    with pytest.raises(DomainError):
        services.lot_release_sign(lot=lot, user=people["inspector"], credential=f.cred(people["inspector"]))  # no right
    rel = services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]), reason="all passed")
    lot.refresh_from_db()
    assert lot.status == "released" and rel.released_by == people["qm"]
    with pytest.raises(DomainError, match="already released"):
        services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))


def test_release_refused_while_on_hold(site, people):
    from traceability.services import lot_hold_place

    lot, insp = _fqc_lot(site, people)
    f.fill(insp, people["inspector"])
    services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    lot_hold_place(lot=lot, source="ncr", reference="NCR-1", reason="complaint", user=people["qm"])
    with pytest.raises(DomainError, match="on hold"):
        services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))
    assert not LotRelease.objects.exists()


def test_gmp_site_needs_separate_signed_release(site, people, ring, django_capture_on_commit_callbacks):
    from traceability.services import lot_status_release

    with audit_context(reason="test"):
        site.requires_qa_release = True
        site.save()
    lot, insp = _iqc(site, ring, qty=20)
    f.fill(insp, people["inspector"])
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    lot.refresh_from_db()
    assert lot.status == "quarantine"
    with pytest.raises(DomainError, match="e-signed release"):
        lot_status_release(lot=lot, user=people["qm"], reason="try without signature", signature=None)
    services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))
    lot.refresh_from_db()
    assert lot.status == "released"


def test_ipqc_schedule_due_and_overdue_reminders(site, people):
    from inspection.models import IpqcSchedule, Station

    p = f.part("BRG-3")
    line = f.gauge(site, "LINE-X")
    pl = f.plan(site, p, people["qe"], people["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=5, aql="")
    now = timezone.now()
    with audit_context(reason="test"):
        st = Station.objects.create(site=site, code="ST-L", name="Line", stages="IPQC", line=line)
        st.inspectors.set([people["inspector"]])
        IpqcSchedule.objects.create(
            site=site,
            plan=pl,
            line=line,
            station=st,
            every_minutes=120,
            pieces=5,
            grace_minutes=15,
            next_due_at=now - datetime.timedelta(minutes=150),
        )
    out = services.ipqc_due_run(now=now)
    assert out["created"] == 2
    checks_ = list(Inspection.objects.filter(stage=Stage.IPQC).order_by("due_at"))
    assert [c.sample_size for c in checks_] == [5, 5]
    assert Notification.objects.filter(recipient=people["inspector"], subject__contains="is due").count() == 2
    assert Notification.objects.filter(recipient=people["supervisor"], subject__contains="overdue").count() == 2
    again = services.ipqc_due_run(now=now)
    assert again == {"created": 0, "reminded": 0, "overdue": 0}
    assert [i.code for i in selectors.worklist(people["inspector"], now=now)] == [c.code for c in checks_]


def test_results_for_lots_and_overlay(site, people, ring):
    lot, insp = _iqc(site, ring, qty=20)
    res = selectors.results_for_lots([lot.pk])
    assert res[lot.pk][0]["code"] == insp.code and res[lot.pk][0]["status"] == "pending"
    overlay = selectors.trace_overlay([lot.pk])
    assert overlay[lot.pk][0]["kind"] == "inspection" and overlay[lot.pk][0]["ok"] is None


def test_reinspection_after_rework(site, people, ring, django_capture_on_commit_callbacks):
    lot, insp = _iqc(site, ring, qty=20)
    f.fill(insp, people["inspector"], bad=range(1, insp.reject_number + 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    again = services.inspection_create_reinspection(lot=lot, reason="100% sorted", user=people["inspector"])
    assert again.is_reinspection and again.stage == Stage.IQC and again.status == "pending"


def test_class_scheme_judges_each_class(site, people):
    p = f.part("CL-1")
    pl = f.plan(
        site,
        p,
        people["qe"],
        people["qm"],
        stage=Stage.FQC,
        scheme="class",
        aql="",
        aql_major="0.65",
        aql_minor="2.5",
        chars=[
            {"name": "Crack", "kind": Kind.ATTRIBUTE, "defect_class": "critical"},
            {"name": "Bore", "nominal": "10", "tolerance": "0.02", "defect_class": "minor"},
        ],
    )
    lot = f.lot(site, p, 2000)
    insp = services.inspection_create(stage=Stage.FQC, plan=pl, lot=lot, user=people["inspector"])
    assert insp.sample_size == 125 and insp.class_plans["critical"] == {"n": 125, "ac": 0, "re": 1, "aql": ""}
    f.fill(insp, people["inspector"], bad=(7,))  # one critical crack
    insp = services.inspection_complete(
        inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"])
    )
    assert insp.status == "rejected" and "critical" in insp.result_note
