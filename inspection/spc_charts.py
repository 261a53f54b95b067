"""Reads for statistical process control: a characteristic's subgroups, its control chart with the limits
that applied to each point, Nelson-rule violations, and its capability. Two queries per chart whatever the
amount of data (the last `limit` subgroups); the statistics are `spc.py`'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Exists, OuterRef

from . import spc
from .models import Characteristic, ChartKind, ControlLimits, Inspection, Kind, LimitsStatus, Measurement

DEFAULT_LIMIT = 1000


@dataclass
class Subgroup:
    inspection_id: int
    code: str
    at: datetime
    values: list[float] = field(default_factory=list)
    inspected: int = 0
    defects: float = 0.0


def spc_subgroups(characteristic: Characteristic, *, limit: int = DEFAULT_LIMIT) -> list[Subgroup]:
    """The last `limit` completed inspections that measured `characteristic`, oldest first."""
    has_values = Measurement.objects.filter(inspection=OuterRef("pk"), characteristic=characteristic)
    heads = list(
        Inspection.objects.filter(Exists(has_values), completed_at__isnull=False)
        .order_by("-completed_at", "-pk")
        .values_list("pk", "code", "completed_at")[:limit]
    )
    if not heads:
        return []
    groups = {pk: Subgroup(pk, code, at) for pk, code, at in reversed(heads)}
    # Values only: timestamps and codes come once per inspection from the first query.
    rows = (
        Measurement.objects.filter(inspection_id__in=list(groups), characteristic=characteristic)
        .order_by("inspection_id", "sample_no")
        .values_list("inspection_id", "value", "passed", "count")
    )
    kind = characteristic.kind
    for insp_id, value, passed, count in rows:
        group = groups[insp_id]
        if kind == Kind.VARIABLE:
            if value is not None:
                group.values.append(float(value))
                group.inspected += 1
        elif kind == Kind.ATTRIBUTE:
            if passed is not None:
                group.inspected += 1
                group.defects += 0 if passed else 1
        elif kind == Kind.COUNT and count is not None:
            group.inspected += 1
            group.defects += count
    return [g for g in groups.values() if g.inspected]


def default_chart(characteristic: Characteristic, subgroups: list[Subgroup]) -> tuple[str, int]:
    """(chart kind, subgroup size): x̄-R up to 8, x̄-S above, I-MR for single values; p / u for attributes."""
    if characteristic.kind == Kind.ATTRIBUTE:
        return ChartKind.P, 0
    if characteristic.kind == Kind.COUNT:
        return ChartKind.U, 0
    sizes = [len(g.values) for g in subgroups]
    size = max(set(sizes), key=sizes.count) if sizes else 1
    size = min(size, spc.MAX_SUBGROUP)
    return spc.chart_kind(size), size


@dataclass
class Series:
    """One chart's plotted statistic with the limits that applied to each point."""

    label: str
    values: list[float]
    center: list[float]
    lcl: list[float]
    ucl: list[float]
    violations: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Chart:
    characteristic: Characteristic
    kind: str
    subgroup_size: int
    subgroups: list[Subgroup]
    location: Series | None
    spread: Series | None
    limits: list[ControlLimits]  # every frozen set, oldest first
    in_force: ControlLimits | None
    skipped: int = 0  # subgroups of another size than the chart's
    problem: str = ""  # why there is no chart yet (English key for the page)

    @property
    def kind_label(self) -> str:
        return str(ChartKind(self.kind).label)

    @property
    def is_trial(self) -> bool:
        return self.in_force is None

    @property
    def violation_count(self) -> int:
        return sum(len(v) for s in (self.location, self.spread) if s for v in s.violations.values())


def _limits_for_points(subgroups, limits: list[ControlLimits]) -> list[ControlLimits | None]:
    """The set in force when each subgroup was recorded; points before the first freeze are its baseline."""
    if not limits:
        return [None] * len(subgroups)
    out, k = [], 0
    for g in subgroups:
        while k + 1 < len(limits) and limits[k + 1].frozen_at <= g.at:
            k += 1
        out.append(limits[k])
    return out


def _rules_by_segment(series: Series, sets: list, sigma_of, default_rules) -> None:
    """Nelson rules within each run of points judged against the same limits."""
    start = 0
    n = len(series.values)
    while start < n:
        end = start
        while end + 1 < n and sets[end + 1] is sets[start]:
            end += 1
        window = slice(start, end + 1)
        rules = sets[start].rule_numbers if sets[start] is not None else default_rules
        found = spc.run_rule_violations(
            series.values[window], series.center[window], [sigma_of(i) for i in range(start, end + 1)], rules=rules
        )
        for i, rule in found:
            series.violations.setdefault(start + i, []).append(rule)
        start = end + 1


def spc_chart(
    characteristic: Characteristic, *, limit: int = DEFAULT_LIMIT, rules=spc.DEFAULT_RULES, excluded=()
) -> Chart:
    """The characteristic's control chart: frozen limits where they exist (Phase II), else trial limits from
    the subgroups shown (Phase I, leaving out the `excluded` inspection codes)."""
    subgroups = spc_subgroups(characteristic, limit=limit)
    limits = list(ControlLimits.objects.filter(characteristic=characteristic).select_related("frozen_by"))
    in_force = next((s for s in reversed(limits) if s.status == LimitsStatus.FROZEN), None)
    kind, size = (in_force.chart, in_force.subgroup_size) if in_force else default_chart(characteristic, subgroups)
    chart = Chart(characteristic, kind, size, [], None, None, limits, in_force)
    if kind in (ChartKind.P, ChartKind.U):
        chart.subgroups = subgroups
    else:
        chart.subgroups = [g for g in subgroups if len(g.values) == max(size, 1)]
        chart.skipped = len(subgroups) - len(chart.subgroups)
    if len(chart.subgroups) < 2:
        chart.problem = "few_subgroups"
        return chart
    sets = _limits_for_points(chart.subgroups, limits)
    baseline = [g for g in chart.subgroups if g.code not in set(excluded)] or chart.subgroups
    try:
        trial = trial_limits(kind, size, baseline)
    except spc.SpcError as exc:
        chart.problem = str(exc)
        return chart
    _fill(chart, sets, trial, rules)
    return chart


def trial_limits(kind: str, size: int, subgroups: list[Subgroup]) -> dict:
    """Limits computed from `subgroups` (Phase I), in the shape of ControlLimits' fields."""
    if kind == ChartKind.IMR:
        loc, spread = spc.imr_limits([g.values[0] for g in subgroups])
    elif kind == ChartKind.XBAR_R:
        loc, spread = spc.xbar_r_limits([g.values for g in subgroups])
    elif kind == ChartKind.XBAR_S:
        loc, spread = spc.xbar_s_limits([g.values for g in subgroups])
    elif kind == ChartKind.P:
        p = spc.p_chart_limits([g.defects for g in subgroups], [g.inspected for g in subgroups])
        return {"center": p.center, "lcl": min(p.lcl), "ucl": max(p.ucl), "sigma": 0.0, "spread": None}
    else:
        u = spc.u_chart_limits([g.defects for g in subgroups], [g.inspected for g in subgroups])
        return {"center": u.center, "lcl": min(u.lcl), "ucl": max(u.ucl), "sigma": 0.0, "spread": None}
    within = loc.sigma * (size**0.5 if kind != ChartKind.IMR else 1)
    return {
        "center": loc.center,
        "lcl": loc.lcl,
        "ucl": loc.ucl,
        "sigma": within,
        "spread": (spread.center, spread.lcl, spread.ucl),
    }


def _fill(chart: Chart, sets, trial: dict, rules) -> None:
    kind, groups = chart.kind, chart.subgroups
    if kind in (ChartKind.P, ChartKind.U):
        values, center, lcl, ucl, sig = [], [], [], [], []
        for g, s in zip(groups, sets, strict=True):
            c = s.center if s else trial["center"]
            sd = (c * (1 - c) / g.inspected) ** 0.5 if kind == ChartKind.P else (c / g.inspected) ** 0.5
            values.append(g.defects / g.inspected)
            center.append(c)
            lcl.append(max(0.0, c - 3 * sd))
            ucl.append(min(1.0, c + 3 * sd) if kind == ChartKind.P else c + 3 * sd)
            sig.append(sd)
        chart.location = Series(str(ChartKind(kind).label), values, center, lcl, ucl)
        _rules_by_segment(chart.location, sets, lambda i: sig[i], rules)
        return
    data = np.asarray([g.values for g in groups], dtype=float)  # equal sizes: filtered by spc_chart
    if kind == ChartKind.IMR:
        loc_values = data[:, 0].tolist()
        spread_values = [float("nan")] + np.abs(np.diff(data[:, 0])).tolist()
    else:
        loc_values = data.mean(axis=1).tolist()
        if kind == ChartKind.XBAR_R:
            spread_values = np.ptp(data, axis=1).tolist()
        else:
            spread_values = data.std(axis=1, ddof=1).tolist()

    def pick(s, field_name, trial_value):
        return getattr(s, field_name) if s is not None else trial_value

    tsc, tsl, tsu = trial["spread"]
    loc = Series(
        "",
        loc_values,
        [pick(s, "center", trial["center"]) for s in sets],
        [pick(s, "lcl", trial["lcl"]) for s in sets],
        [pick(s, "ucl", trial["ucl"]) for s in sets],
    )
    spread = Series(
        "",
        spread_values,
        [pick(s, "spread_center", tsc) for s in sets],
        [pick(s, "spread_lcl", tsl) for s in sets],
        [pick(s, "spread_ucl", tsu) for s in sets],
    )
    _rules_by_segment(loc, sets, lambda i: (loc.ucl[i] - loc.center[i]) / 3, rules)
    # The spread chart is judged on rule 1 only: its distribution is skewed, the zone rules assume symmetry.
    first_valid = 1 if kind == ChartKind.IMR else 0
    for i in range(first_valid, len(spread_values)):
        if spread_values[i] > spread.ucl[i] or spread_values[i] < spread.lcl[i]:
            spread.violations.setdefault(i, []).append(1)
    chart.location, chart.spread = loc, spread


def spc_capability(chart: Chart) -> spc.Capability | None:
    """Capability of the chart's variable data against the characteristic's specification limits."""
    c = chart.characteristic
    if c.kind != Kind.VARIABLE or (c.lower_limit is None and c.upper_limit is None) or not chart.subgroups:
        return None
    values = [v for g in chart.subgroups for v in g.values]
    try:
        return spc.capability(
            values,
            c.lower_limit,
            c.upper_limit,
            subgroup_size=chart.subgroup_size if chart.subgroup_size > 1 else None,
        )
    except spc.SpcError:
        return None


def spc_histogram(values: list[float], lsl, usl, bins: int = 20) -> dict:
    """Histogram counts and the fitted normal curve (in counts), for the capability report."""
    data = np.asarray(values, dtype=float)
    lo = min([data.min()] + ([float(lsl)] if lsl is not None else []))
    hi = max([data.max()] + ([float(usl)] if usl is not None else []))
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(data, bins=bins, range=(lo, hi))
    mean, sd = float(data.mean()), float(data.std(ddof=1)) if data.size > 1 else 0.0
    xs = np.linspace(lo, hi, 80)
    width = edges[1] - edges[0]
    curve = (
        data.size * width * np.exp(-0.5 * ((xs - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        if sd > 0
        else np.zeros_like(xs)
    )
    return {
        "counts": counts.tolist(),
        "edges": edges.tolist(),
        "curve": list(zip(xs.tolist(), curve.tolist(), strict=True)),
    }


# --- process parameters (5M1E "measurement" of production records) --------------------------------------


def parameter_streams(site_ids: list[int], *, limit: int = 200) -> list[dict]:
    """One row per part x parameter name recorded at the sites: how many values, the latest."""
    from django.db.models import Count, Max

    from traceability.models import ProcessParameter

    return list(
        ProcessParameter.objects.filter(record__work_order__site_id__in=site_ids)
        .values("record__work_order__part_id", "record__work_order__part__number", "name", "unit")
        .annotate(n=Count("id"), last=Max("record__started_at"))
        .order_by("record__work_order__part__number", "name")[:limit]
    )


@dataclass
class ParameterChart:
    name: str
    unit: str
    codes: list[str]
    times: list[datetime]
    location: Series | None
    spread: Series | None
    lower: float | None
    upper: float | None
    capability: spc.Capability | None = None
    problem: str = ""


def parameter_chart(*, site_ids: list[int], part_id: int, name: str, limit: int = DEFAULT_LIMIT) -> ParameterChart:
    """I-MR chart (trial limits, Nelson rules 1, 2, 3, 5) of one process parameter of one part, in time order,
    with its capability against the recorded limits. Two queries whatever the amount of data."""
    from traceability.models import ProcessParameter

    rows = list(
        ProcessParameter.objects.filter(
            record__work_order__site_id__in=site_ids, record__work_order__part_id=part_id, name=name
        )
        .order_by("-record__started_at", "-pk")
        .values_list("value", "unit", "lower_limit", "upper_limit", "record__work_order__code", "record__started_at")[
            :limit
        ]
    )[::-1]
    chart = ParameterChart(name, rows[-1][1] if rows else "", [], [], None, None, None, None)
    if len(rows) < 2:
        chart.problem = "few_subgroups"
        return chart
    values = [float(r[0]) for r in rows]
    chart.codes = [r[4] for r in rows]
    chart.times = [r[5] for r in rows]
    lows = [r[2] for r in rows if r[2] is not None]
    highs = [r[3] for r in rows if r[3] is not None]
    chart.lower = float(lows[-1]) if lows else None
    chart.upper = float(highs[-1]) if highs else None
    individuals, moving = spc.imr_limits(values)
    n = len(values)
    chart.location = Series("", values, [individuals.center] * n, [individuals.lcl] * n, [individuals.ucl] * n)
    for i, rule in spc.run_rule_violations(values, individuals.center, individuals.sigma, rules=spc.DEFAULT_RULES):
        chart.location.violations.setdefault(i, []).append(rule)
    spread_values = [float("nan"), *moving.points]
    chart.spread = Series("", spread_values, [moving.center] * n, [moving.lcl] * n, [moving.ucl] * n)
    for i in range(1, n):
        if spread_values[i] > moving.ucl:
            chart.spread.violations.setdefault(i, []).append(1)
    if chart.lower is not None or chart.upper is not None:
        try:
            chart.capability = spc.capability(values, chart.lower, chart.upper)
        except spc.SpcError:
            chart.capability = None
    return chart


def ppap_capability_evidence(*, part, site_ids) -> dict:
    """PPAP element 11 (initial process studies): the control chart and capability report of every variable
    characteristic with specification limits in the part's approved plans at the given sites (one query)."""
    from django.urls import reverse

    from suppliers.ppap_evidence import PpapEvidence

    from .models import PlanStatus

    characteristics = Characteristic.objects.filter(
        plan__part=part, plan__site_id__in=site_ids, plan__status=PlanStatus.APPROVED, kind=Kind.VARIABLE
    ).select_related("plan")
    items = []
    for c in characteristics:
        if c.lower_limit is None and c.upper_limit is None:
            continue
        report = reverse("compliance:report_pdf", args=["inspection.capability"]) + f"?characteristic={c.pk}"
        items.append(PpapEvidence(label=f"{c.name} ({c.plan})", url=report, note=c.special or ""))
    return {11: items} if items else {}
