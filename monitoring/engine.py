"""KPI computation: raw aggregation over the records, the daily roll-up, and reads of the roll-up.

Pages and objectives read the roll-up only (`series`, `breakdown`); alarm windows shorter than a day read
the records of the window, longer ones the roll-up for past days plus today's records."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import F, FloatField, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from qms.core.kpis import KPIS, Kpi

from .models import KpiDaily


def site_tz(site) -> ZoneInfo:
    try:
        return ZoneInfo(site.timezone or "UTC")
    except Exception:  # noqa: BLE001 - a bad zone name counts in UTC rather than failing the job
        return ZoneInfo("UTC")


def day_bounds(day: datetime.date, tz) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def _field_at(model, path: str):
    field = None
    for i, name in enumerate(path.split("__")):
        field = model._meta.get_field(name)
        if i < len(path.split("__")) - 1:
            model = field.related_model
    return field


def _is_date(kpi: Kpi) -> bool:
    field = _field_at(apps.get_model(kpi.model), kpi.time_field)
    return isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)


def _number(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime.timedelta):
        return value.total_seconds() / 86400
    return float(value)


def dim_expr(path):
    """A dimension is an ORM path, or a tuple of paths taken in order (the first that is set)."""
    if isinstance(path, tuple):
        return Coalesce(*[F(p) for p in path])
    return F(path)


def filter_dim(qs, path, value):
    return qs.annotate(f_dim=dim_expr(path)).filter(f_dim=value)


def base_queryset(kpi: Kpi, *, site_ids):
    model = apps.get_model(kpi.model)
    qs = model._default_manager.filter(**kpi.filters)
    if kpi.excludes:
        qs = qs.exclude(**kpi.excludes)
    if kpi.condition is not None:
        qs = qs.filter(kpi.condition())
    return qs.filter(**{f"{kpi.site_field}__in": list(site_ids)})


def _time_filter(kpi: Kpi, start, end) -> dict:
    """`start`/`end` are aware datetimes; a date field compares with their local dates."""
    if _is_date(kpi):
        # A date counts in the window when its day overlaps it: a window ending at 10:00 includes that day.
        last = end.date() if end.time() == datetime.time.min else end.date() + datetime.timedelta(days=1)
        return {f"{kpi.time_field}__gte": start.date(), f"{kpi.time_field}__lt": last}
    return {f"{kpi.time_field}__gte": start, f"{kpi.time_field}__lt": end}


def raw_rows(
    kpi: Kpi, *, site_ids, start, end, dim_key: str = "", dim_value: str | None = None, by_day=False, tz=None
) -> list[dict]:
    """Aggregate the records: one dict (site, dim, day, num, den) per site, dimension value (and day)."""
    qs = base_queryset(kpi, site_ids=site_ids).filter(**_time_filter(kpi, start, end))
    group = {"g_site": F(kpi.site_field)}
    if dim_key:
        path = kpi.dimensions[dim_key]
        group["g_dim"] = dim_expr(path)
        if dim_value is not None:
            qs = filter_dim(qs, path, dim_value)
    if by_day:
        group["g_day"] = F(kpi.time_field) if _is_date(kpi) else TruncDate(kpi.time_field, tzinfo=tz)
    den = kpi.denominator() if kpi.denominator else Value(0.0, output_field=FloatField())
    rows = qs.order_by().annotate(**group).values(*group).annotate(num=kpi.numerator(), den=den)
    return [
        {
            "site": r["g_site"],
            "dim": "" if r.get("g_dim") is None else str(r["g_dim"]),
            "day": r.get("g_day"),
            "num": _number(r["num"]),
            "den": _number(r["den"]),
        }
        for r in rows
    ]


# --- roll-up ------------------------------------------------------------------------------------------


def stored_kpis() -> list[Kpi]:
    return [k for k in KPIS.values() if k.ratio_of is None]


def version_key(site_id: int, *, past: bool = False) -> str:
    return f"monitoring:rollup-version:{'past:' if past else ''}{site_id}"


def rollup_changed(site_id: int, day_from: datetime.date | None = None) -> None:
    """The roll-up rewrote days of a site from `day_from` on: the dashboard's cached figures of the site are
    stale; those of the months before this one only when a day of theirs was rewritten."""
    stamp = time.time_ns()
    cache.set(version_key(site_id), stamp, None)
    if day_from is None or day_from < timezone.localdate().replace(day=1):
        cache.set(version_key(site_id, past=True), stamp, None)


def rollup(*, kpi: Kpi, site, day_from: datetime.date, day_to: datetime.date) -> int:
    """Recompute the daily roll-up of one KPI at one site for [day_from, day_to]: idempotent (the days are
    replaced), so a retried or repeated job, or a late correction of a record, leaves the right numbers."""
    tz = site_tz(site)
    start, _ = day_bounds(day_from, tz)
    _, end = day_bounds(day_to, tz)
    new = []
    for dim_key in ["", *kpi.dimensions]:
        for r in raw_rows(kpi, site_ids=[site.pk], start=start, end=end, dim_key=dim_key, by_day=True, tz=tz):
            new.append(
                KpiDaily(
                    kpi=kpi.key,
                    site_id=site.pk,
                    dim_key=dim_key,
                    dim_value=r["dim"][:100],
                    day=r["day"],
                    num=r["num"],
                    den=r["den"],
                )
            )
    with transaction.atomic():
        KpiDaily.objects.filter(kpi=kpi.key, site_id=site.pk, day__gte=day_from, day__lte=day_to).delete()
        KpiDaily.objects.bulk_create(new, batch_size=2000)
        # now (a reader inside this transaction) and after commit (a reader that cached the old figures)
        rollup_changed(site.pk, day_from)
        transaction.on_commit(lambda: rollup_changed(site.pk, day_from))
    return len(new)


def rollup_recent(*, days: int = 3, sites=None, kpi_keys=None, today=None) -> int:
    from qms.core.models import Site

    written = 0
    for site in sites if sites is not None else Site.objects.filter(is_active=True):
        last = today or timezone.localtime(timezone.now(), site_tz(site)).date()
        for kpi in stored_kpis():
            if kpi_keys is None or kpi.key in kpi_keys:
                written += rollup(kpi=kpi, site=site, day_from=last - datetime.timedelta(days=days - 1), day_to=last)
    return written


# --- reads of the roll-up --------------------------------------------------------------------------


@dataclass
class Point:
    period: datetime.date
    num: float
    den: float
    value: float | None


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, n: int) -> datetime.date:
    m = day.month - 1 + n
    return datetime.date(day.year + m // 12, m % 12 + 1, 1)


def _periods(start: datetime.date, end: datetime.date, grain: str) -> list[datetime.date]:
    out = []
    cur = month_start(start) if grain == "month" else start
    while cur <= end:
        out.append(cur)
        cur = add_months(cur, 1) if grain == "month" else cur + datetime.timedelta(days=1)
    return out


def _stored_sums(key, *, site_ids, dim_key, dim_value, start, end, grain) -> dict:
    qs = KpiDaily.objects.filter(kpi=key, site_id__in=list(site_ids), dim_key=dim_key, day__gte=start, day__lte=end)
    if dim_key and dim_value is not None:
        qs = qs.filter(dim_value=dim_value)
    period = TruncMonth("day") if grain == "month" else F("day")
    rows = qs.order_by().annotate(p=period).values("p").annotate(n=Sum("num"), d=Sum("den"))
    out = {}
    for r in rows:
        p = r["p"].date() if isinstance(r["p"], datetime.datetime) else r["p"]
        out[p] = (r["n"] or 0.0, r["d"] or 0.0)
    return out


def series(
    kpi: Kpi, *, site_ids, start: datetime.date, end: datetime.date, dim_key="", dim_value=None, grain="month"
) -> list[Point]:
    """The KPI per month (or day) from the roll-up, every period present (empty ones with value None, or 0
    for a count)."""
    args = dict(site_ids=site_ids, dim_key=dim_key, dim_value=dim_value, start=start, end=end, grain=grain)
    if kpi.ratio_of:
        nums = _stored_sums(kpi.ratio_of[0], **args)
        dens = {p: (v[0], 0) for p, v in _stored_sums(kpi.ratio_of[1], **args).items()}
        sums = {p: (nums.get(p, (0, 0))[0], dens.get(p, (0, 0))[0]) for p in set(nums) | set(dens)}
    else:
        sums = _stored_sums(kpi.key, **args)
    points = []
    for p in _periods(start, end, grain):
        n, d = sums.get(p, (0.0, 0.0))
        points.append(Point(p, n, d, kpi.value(n, d)))
    return points


def total(kpi: Kpi, *, site_ids, start, end, dim_key="", dim_value=None) -> Point:
    pts = series(kpi, site_ids=site_ids, start=start, end=end, dim_key=dim_key, dim_value=dim_value, grain="month")
    n, d = sum(p.num for p in pts), sum(p.den for p in pts)
    return Point(start, n, d, kpi.value(n, d))


def breakdown(kpi: Kpi, *, site_ids, start, end, dim_key: str, limit: int = 20) -> list[tuple[str, Point]]:
    """The KPI per dimension value over [start, end] (a Pareto for counts, worst first)."""
    keys = kpi.ratio_of or (kpi.key,)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for i, key in enumerate(keys):
        rows = (
            KpiDaily.objects.filter(kpi=key, site_id__in=list(site_ids), dim_key=dim_key, day__gte=start, day__lte=end)
            .order_by()
            .values("dim_value")
            .annotate(n=Sum("num"), d=Sum("den"))
        )
        for r in rows:
            if kpi.ratio_of:
                sums[r["dim_value"]][i] += r["n"] or 0.0
            else:
                sums[r["dim_value"]][0] += r["n"] or 0.0
                sums[r["dim_value"]][1] += r["d"] or 0.0
    items = [(dim, Point(start, n, d, kpi.value(n, d))) for dim, (n, d) in sums.items()]
    reverse_sort = kpi.better == "lower"
    items.sort(key=lambda it: (it[1].value is None, -(it[1].value or 0) if reverse_sort else (it[1].value or 0)))
    return items[:limit]


# --- windows (alarm rules) ------------------------------------------------------------------------------


def window_sums(kpi: Kpi, *, site, start, end, dim_key="", dim_value=None, now=None) -> dict[str, tuple[float, float]]:
    """{dimension value: (num, den)} over [start, end): past whole days from the roll-up, the rest (today,
    or a window of hours) from the records."""
    if kpi.ratio_of:
        a = window_sums(KPIS[kpi.ratio_of[0]], site=site, start=start, end=end, dim_key=dim_key, dim_value=dim_value)
        b = window_sums(KPIS[kpi.ratio_of[1]], site=site, start=start, end=end, dim_key=dim_key, dim_value=dim_value)
        return {k: (a.get(k, (0, 0))[0], b.get(k, (0, 0))[0]) for k in set(a) | set(b)}
    tz = site_tz(site)
    today_start = day_bounds(timezone.localtime(now or timezone.now(), tz).date(), tz)[0]
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    raw_from = start
    if end - start > datetime.timedelta(days=1) and start.astimezone(tz).time() == datetime.time.min:
        last_day = min(end, today_start).astimezone(tz).date() - datetime.timedelta(days=1)
        qs = KpiDaily.objects.filter(
            kpi=kpi.key, site_id=site.pk, dim_key=dim_key, day__gte=start.astimezone(tz).date(), day__lte=last_day
        )
        if dim_key and dim_value is not None:
            qs = qs.filter(dim_value=dim_value)
        for r in qs.order_by().values("dim_value").annotate(n=Sum("num"), d=Sum("den")):
            out[r["dim_value"]][0] += r["n"] or 0.0
            out[r["dim_value"]][1] += r["d"] or 0.0
        raw_from = max(start, min(end, today_start))
    if raw_from < end:
        for r in raw_rows(kpi, site_ids=[site.pk], start=raw_from, end=end, dim_key=dim_key, dim_value=dim_value):
            out[r["dim"]][0] += r["num"]
            out[r["dim"]][1] += r["den"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def last_records_sums(kpi: Kpi, *, site, n: int, dim_key="", dim_value=None) -> dict[str, tuple[float, float]]:
    """{dimension value: (num, den)} over the last `n` records (lots, checks) of each dimension value."""
    if kpi.ratio_of:
        return {}
    base = base_queryset(kpi, site_ids=[site.pk])
    path = kpi.dimensions.get(dim_key) if dim_key else None
    if path and dim_value is None:
        since = timezone.now() - datetime.timedelta(days=90)
        values = sorted(
            {
                v
                for v in base.filter(**_time_filter(kpi, since, timezone.now() + datetime.timedelta(days=1)))
                .order_by()
                .annotate(v_dim=dim_expr(path))
                .values_list("v_dim", flat=True)
                .distinct()
                if v is not None
            }
        )
    else:
        values = [dim_value]
    out = {}
    for value in values:
        qs = filter_dim(base, path, value) if path else base
        pks = list(qs.order_by(f"-{kpi.time_field}", "-pk").values_list("pk", flat=True)[:n])
        den = kpi.denominator() if kpi.denominator else Value(0.0, output_field=FloatField())
        agg = base.model._default_manager.filter(pk__in=pks).aggregate(num=kpi.numerator(), den=den)
        out["" if value is None else str(value)] = (_number(agg["num"]), _number(agg["den"]))
    return out


def records(kpi: Kpi, *, site_ids, start, end, dim_key="", dim_value=None, limit=200) -> list[dict]:
    """The records behind a point: code, time, link (drill-down)."""
    keys = [KPIS[k] for k in kpi.ratio_of] if kpi.ratio_of else [kpi]
    out = []
    for k in keys:
        qs = base_queryset(k, site_ids=site_ids).filter(**_time_filter(k, start, end))
        if dim_key and dim_value is not None and dim_key in k.dimensions:
            qs = filter_dim(qs, k.dimensions[dim_key], dim_value)
        for code, when in qs.order_by(f"-{k.time_field}").values_list(k.code_field, k.time_field).distinct()[:limit]:
            try:
                url = reverse(k.url_name, args=[code]) if k.url_name else ""
            except NoReverseMatch:
                url = ""
            out.append({"kpi": k, "code": code, "when": when, "url": url})
    return out


def latest_record(kpi: Kpi, *, site, start, end, dim_key="", dim_value=None):
    """The most recent record of a window (the alarm names its part, or the check a line stop cites)."""
    k = KPIS[kpi.ratio_of[0]] if kpi.ratio_of else kpi
    qs = base_queryset(k, site_ids=[site.pk]).filter(**_time_filter(k, start, end))
    if dim_key and dim_value is not None and dim_key in k.dimensions:
        qs = filter_dim(qs, k.dimensions[dim_key], dim_value)
    return qs.order_by(f"-{k.time_field}", "-pk").first()
