"""KPI values on hand-built data with known answers, from the daily roll-up."""

import datetime

import pytest

from inspection.models import Stage
from inspection.signals import inspection_rejected
from monitoring import engine
from monitoring.models import KpiDaily
from nonconformance.tests import factories as ncr_f
from qms.core.audit import audit_context
from qms.core.kpis import KPIS

from . import factories as f

D1 = datetime.date(2026, 3, 2)
D2 = datetime.date(2026, 3, 20)
MAY = datetime.date(2026, 5, 10)


def roll(site, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 6, 30), keys=None):
    for kpi in engine.stored_kpis():
        if keys is None or kpi.key in keys:
            engine.rollup(kpi=kpi, site=site, day_from=start, day_to=end)


@pytest.fixture
def iqc(site, people):
    return f.plan(site, people["qe"], people["qm"], Stage.IQC)


def test_incoming_ppm_and_acceptance_by_supplier_with_empty_months(site, iqc):
    a, b = ncr_f.supplier(site, "SUP-A"), ncr_f.supplier(site, "SUP-B")
    f.inspection(iqc, when=f.at(D1), sample=100, bad=0, supplier=a)
    f.inspection(iqc, when=f.at(D2), sample=100, bad=2, supplier=a, accepted=False)
    f.inspection(iqc, when=f.at(D2), sample=50, bad=0, supplier=b)
    f.inspection(iqc, when=f.at(MAY), sample=200, bad=1, supplier=b)
    roll(site)
    ppm = KPIS["iqc.ppm"]
    pts = engine.series(ppm, site_ids=[site.pk], start=datetime.date(2026, 3, 1), end=datetime.date(2026, 5, 31))
    assert [p.period for p in pts] == [datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), datetime.date(2026, 5, 1)]
    assert pts[0].value == pytest.approx(2 / 250 * 1e6)  # 8000 ppm
    assert pts[1].value is None  # April: nothing inspected, no division by zero
    assert pts[2].value == pytest.approx(5000)
    by_a = engine.series(
        ppm, site_ids=[site.pk], start=D1, end=D2, dim_key="supplier", dim_value="SUP-A", grain="month"
    )
    assert by_a[0].value == pytest.approx(10000)
    acc = engine.total(KPIS["iqc.lot_acceptance"], site_ids=[site.pk], start=D1, end=MAY)
    assert (acc.num, acc.den, acc.value) == (3, 4, 75.0)
    worst = engine.breakdown(ppm, site_ids=[site.pk], start=D1, end=MAY, dim_key="supplier")
    assert [dim for dim, _p in worst] == ["SUP-A", "SUP-B"]


def test_first_pass_yield_leaves_reinspections_out(site, iqc):
    f.inspection(iqc, when=f.at(D1), accepted=False)
    f.inspection(iqc, when=f.at(D1, 11), accepted=True, reinspection=True)
    f.inspection(iqc, when=f.at(D1, 12), accepted=True)
    roll(site)
    assert engine.total(KPIS["iqc.fpy"], site_ids=[site.pk], start=D1, end=D1).value == 50.0
    assert engine.total(KPIS["iqc.lot_acceptance"], site_ids=[site.pk], start=D1, end=D1).value == pytest.approx(
        200 / 3
    )


def test_ipqc_defect_rate_per_line(site, people):
    ipqc = f.plan(site, people["qe"], people["qm"], Stage.IPQC, number="RG-2")
    l1, l2 = f.line(site, "L1"), f.line(site, "L2")
    s1, s2 = f.schedule(site, ipqc, l1), f.schedule(site, ipqc, l2)
    f.inspection(ipqc, when=f.at(D1), sample=5, bad=1, schedule=s1, accepted=False)
    f.inspection(ipqc, when=f.at(D1), sample=5, bad=0, schedule=s1)
    f.inspection(ipqc, when=f.at(D1), sample=5, bad=0, schedule=s2)
    roll(site)
    rate = {
        dim: p.value
        for dim, p in engine.breakdown(KPIS["ipqc.defect_rate"], site_ids=[site.pk], start=D1, end=D1, dim_key="line")
    }
    assert rate == {"L1": 10.0, "L2": 0.0}
    assert (
        engine.total(KPIS["ipqc.fpy"], site_ids=[site.pk], start=D1, end=D1, dim_key="line", dim_value="L1").value == 50
    )


def test_count_kpis_are_zero_in_empty_months_and_cut_by_defect_code(site, people):
    from nonconformance.models import DefectCode

    with audit_context(reason="test"):
        burr = DefectCode.objects.create(code="BURR", name="Burr", category="dimensional")
        rust = DefectCode.objects.create(code="RUST", name="Rust", category="appearance")
    n1 = ncr_f.open_ncr(site, people["qe"], qty_confirmed=7, defect_codes=[burr, rust])
    ncr_f.open_ncr(site, people["qe"], qty_confirmed=3, defect_codes=[burr])
    today = n1.created_at.date()
    roll(site, start=today - datetime.timedelta(days=40), end=today)
    count = KPIS["ncr.count"]
    pts = engine.series(count, site_ids=[site.pk], start=today - datetime.timedelta(days=40), end=today)
    assert pts[0].value == 0 and pts[-1].value == 2
    pareto = dict(
        (d, p.value)
        for d, p in engine.breakdown(count, site_ids=[site.pk], start=today, end=today, dim_key="defect_code")
    )
    assert pareto == {"BURR": 2, "RUST": 1}
    qty = engine.total(KPIS["ncr.quantity"], site_ids=[site.pk], start=today, end=today)
    assert qty.value == 10


def test_complaint_rate_per_million_shipped_and_zero_shipments(site, people):
    from nonconformance.services import complaint_create

    p = ncr_f.part()
    cust = ncr_f.customer()
    f.shipment(site, p, cust, qty=4000, on=D1)
    f.shipment(site, p, cust, qty=6000, on=D2)
    complaint_create(
        site=site,
        customer=cust,
        part=p,
        title="Noise",
        description="noisy",
        user=people["qe"],
        received_on=D2,
        response_due_on=D2,
    )
    roll(site)
    ppm = engine.total(KPIS["complaint.ppm"], site_ids=[site.pk], start=D1, end=D2)
    assert ppm.value == pytest.approx(100.0)  # 1 complaint / 10,000 units
    assert engine.total(KPIS["complaint.per100"], site_ids=[site.pk], start=D1, end=D2).value == pytest.approx(50.0)
    empty = engine.total(KPIS["complaint.ppm"], site_ids=[site.pk], start=MAY, end=MAY)
    assert empty.value is None


def test_rollup_is_idempotent_and_follows_corrections(site, iqc):
    insp = f.inspection(iqc, when=f.at(D1), sample=10, bad=1)
    roll(site, keys={"iqc.ppm"})
    roll(site, keys={"iqc.ppm"})
    assert KpiDaily.objects.filter(kpi="iqc.ppm", site=site, dim_key="", day=D1).count() == 1
    insp.nonconforming = 0
    insp.save(reason="typo corrected")
    roll(site, keys={"iqc.ppm"})
    assert engine.total(KPIS["iqc.ppm"], site_ids=[site.pk], start=D1, end=D1).value == 0


def test_site_isolation(site, other_site, make_user, people, iqc):
    from qms.core.models import Role

    qe2 = make_user("qe2", roles=[Role.QUALITY_ENGINEER], sites=[other_site])
    qm2 = make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    other_plan = f.plan(other_site, qe2, qm2, Stage.IQC, number="RG-9")
    f.inspection(iqc, when=f.at(D1), sample=10, bad=0)
    f.inspection(other_plan, when=f.at(D1), sample=10, bad=10)
    roll(site)
    roll(other_site)
    assert engine.total(KPIS["iqc.ppm"], site_ids=[site.pk], start=D1, end=D1).value == 0
    assert engine.total(KPIS["iqc.ppm"], site_ids=[other_site.pk], start=D1, end=D1).value == 1e6


def test_completed_inspection_updates_the_rollup_at_once(site, iqc):
    insp = f.inspection(iqc, when=f.at(D1), sample=4, bad=1, accepted=False)
    inspection_rejected.send(sender=type(insp), inspection=insp)
    assert engine.total(KPIS["iqc.ppm"], site_ids=[site.pk], start=D1, end=D1).value == 250000


def test_cycle_time_in_days(site, people):
    from nonconformance.models import Ncr

    ncr = ncr_f.open_ncr(site, people["qe"])
    with audit_context(reason="test"):
        n = Ncr.objects.get(pk=ncr.pk)
        n.status, n.closed_at = "closed", n.created_at + datetime.timedelta(days=3, hours=12)
        n.save()
    day = n.closed_at.date()
    roll(site, start=day, end=day, keys={"ncr.cycle_days"})
    assert engine.total(KPIS["ncr.cycle_days"], site_ids=[site.pk], start=day, end=day).value == pytest.approx(3.5)


def test_certificate_compliance_from_the_scorecards(site):
    from suppliers.models import Scorecard

    a, b = ncr_f.supplier(site, "SUP-A"), ncr_f.supplier(site, "SUP-B")
    month = datetime.date(2026, 3, 1)
    Scorecard.objects.create(supplier=a, site=site, month=month, cert_compliance=100)
    Scorecard.objects.create(supplier=b, site=site, month=month, cert_compliance=50)
    Scorecard.objects.create(supplier=b, site=site, month=datetime.date(2026, 4, 1), cert_compliance=None)
    roll(site, keys={"supplier.cert_compliance"})
    pts = engine.series(
        KPIS["supplier.cert_compliance"], site_ids=[site.pk], start=month, end=datetime.date(2026, 4, 30)
    )
    assert [p.value for p in pts] == [75.0, None]


def test_a_patrol_check_without_schedule_counts_on_its_work_orders_line(site, people):
    from traceability.models import WorkOrder

    ipqc = f.plan(site, people["qe"], people["qm"], Stage.IPQC, number="RG-3")
    line = f.line(site, "L7")
    with audit_context(reason="test"):
        wo = WorkOrder.objects.create(code="WO-1", site=site, part=ipqc.part, line=line, created_by=people["qe"])
    insp = f.inspection(ipqc, when=f.at(D1), sample=5, bad=1, accepted=False)
    with audit_context(reason="test"):
        insp.work_order = wo
        insp.save(reason="test")
    roll(site, keys={"ipqc.defect_rate"})
    rate = engine.total(KPIS["ipqc.defect_rate"], site_ids=[site.pk], start=D1, end=D1, dim_key="line", dim_value="L7")
    assert rate.value == 20.0


def test_scrap_and_rework_cost_at_the_standard_cost_in_force_and_unpriced_apart(site, people):
    """Quantity × the part's standard cost in force when the line was executed; a part without a cost then
    is left out of the cost and counted as not priced; a later cost change does not re-price the past."""
    from decimal import Decimal

    from qms.core.services import part_standard_cost_set

    qm = people["qm"]
    ring, ball = ncr_f.part("RING-C"), ncr_f.part("BALL-C")
    part_standard_cost_set(part=ring, cost="2.00", user=qm, reason="2026 costs", valid_from=f.at(D1, 0))
    part_standard_cost_set(part=ring, cost="3.00", user=qm, reason="steel price", valid_from=f.at(D2, 0))
    # ball: its cost is known only from May on, so its March scrap is not priced
    part_standard_cost_set(part=ball, cost="0.5", user=qm, reason="first costing", valid_from=f.at(MAY, 0))
    ring_ncr = ncr_f.open_ncr(site, people["qe"], the_part=ring)
    ball_ncr = ncr_f.open_ncr(site, people["qe"], the_part=ball)
    f.executed_lines(
        ring_ncr,
        people["qe"],
        [
            ("scrap", 10, f.at(D1), False),  # 10 × 2.00 = 20
            ("scrap", 5, f.at(D2, 12), False),  # 5 × 3.00 = 15
            ("rework", 4, f.at(D2, 12), False),  # 4 × 3.00 = 12
            ("scrap", 99, f.at(D2, 12), True),  # removed from the disposition: not counted
        ],
    )
    f.executed_lines(ball_ncr, people["qe"], [("scrap", 7, f.at(D2), False), ("scrap", 20, f.at(MAY), False)])
    roll(site)
    # a cost set today re-prices nothing of the past, even when the roll-up is rebuilt
    part_standard_cost_set(part=ring, cost="100", user=qm, reason="new costing")
    roll(site)

    def tot(key, **kw):
        return engine.total(KPIS[key], site_ids=[site.pk], start=D1, end=datetime.date(2026, 3, 31), **kw).value

    assert tot("scrap.quantity") == 22
    assert tot("scrap.cost") == pytest.approx(35.0)
    assert tot("scrap.unpriced") == 7
    assert tot("rework.cost") == pytest.approx(12.0)
    assert tot("rework.unpriced") == 0
    assert tot("scrap.cost", dim_key="part", dim_value="RING-C") == pytest.approx(35.0)
    may = engine.total(KPIS["scrap.cost"], site_ids=[site.pk], start=MAY, end=MAY).value
    assert may == pytest.approx(10.0)  # 20 × 0.5
    assert engine.total(KPIS["scrap.unpriced"], site_ids=[site.pk], start=MAY, end=MAY).value == 0
    # the drill-down of "not priced" lists the NCR of the part without a cost, not the priced ones
    start = datetime.datetime.combine(D1, datetime.time.min, tzinfo=datetime.UTC)
    rows = engine.records(KPIS["scrap.unpriced"], site_ids=[site.pk], start=start, end=f.at(datetime.date(2026, 4, 1)))
    assert {r["code"] for r in rows} == {ball_ncr.code}
    ring.refresh_from_db()
    assert ring.standard_cost == Decimal("100")
    assert [c.standard_cost for c in ring.costs.all()] == [Decimal("100"), Decimal("3"), Decimal("2")]
