"""Scorecard arithmetic: pure functions, no ORM, so the figures can be checked by hand.

lot acceptance rate (LAR) = lots accepted / lots received × 100
ppm defective             = quantity defective / quantity inspected × 1,000,000
ppm score                 = 100 at or below `ppm_full_marks`, 0 at or above `ppm_zero_marks`, linear between
SCAR response score       = SCARs answered on time / SCARs due (answered or overdue) × 100 (100 with none due)
certificate compliance    = mandatory certificates valid at month end / mandatory certificates × 100
score = Σ weight × component / Σ weight   (no lots received in the month: no score and no grade)
grade A ≥ grade_a_min > B ≥ grade_b_min > C ≥ grade_c_min > D
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Rules:
    weight_lar: int = 40
    weight_ppm: int = 30
    weight_scar: int = 20
    weight_cert: int = 10
    ppm_full_marks: int = 100
    ppm_zero_marks: int = 5000
    grade_a_min: Decimal = Decimal("90")
    grade_b_min: Decimal = Decimal("80")
    grade_c_min: Decimal = Decimal("65")

    @classmethod
    def from_policy(cls, policy) -> Rules:
        if policy is None:
            return cls()
        return cls(**{f: getattr(policy, f) for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Result:
    lar: Decimal | None
    ppm: Decimal | None
    ppm_score: Decimal | None
    scar_score: Decimal
    cert_compliance: Decimal
    score: Decimal | None
    grade: str


def _r(value, places="0.1") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def ppm_score(ppm: float, rules: Rules) -> float:
    if ppm <= rules.ppm_full_marks:
        return 100.0
    if ppm >= rules.ppm_zero_marks:
        return 0.0
    return 100.0 * (rules.ppm_zero_marks - ppm) / (rules.ppm_zero_marks - rules.ppm_full_marks)


def grade_for(score: Decimal | None, rules: Rules) -> str:
    if score is None:
        return ""
    if score >= rules.grade_a_min:
        return "A"
    if score >= rules.grade_b_min:
        return "B"
    if score >= rules.grade_c_min:
        return "C"
    return "D"


def compute(
    *,
    lots_received: int,
    lots_accepted: int,
    quantity_inspected: int,
    quantity_defective: int,
    scar_on_time: int,
    scar_late: int,
    cert_compliance: float,
    rules: Rules,
) -> Result:
    lar = 100.0 * lots_accepted / lots_received if lots_received else None
    ppm = 1_000_000.0 * quantity_defective / quantity_inspected if quantity_inspected else None
    p_score = ppm_score(ppm, rules) if ppm is not None else None
    due = scar_on_time + scar_late
    scar = 100.0 * scar_on_time / due if due else 100.0
    score = None
    if lar is not None:
        parts = [(rules.weight_lar, lar), (rules.weight_scar, scar), (rules.weight_cert, cert_compliance)]
        if p_score is not None:
            parts.append((rules.weight_ppm, p_score))
        total_weight = sum(w for w, _v in parts)
        if total_weight:
            score = _r(sum(w * v for w, v in parts) / total_weight)
    return Result(
        lar=_r(lar) if lar is not None else None,
        ppm=_r(ppm, "1") if ppm is not None else None,
        ppm_score=_r(p_score) if p_score is not None else None,
        scar_score=_r(scar),
        cert_compliance=_r(cert_compliance),
        score=score,
        grade=grade_for(score, rules),
    )
