"""The management view's figures: one roll-up query, cached per site and keyed on the roll-up version;
the number of queries does not grow with the data, the objectives or the sites."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inspection.models import Stage
from monitoring import dashboard, engine, selectors, services
from monitoring.models import Objective
from nonconformance.tests import factories as ncr_f
from qms.core.kpis import KPIS
from qms.core.models import Role

from . import factories as f


@pytest.fixture
def crew(make_user, site, other_site):
    """People of both sites."""
    both = [site, other_site]
    return {
        "qe": make_user("qe2", roles=[Role.QUALITY_ENGINEER], sites=both),
        "qm": make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=both),
        "sqe": make_user("sqe2", roles=[Role.SUPPLIER_QUALITY_ENGINEER], sites=both),
    }


def _objective(site, people, kpi="iqc.ppm", **kw):
    return services.objective_create(
        site=site, title=kw.pop("title", kpi), kpi=kpi, comparator=kw.pop("comparator", "<="),
        target=kw.pop("target", 500), year=timezone.localdate().year, owner=people["sqe"], user=people["qm"], **kw,
    )  # fmt: skip


def _get(client):
    with CaptureQueriesContext(connection) as q:
        r = client.get(reverse("monitoring:dashboard"))
    assert r.status_code == 200
    return r, [x["sql"] for x in q.captured_queries]


def _rollup_sql(sqls):
    return [s for s in sqls if "monitoring_kpidaily" in s]


def test_queries_constant_in_data_objectives_and_sites(login, crew, site, other_site):
    people = crew
    qm2 = crew["qm"]
    iqc = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    f.inspection(iqc, when=timezone.now(), sample=100, bad=1)
    engine.rollup_recent(days=2, sites=[site])
    _objective(site, people)
    client = login(qm2)
    _r, small = _get(client)
    assert len(_rollup_sql(small)) == 1  # every chart and objective from one roll-up query

    # much more data: a year of inspections on three lines, NCRs, more objectives (narrowed ones too),
    # and records at the second site
    ipqc = f.plan(site, people["qe"], people["qm"], Stage.IPQC, number="RG-2")
    schedules = [f.schedule(site, ipqc, f.line(site, f"L{i}")) for i in range(3)]
    for day in range(0, 360, 9):
        when = timezone.now() - datetime.timedelta(days=day)
        f.inspection(iqc, when=when, sample=50, bad=day % 3, supplier=None)
        for s in schedules:
            f.inspection(ipqc, when=when, sample=5, bad=day % 2, schedule=s, accepted=day % 2 == 0)
    for _i in range(3):
        ncr_f.open_ncr(site, people["qe"])
    other_iqc = f.plan(other_site, people["qe"], people["qm"], Stage.IQC, number="RG-9")
    f.inspection(other_iqc, when=timezone.now(), sample=10, bad=1)
    engine.rollup_recent(days=365, sites=[site, other_site])
    for i in range(6):
        _objective(site, people, kpi="ipqc.fpy", comparator=">=", target=95, dim_key="line", dim_value=f"L{i % 3}",
                   title=f"line {i}")  # fmt: skip
    _objective(other_site, people, kpi="ncr.count", target=3)
    cache.clear()
    _r, big = _get(client)
    assert len(big) == len(small)
    assert len(_rollup_sql(big)) == 1
    # warm: the same page without touching the roll-up table
    _r, warm = _get(client)
    assert _rollup_sql(warm) == [] and len(warm) == len(big) - 1


def test_a_new_record_shows_at_once_through_the_rollup_version(login, people, site):
    iqc = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    f.inspection(iqc, when=timezone.now(), sample=100, bad=0)
    engine.rollup_recent(days=1, sites=[site])
    _objective(site, people)
    client = login(people["qm"])
    first, _q = _get(client)
    _again, warm = _get(client)
    assert _rollup_sql(warm) == []
    f.inspection(iqc, when=timezone.now(), sample=100, bad=2, accepted=False)
    engine.rollup_recent(days=1, sites=[site])  # as the inspection's event does: the site's version moves
    after, fresh = _get(client)
    assert len(_rollup_sql(fresh)) == 1
    obj = Objective.objects.get(site=site)
    progress = selectors.objective_progress(obj)
    assert progress.actual == pytest.approx(10000)  # 2 / 200 × 1e6
    assert b"10000" in after.content and b"10000" not in first.content


def test_panel_figures_equal_the_engine_reads(crew, site, other_site):
    """The dashboard's sums give the same answers as engine.series / breakdown and the objectives' own query."""
    people = crew
    today = timezone.localdate()
    for s, bad in ((site, 2), (other_site, 5)):
        iqc = f.plan(s, people["qe"], people["qm"], Stage.IQC, number=f"RG-{s.code}")
        ipqc = f.plan(s, people["qe"], people["qm"], Stage.IPQC, number=f"RGP-{s.code}")
        sched = f.schedule(s, ipqc, f.line(s, f"LINE-{s.code}"))
        for back in (0, 35, 70):
            when = timezone.now() - datetime.timedelta(days=back)
            f.inspection(iqc, when=when, sample=100, bad=bad, accepted=bad < 3)
            f.inspection(ipqc, when=when, sample=5, bad=1, schedule=sched, accepted=False)
            f.inspection(ipqc, when=when, sample=5, bad=0, schedule=sched)
    engine.rollup_recent(days=80, sites=[site, other_site])
    objectives = [
        _objective(site, people),
        _objective(other_site, people, kpi="ipqc.fpy", comparator=">=", target=95, dim_key="line",
                   dim_value="LINE-S2"),
    ]  # fmt: skip
    ids = [site.pk, other_site.pk]
    panel = dashboard.panel_sums(ids, objectives, today=today, use_cache=False)
    start = panel["start"]
    for key in dashboard.SERIES:
        expected = engine.series(KPIS[key], site_ids=ids, start=start, end=today)
        got = dashboard.series_points(key, panel["all"], start, today)
        assert [(p.period, p.value) for p in got] == [(p.period, p.value) for p in expected]
    ppm = [p.value for p in dashboard.series_points("iqc.ppm", panel["all"], start, today) if p.value is not None]
    assert ppm and all(v == pytest.approx(7 / 200 * 1e6) for v in ppm)
    for key, dim in dashboard.BARS:
        expected = engine.breakdown(KPIS[key], site_ids=ids, start=start, end=today, dim_key=dim, limit=10)
        got = dashboard.bar_items(key, dim, panel["all"], start)
        assert [(d, p.value) for d, p in got] == [(d, p.value) for d, p in expected]
    fast = selectors.objectives_progress(objectives, today=today, sums=dashboard.objective_sums(panel))
    slow = selectors.objectives_progress(objectives, today=today)
    assert [(p.actual, p.forecast, p.status) for p in fast] == [(p.actual, p.forecast, p.status) for p in slow]
    assert fast[1].actual == pytest.approx(50.0)


def test_scrap_without_a_standard_cost_is_shown_beside_the_cost(login, people, site):
    ncr = ncr_f.open_ncr(site, people["qe"], the_part=ncr_f.part("NO-COST"))
    f.executed_lines(ncr, people["qe"], [("scrap", 12, timezone.now(), False)])
    engine.rollup_recent(days=1, sites=[site])
    page = login(people["qm"]).get(reverse("monitoring:dashboard")).content.decode()
    assert "12 units scrapped have no standard cost" in page
    assert "kpi=scrap.unpriced" in page


def test_past_months_are_kept_apart_and_follow_a_rewrite_of_their_days(people, site):
    """The months before this one are cached apart: a new record today reads only this month's days; a
    roll-up that rewrites a past day (a backfill, a late correction) makes the past months read again."""
    today = timezone.localdate()
    month0 = today.replace(day=1)
    iqc = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    past_day = month0 - datetime.timedelta(days=20)
    f.inspection(iqc, when=f.at(past_day), sample=100, bad=1, accepted=False)
    f.inspection(iqc, when=timezone.now(), sample=100, bad=0)
    engine.rollup_recent(days=60, sites=[site])
    ppm = "iqc.ppm"

    def month_value(panel, month):
        return next(p for p in dashboard.series_points(ppm, panel["all"], panel["start"], today) if p.period == month)

    cold = dashboard.panel_sums([site.pk], [], today=today)
    assert cold["queried"] == [site.pk]
    assert month_value(cold, past_day.replace(day=1)).value == pytest.approx(10000)
    assert dashboard.panel_sums([site.pk], [], today=today)["queried"] == []  # warm
    # today's record: only this month is read again (the past part stays cached)
    f.inspection(iqc, when=timezone.now(), sample=100, bad=3, accepted=False)
    with CaptureQueriesContext(connection) as q:
        engine.rollup_recent(days=1, sites=[site])
        now = dashboard.panel_sums([site.pk], [], today=today)
    panel_sql = [s["sql"] for s in q.captured_queries if "monitoring_kpidaily" in s["sql"] and "SUM" in s["sql"]]
    assert len(panel_sql) == 1 and f"'{month0}'" in panel_sql[0] and f"'{past_day}'" not in panel_sql[0]
    assert month_value(now, month0).value == pytest.approx(15000)
    # a late record in a past month, rolled up: the past months are read again
    f.inspection(iqc, when=f.at(past_day), sample=100, bad=3, accepted=False)
    engine.rollup(kpi=KPIS[ppm], site=site, day_from=past_day, day_to=past_day)
    again = dashboard.panel_sums([site.pk], [], today=today)
    assert again["queried"] == [site.pk]
    assert month_value(again, past_day.replace(day=1)).value == pytest.approx(20000)
