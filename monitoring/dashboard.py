"""The management view's figures: one roll-up query for every chart and objective, cached per site.

Every figure on the dashboard (the monthly trends, the two breakdowns, each objective's actual and
forecast) is a sum of the daily roll-up's numerator and denominator. So the dashboard reads, per site, the
monthly sums of the few (KPI, dimension) series it shows, in ONE query for all the sites not in the cache,
and keeps them in the cache per site, keyed on:

- the site's roll-up version, which `engine.rollup` changes whenever it rewrites the site's days (a new
  inspection, NCR or the periodic roll-up shows at once);
- the minute (a change that did not pass through the roll-up shows within a minute);
- the scopes of the site's objectives this year (a new objective needs its own sums).

Precomputed past: the months before the current one change only when a roll-up rewrites one of their days
(a backfill, a late correction), so their sums are cached apart, keyed on a second version that only such a
roll-up changes. On a busy plant, where an inspection completes every minute, a cold dashboard then reads
only the current month's days.

A user of several sites gets the sum of the sites' cached sums (numerators and denominators add up), so
users sharing a site share its cache entry, and the number of queries does not grow with the data, the
number of objectives or the number of sites.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict

from django.core.cache import cache
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from qms.core.kpis import KPIS, get_kpi

from . import engine
from .engine import version_key
from .models import KpiDaily

# The trends the dashboard draws: monthly series of the whole site, and two breakdowns.
SERIES = ("iqc.ppm", "complaint.ppm", "scrap.cost")
BARS = (("ipqc.fpy", "line"), ("ncr.count", "defect_code"))
# Shown beside the scrap cost: scrapped quantity of parts without a standard cost (not in the cost).
UNPRICED = {"scrap.cost": "scrap.unpriced"}
CACHE_SECONDS = 120
PAST_CACHE_SECONDS = 24 * 3600
ALL = None  # every value of a dimension (a breakdown)


def window_start(today: datetime.date) -> datetime.date:
    """First day of the 12 months shown (also covers 1 January, so this year's objectives)."""
    return engine.add_months(today.replace(day=1), -11)


def _stored(key: str) -> tuple[str, ...]:
    kpi = KPIS[key]
    return kpi.ratio_of or (kpi.key,)


def _scopes(objectives) -> dict[int, set]:
    """Per site, the roll-up series the dashboard needs: (stored KPI key, dim_key, dim_value or ALL)."""
    base = set()
    for key in (*SERIES, *UNPRICED.values()):
        base |= {(k, "", "") for k in _stored(key)}
    for key, dim in BARS:
        base |= {(k, dim, ALL) for k in _stored(key)}
    out: dict[int, set] = defaultdict(lambda: set(base))
    for obj in objectives:
        kpi = get_kpi(obj.kpi)
        if kpi is not None:
            out[obj.site_id] |= {(k, obj.dim_key, obj.dim_value if obj.dim_key else "") for k in _stored(kpi.key)}
    return out


def _digest(scopes: set) -> str:
    return hashlib.sha256(repr(sorted(scopes, key=repr)).encode()).hexdigest()[:12]


def _query(wanted: dict[int, tuple[set, datetime.date]], today) -> dict[int, dict]:
    """One query: monthly sums of every needed series of every site given, each from its own first day."""
    cond = Q(pk__in=[])
    for site_id, (scopes, first) in wanted.items():
        for key, dim_key, dim_value in scopes:
            q = Q(site_id=site_id, kpi=key, dim_key=dim_key, day__gte=first)
            cond |= q if dim_value is ALL or not dim_key else q & Q(dim_value=dim_value)
    rows = (
        KpiDaily.objects.filter(cond, day__lte=today)
        .order_by()
        .annotate(m=TruncMonth("day"))
        .values("site_id", "kpi", "dim_key", "dim_value", "m")
        .annotate(n=Sum("num"), d=Sum("den"))
    )
    out: dict[int, dict] = {site_id: {} for site_id in wanted}
    for r in rows:
        m = r["m"].date() if isinstance(r["m"], datetime.datetime) else r["m"]
        out[r["site_id"]][(r["kpi"], r["dim_key"], r["dim_value"], m)] = (r["n"] or 0.0, r["d"] or 0.0)
    return out


def panel_sums(site_ids, objectives, *, today=None, use_cache=True) -> dict:
    """{(stored KPI key, dim_key, dim_value, month): (num, den)} summed over `site_ids`, and per site for
    the objectives: {"all": ..., "by_site": {site_id: ...}}. At most one database query."""
    today = today or timezone.localdate()
    start, month0 = window_start(today), today.replace(day=1)
    scopes = _scopes(objectives)
    minute = timezone.now().strftime("%H%M")
    versions = {}
    if use_cache:
        versions = cache.get_many([version_key(s, past=p) for s in site_ids for p in (False, True)])
    keys = {}
    for sid in site_ids:
        digest = _digest(scopes[sid])
        past_v = versions.get(version_key(sid, past=True), 0)
        now_v = versions.get(version_key(sid), 0)
        keys[sid] = (
            f"monitoring:panel-past:{sid}:{past_v}:{month0}:{digest}",
            f"monitoring:panel-now:{sid}:{now_v}:{today}:{minute}:{digest}",
        )
    found = cache.get_many([k for pair in keys.values() for k in pair]) if use_cache else {}
    wanted = {}
    for sid in site_ids:
        past_key, now_key = keys[sid]
        if past_key not in found:
            wanted[sid] = (scopes[sid], start)
        elif now_key not in found:
            wanted[sid] = (scopes[sid], month0)
    fresh = _query(wanted, today) if wanted else {}
    to_cache = {}
    by_site = {}
    for sid in site_ids:
        past_key, now_key = keys[sid]
        if sid in fresh:
            past = {k: v for k, v in fresh[sid].items() if k[3] < month0} if past_key not in found else found[past_key]
            now = {k: v for k, v in fresh[sid].items() if k[3] >= month0}
            to_cache[past_key], to_cache[now_key] = past, now
        else:
            past, now = found[past_key], found[now_key]
        by_site[sid] = {**past, **now}
    if use_cache and to_cache:
        cache.set_many({k: v for k, v in to_cache.items() if "panel-now" in k}, CACHE_SECONDS)
        cache.set_many({k: v for k, v in to_cache.items() if "panel-past" in k}, PAST_CACHE_SECONDS)
    total: dict = defaultdict(lambda: (0.0, 0.0))
    for sums in by_site.values():
        for k, (n, d) in sums.items():
            a = total[k]
            total[k] = (a[0] + n, a[1] + d)
    # names these figures: the same token, the same figures (the rendered charts are cached under it)
    token = hashlib.sha256(repr(sorted(keys.items())).encode()).hexdigest()[:16]
    return {
        "all": dict(total), "by_site": by_site, "start": start, "today": today, "queried": sorted(wanted),
        "token": token,
    }  # fmt: skip


def series_points(key: str, sums: dict, start, today) -> list[engine.Point]:
    """Monthly points of a whole-site KPI from the summed panel (empty months: None, or 0 for a count)."""
    kpi = KPIS[key]
    stored = _stored(key)
    points = []
    for month in engine._periods(start, today, "month"):
        if kpi.ratio_of:
            n = sums.get((stored[0], "", "", month), (0.0, 0.0))[0]
            d = sums.get((stored[1], "", "", month), (0.0, 0.0))[0]
        else:
            n, d = sums.get((key, "", "", month), (0.0, 0.0))
        points.append(engine.Point(month, n, d, kpi.value(n, d)))
    return points


def bar_items(key: str, dim_key: str, sums: dict, start, *, limit: int = 10) -> list[tuple[str, engine.Point]]:
    """The KPI per dimension value over the window, worst first (as engine.breakdown)."""
    kpi = KPIS[key]
    stored = _stored(key)
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (k, dk, dv, _m), (n, d) in sums.items():
        if dk != dim_key or k not in stored:
            continue
        if kpi.ratio_of:
            acc[dv][stored.index(k)] += n
        else:
            acc[dv][0] += n
            acc[dv][1] += d
    items = [(dim, engine.Point(start, n, d, kpi.value(n, d))) for dim, (n, d) in acc.items()]
    worst_high = kpi.better == "lower"
    items.sort(key=lambda it: (it[1].value is None, -(it[1].value or 0) if worst_high else (it[1].value or 0)))
    return items[:limit]


def objective_sums(panel: dict) -> dict:
    """The panel in the shape `selectors.objectives_progress` reads: {(kpi, site, dim_key, dim_value):
    {month: (num, den)}}."""
    out: dict = defaultdict(dict)
    for site_id, sums in panel["by_site"].items():
        for (k, dk, dv, m), nd in sums.items():
            out[(k, site_id, dk, dv)][m] = nd
    return out
