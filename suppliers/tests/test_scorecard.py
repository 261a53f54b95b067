"""Scorecard arithmetic on a case computed by hand."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from suppliers import scoring, services
from suppliers.tests.factories import approved_supplier, make_part

MONTH = datetime.date(2026, 4, 1)


def test_pure_arithmetic_by_hand():
    rules = scoring.Rules()  # weights 40/30/20/10, ppm 100..5000, A 90 B 80 C 65
    r = scoring.compute(
        lots_received=10, lots_accepted=9, quantity_inspected=20000, quantity_defective=50,
        scar_on_time=1, scar_late=1, cert_compliance=100.0, rules=rules,
    )  # fmt: skip
    # LAR 90 %; ppm 2500 -> score (5000-2500)/(4900) = 51.02; SCAR 50 %; certificates 100 %
    # score = (40*90 + 30*51.0204 + 20*50 + 10*100) / 100 = 3600+1530.61+1000+1000 = 71.3 -> C
    assert r.lar == Decimal("90.0")
    assert r.ppm == Decimal("2500")
    assert r.ppm_score == Decimal("51.0")
    assert r.scar_score == Decimal("50.0")
    assert r.score == Decimal("71.3")
    assert r.grade == "C"


def test_grades_and_edges():
    rules = scoring.Rules(grade_a_min=Decimal("95"))
    assert scoring.grade_for(Decimal("95"), rules) == "A"
    assert scoring.grade_for(Decimal("94.9"), rules) == "B"
    assert scoring.grade_for(Decimal("64.9"), rules) == "D"
    assert scoring.ppm_score(100, rules) == 100 and scoring.ppm_score(5000, rules) == 0
    none = scoring.compute(
        lots_received=0, lots_accepted=0, quantity_inspected=0, quantity_defective=0,
        scar_on_time=0, scar_late=0, cert_compliance=100, rules=rules,
    )  # fmt: skip
    assert none.score is None and none.grade == ""


@pytest.mark.django_db
def test_recorded_inputs_give_the_hand_computed_scorecard(site, sqe):
    part = make_part()
    with time_machine.travel(datetime.date(2026, 3, 1), tick=False):
        supplier = approved_supplier(sqe, site, part=part)
    with time_machine.travel(datetime.date(2026, 5, 10), tick=False):
        for i in range(10):
            services.supplier_receipt_record(
                supplier=supplier, part=part, site=site, lot_code=f"L{i}", accepted=i != 0,
                quantity_inspected=2000, quantity_defective=23 if i == 0 else 3, on=MONTH.replace(day=i + 1),
            )  # fmt: skip
        # Calling again for the same lot corrects it rather than counting it twice.
        services.supplier_receipt_record(
            supplier=supplier, part=part, site=site, lot_code="L0", accepted=False,
            quantity_inspected=2000, quantity_defective=23, on=MONTH.replace(day=1),
        )  # fmt: skip
        services.supplier_ncr_record(supplier=supplier, site=site, ncr_code="NCR-1", on=MONTH.replace(day=1))
        services.supplier_ncr_record(supplier=supplier, site=site, ncr_code="NCR-1", on=MONTH.replace(day=1))
        services.supplier_scar_record(
            supplier=supplier,
            site=site,
            scar_code="SCAR-1",
            issued_on=MONTH.replace(day=2),
            due_on=MONTH.replace(day=16),
        )
        services.supplier_scar_record(
            supplier=supplier, site=site, scar_code="SCAR-2", issued_on=MONTH.replace(day=3), due_on=MONTH.replace(day=17),
            responded_on=MONTH.replace(day=10),
        )  # fmt: skip
        card = services.scorecard_compute(supplier=supplier, site=site, month=MONTH)
    # 10 lots, 9 accepted; defective 23 + 9*3 = 50 of 20000 -> 2500 ppm; SCAR-1 overdue, SCAR-2 on time
    assert (card.lots_received, card.lots_accepted, card.lots_rejected) == (10, 9, 1)
    assert (card.quantity_inspected, card.quantity_defective, card.ncr_count) == (20000, 50, 1)
    assert (card.scar_count, card.scar_on_time, card.scar_late) == (2, 1, 1)
    assert card.scar_avg_days == Decimal("7.0")
    assert card.cert_compliance == Decimal("100.0")
    assert (card.lar, card.ppm, card.score, card.grade) == (Decimal("90.0"), Decimal("2500"), Decimal("71.3"), "C")
