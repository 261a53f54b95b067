"""Objectives: progress with traffic light and forecast, reminders once per period, escalation, review."""

import datetime

import pytest

from inspection.models import Stage
from monitoring import engine, services
from monitoring.selectors import objective_progress, objective_streak
from nonconformance.tests import factories as ncr_f
from qms.core.errors import DomainError
from qms.core.models import Notification

from . import factories as f

TODAY = datetime.date(2026, 3, 16)


@pytest.fixture
def ppm_objective(site, people):
    return services.objective_create(
        site=site, title="Incoming ppm ≤ 500", kpi="iqc.ppm", comparator="<=", target=500, year=2026,
        owner=people["sqe"], user=people["qm"],
    )  # fmt: skip


def _iqc(site, people, day, bad, sample=1000):
    iqc = getattr(_iqc, "plan", None)
    if iqc is None or iqc.site_id != site.pk:
        iqc = _iqc.plan = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    f.inspection(iqc, when=f.at(day), sample=sample, bad=bad)
    engine.rollup(kpi=engine.KPIS["iqc.ppm"], site=site, day_from=day, day_to=day)


def test_progress_traffic_light(site, people, ppm_objective):
    _iqc.plan = None
    p = objective_progress(ppm_objective, today=TODAY)
    assert p.status == "grey" and p.period_label == "2026-03"
    _iqc(site, people, TODAY, bad=0)
    assert objective_progress(ppm_objective, today=TODAY).status == "green"
    _iqc(site, people, TODAY, bad=1, sample=1000)  # 500 ppm over 2000: 500 meets <= 500
    assert objective_progress(ppm_objective, today=TODAY).actual == pytest.approx(500)
    _iqc(site, people, TODAY, bad=5, sample=1000)  # 2000 ppm
    p = objective_progress(ppm_objective, today=TODAY)
    assert p.status == "red" and p.forecast == p.actual  # a rate is forecast as it stands


def test_count_objective_is_forecast_to_period_end(site, people):
    obj = services.objective_create(
        site=site, title="NCRs ≤ 10 a month", kpi="ncr.count", comparator="<=", target=10, year=2026,
        owner=people["qe"], user=people["qm"],
    )  # fmt: skip
    ncr = ncr_f.open_ncr(site, people["qe"])
    day = ncr.created_at.date()
    for _ in range(5):
        ncr_f.open_ncr(site, people["qe"])
    engine.rollup(kpi=engine.KPIS["ncr.count"], site=site, day_from=day, day_to=day)
    obj.year = day.year
    p = objective_progress(obj, today=day)
    assert p.actual == 6
    period_days = (p.period_end - p.period_start).days + 1
    assert p.forecast == pytest.approx(6 * period_days / day.day)


def test_reminder_once_per_period_and_escalation(site, people, ppm_objective):
    _iqc.plan = None
    _iqc(site, people, datetime.date(2026, 2, 10), bad=9)
    _iqc(site, people, TODAY, bad=9)
    assert objective_streak(ppm_objective, today=TODAY) == 2
    services.objective_reminders_send(today=TODAY)
    services.objective_reminders_send(today=TODAY)
    owner_notes = Notification.objects.filter(recipient=people["sqe"], dedup_key__startswith="objective:")
    assert owner_notes.count() == 1
    assert (
        Notification.objects.filter(recipient=people["qm"], dedup_key__startswith="objective-escalation:").count() == 1
    )
    services.objective_reminders_send(today=datetime.date(2026, 4, 2))  # a new period: reminded again (no data = grey)
    _iqc(site, people, datetime.date(2026, 4, 2), bad=9)
    services.objective_reminders_send(today=datetime.date(2026, 4, 2))
    assert owner_notes.count() == 2


def test_objective_input_and_roles(site, other_site, people):
    base = dict(site=site, title="x", kpi="iqc.ppm", comparator="<=", target=1, year=2026, owner=people["qe"])
    with pytest.raises(DomainError):
        services.objective_create(user=people["qe"], **base)  # objectives.manage is the quality manager's
    for bad in [{"kpi": "x"}, {"comparator": "!"}, {"target": "lots"}, {"dim_key": "line"}, {"year": 1900},
                {"dim_key": "supplier", "dim_value": ""}, {"owner": people["auditor"]}]:  # fmt: skip
        with pytest.raises(DomainError):
            services.objective_create(user=people["qm"], **{**base, **bad})


def test_review_is_signed_and_not_by_the_owner(site, people, ppm_objective):
    from compliance.signatures import signatures_for
    from inspection.tests.factories import cred

    with pytest.raises(DomainError):
        services.objective_review_sign(
            objective=ppm_objective, user=people["sqe"], credential=cred(people["sqe"]), conclusion="ok"
        )
    review = services.objective_review_sign(
        objective=ppm_objective, user=people["qm"], credential=cred(people["qm"]), conclusion="Kept for Q2", today=TODAY
    )
    assert review.period_label == "2026-03" and signatures_for(review)[0].meaning == "reviewed"
