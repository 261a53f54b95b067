"""Reads of monitoring: objective progress, alarms and rules in the user's sites, dashboard tiles."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.kpis import get_kpi

from . import engine
from .models import Alarm, AlarmRule, AlarmStatus, KpiDaily, Objective, Period


def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date, str]:
    """(first day, last day, label) of the month / quarter / year containing `day`."""
    if period == Period.YEAR:
        return datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31), str(day.year)
    if period == Period.QUARTER:
        q = (day.month - 1) // 3
        first = datetime.date(day.year, q * 3 + 1, 1)
        return first, engine.add_months(first, 3) - datetime.timedelta(days=1), f"{day.year}-Q{q + 1}"
    first = day.replace(day=1)
    return first, engine.add_months(first, 1) - datetime.timedelta(days=1), first.strftime("%Y-%m")


@dataclass
class Progress:
    objective: Objective
    period_label: str
    period_start: datetime.date
    period_end: datetime.date
    actual: float | None
    forecast: float | None
    year_to_date: float | None
    status: str  # green, amber, red, grey (no data)

    @property
    def kpi(self):
        return get_kpi(self.objective.kpi)


def _status(kpi, obj: Objective, value) -> str:
    met = kpi.meets(value, obj.comparator, obj.target)
    if met is None:
        return "grey"
    if met:
        return "green"
    # Within 10 % of the target (relative; 0.5 of a unit when the target is 0): amber, else red.
    margin = abs(obj.target) * 0.1 or 0.5
    return "amber" if abs(float(value) - obj.target) <= margin else "red"


def objective_sums(objectives, *, today) -> dict:
    """One query for the monthly roll-up sums of many objectives in their years up to `today`:
    {(kpi, site, dim_key, dim_value): {month: (num, den)}} (the dashboard stays at a constant query count)."""
    cond = Q(pk__in=[])
    first = None
    for obj in objectives:
        kpi = get_kpi(obj.kpi)
        if kpi is None:
            continue
        for key in kpi.ratio_of or (kpi.key,):
            q = Q(kpi=key, site_id=obj.site_id, dim_key=obj.dim_key)
            cond |= q & Q(dim_value=obj.dim_value) if obj.dim_key else q
        year_start = datetime.date(obj.year, 1, 1)
        first = year_start if first is None else min(first, year_start)
    out: dict = defaultdict(dict)
    if first is None:
        return out
    rows = (
        KpiDaily.objects.filter(cond, day__gte=first, day__lte=today)
        .order_by()
        .annotate(m=TruncMonth("day"))
        .values("kpi", "site_id", "dim_key", "dim_value", "m")
        .annotate(n=Sum("num"), d=Sum("den"))
    )
    for r in rows:
        m = r["m"].date() if isinstance(r["m"], datetime.datetime) else r["m"]
        out[(r["kpi"], r["site_id"], r["dim_key"], r["dim_value"])][m] = (r["n"] or 0.0, r["d"] or 0.0)
    return out


def _sum_months(kpi, obj, sums, start: datetime.date, end: datetime.date):
    dim_value = obj.dim_value if obj.dim_key else ""
    months = [m for m in engine._periods(start, end, "month")]

    def total(key):
        table = sums.get((key, obj.site_id, obj.dim_key, dim_value), {})
        return [sum(table.get(m, (0, 0))[i] for m in months) for i in (0, 1)]

    if kpi.ratio_of:
        num, den = total(kpi.ratio_of[0])[0], total(kpi.ratio_of[1])[0]
    else:
        num, den = total(kpi.key)
    return kpi.value(num, den)


def objective_progress(obj: Objective, *, today=None, sums=None) -> Progress:
    """Actual against target for the current period (within the objective's year), a forecast for the
    period end (sums projected by the days elapsed; rates as they stand) and the traffic light."""
    today = today or timezone.localdate()
    kpi = get_kpi(obj.kpi)
    day = min(max(today, datetime.date(obj.year, 1, 1)), datetime.date(obj.year, 12, 31))
    start, end, label = period_bounds(obj.period, day)
    upto = min(end, day)
    if kpi is None:
        return Progress(obj, label, start, end, None, None, None, "grey")
    if sums is None:
        sums = objective_sums([obj], today=upto)
    actual = _sum_months(kpi, obj, sums, start, upto)
    ytd = _sum_months(kpi, obj, sums, datetime.date(obj.year, 1, 1), upto)
    if actual is not None and not kpi.is_ratio:
        elapsed = (upto - start).days + 1
        forecast = actual * ((end - start).days + 1) / elapsed
    else:
        forecast = actual
    return Progress(obj, label, start, end, actual, forecast, ytd, _status(kpi, obj, forecast))


def objectives_progress(objectives, *, today=None, sums=None) -> list[Progress]:
    today = today or timezone.localdate()
    objectives = list(objectives)
    if sums is None:
        sums = objective_sums(objectives, today=today)
    return [objective_progress(o, today=today, sums=sums) for o in objectives]


def objective_streak(obj: Objective, *, today=None) -> int:
    """Periods in a row, ending with the current one, the objective has been off track (red or amber)."""
    today = today or timezone.localdate()
    sums = objective_sums([obj], today=today)
    streak = 0
    day = today
    while day.year == obj.year:
        if objective_progress(obj, today=day, sums=sums).status not in ("red", "amber"):
            break
        streak += 1
        day = period_bounds(obj.period, day)[0] - datetime.timedelta(days=1)
    return streak


def objectives_for(user, *, year=None):
    qs = Objective.objects.filter(site_id__in=policy.sites_for(user, "portal.view"), is_active=True)
    if year:
        qs = qs.filter(year=year)
    return qs.select_related("site", "owner")


def objective_for_user(user, pk) -> Objective:
    obj = Objective.objects.select_related("site", "owner").filter(pk=pk).first()
    if obj is None or not policy.can(user, "portal.view", obj.site):
        raise Http404
    return obj


def alarms_for(user, *, open_only=False):
    qs = Alarm.objects.filter(site_id__in=policy.sites_for(user, "portal.view")).select_related("rule", "site")
    if open_only:
        qs = qs.exclude(status=AlarmStatus.RESOLVED)
    return qs


def alarm_for_user(user, code) -> Alarm:
    alarm = Alarm.objects.select_related("rule", "site", "acknowledged_by", "resolved_by").filter(code=code).first()
    if alarm is None or not policy.can(user, "portal.view", alarm.site):
        raise Http404
    return alarm


def rules_for(user):
    return AlarmRule.objects.filter(site_id__in=policy.sites_for(user, "portal.view")).select_related("site")


def rule_for_user(user, pk) -> AlarmRule:
    rule = AlarmRule.objects.select_related("site").filter(pk=pk).first()
    if rule is None or not policy.can(user, "portal.view", rule.site):
        raise Http404
    return rule


def dashboard_tiles(user) -> list[dict]:
    site_ids = policy.sites_for(user, "portal.view")
    if not site_ids:
        return []
    open_alarms = Alarm.objects.filter(site_id__in=site_ids, status=AlarmStatus.RAISED).count()
    return [
        {
            "label": _("Alarms not yet acknowledged"),
            "value": open_alarms,
            "url": reverse("monitoring:alarms"),
            "level": "alarm" if open_alarms else "ok",
        }
    ]
