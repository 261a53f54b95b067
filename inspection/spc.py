"""Statistical process control: control-chart limits, Nelson run rules and process capability.

Pure functions, no ORM (like `sampling.py`): lists of numbers (float or Decimal) in, small frozen result
objects out. Pages, PDFs, alarms and the API all call these.

References the tests check against: the data sets and printed results of R's qcc package (piston rings,
orange juice, circuit boards, viscosity; Scrucca 2004 and the qcc 3.0 vignette), which are the examples of
Montgomery, *Introduction to Statistical Quality Control*, and the control-chart constants of ASTM E2587 /
Montgomery Appendix VI. Capability follows ISO 22514-2 (percentile method for non-normal data) and the
Bissell (1990) approximation for the confidence bound of Cpk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy import stats

Number = float | int | Decimal

# Expected range (d2) and its standard deviation (d3) of n independent standard normal values, n = 2..25,
# computed by numerical integration of the range distribution (they agree with the published tables to
# their printed digits; test_spc recomputes a few).
D2 = {
    2: 1.12838, 3: 1.69257, 4: 2.05875, 5: 2.32593, 6: 2.53441, 7: 2.70436, 8: 2.84720, 9: 2.97003,
    10: 3.07751, 11: 3.17287, 12: 3.25846, 13: 3.33598, 14: 3.40676, 15: 3.47183, 16: 3.53198,
    17: 3.58788, 18: 3.64006, 19: 3.68896, 20: 3.73495, 21: 3.77834, 22: 3.81938, 23: 3.85832,
    24: 3.89535, 25: 3.93063,
}  # fmt: skip
D3 = {
    2: 0.85250, 3: 0.88837, 4: 0.87981, 5: 0.86408, 6: 0.84804, 7: 0.83321, 8: 0.81983, 9: 0.80783,
    10: 0.79705, 11: 0.78731, 12: 0.77848, 13: 0.77042, 14: 0.76302, 15: 0.75621, 16: 0.74991,
    17: 0.74405, 18: 0.73859, 19: 0.73348, 20: 0.72869, 21: 0.72417, 22: 0.71991, 23: 0.71589,
    24: 0.71207, 25: 0.70844,
}  # fmt: skip
MIN_SUBGROUP, MAX_SUBGROUP = 2, 25


class SpcError(ValueError):
    """The data cannot give the requested chart or index; the message says why."""


def c4(n: int) -> float:
    """Bias of the sample standard deviation of n normal values: E[s] = c4 * sigma."""
    if n < 2:
        raise SpcError("c4 needs n >= 2")
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@dataclass(frozen=True)
class Constants:
    """Control-chart constants for subgroup size n (3-sigma limits)."""

    n: int
    d2: float
    d3: float
    c4: float

    @property
    def a2(self) -> float:
        return 3 / (self.d2 * math.sqrt(self.n))

    @property
    def a3(self) -> float:
        return 3 / (self.c4 * math.sqrt(self.n))

    @property
    def d3_lower(self) -> float:  # D3 of the tables
        return max(0.0, 1 - 3 * self.d3 / self.d2)

    @property
    def d4(self) -> float:
        return 1 + 3 * self.d3 / self.d2

    @property
    def b3(self) -> float:
        return max(0.0, 1 - 3 * math.sqrt(1 - self.c4**2) / self.c4)

    @property
    def b4(self) -> float:
        return 1 + 3 * math.sqrt(1 - self.c4**2) / self.c4


def constants(n: int) -> Constants:
    if not MIN_SUBGROUP <= n <= MAX_SUBGROUP:
        raise SpcError(f"Subgroup size must be between {MIN_SUBGROUP} and {MAX_SUBGROUP}, not {n}.")
    return Constants(n=n, d2=D2[n], d3=D3[n], c4=c4(n))


@dataclass(frozen=True)
class Limits:
    """One chart's centre line and 3-sigma limits; `sigma` is the standard error of the plotted statistic."""

    center: float
    lcl: float
    ucl: float
    sigma: float
    points: tuple[float, ...] = ()


@dataclass(frozen=True)
class VaryingLimits:
    """Attribute chart limits that vary per point with the sample size (LCL floored at 0)."""

    center: float
    lcl: tuple[float, ...]
    ucl: tuple[float, ...]
    sigma: tuple[float, ...]
    points: tuple[float, ...] = ()


def _floats(values) -> np.ndarray:
    array = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)
    if array.size and not np.all(np.isfinite(array)):
        raise SpcError("Values must be finite numbers.")
    return array


def _subgroups(subgroups: Sequence[Sequence[Number]]) -> np.ndarray:
    rows = [list(g) for g in subgroups]
    if len(rows) < 2:
        raise SpcError("At least two subgroups are needed.")
    sizes = {len(g) for g in rows}
    if len(sizes) != 1:
        raise SpcError("All subgroups must have the same size.")
    constants(sizes.pop())  # validates the size
    return _floats(rows)


def xbar_r_limits(subgroups: Sequence[Sequence[Number]]) -> tuple[Limits, Limits]:
    """(x-bar chart, R chart) from equal-size subgroups; sigma within = R-bar / d2."""
    data = _subgroups(subgroups)
    k = constants(data.shape[1])
    means, ranges = data.mean(axis=1), np.ptp(data, axis=1)
    xbarbar, rbar = float(means.mean()), float(ranges.mean())
    sigma = rbar / k.d2
    se = sigma / math.sqrt(k.n)
    xbar = Limits(xbarbar, xbarbar - k.a2 * rbar, xbarbar + k.a2 * rbar, se, tuple(means.tolist()))
    r = Limits(rbar, k.d3_lower * rbar, k.d4 * rbar, k.d3 * sigma, tuple(ranges.tolist()))
    return xbar, r


def xbar_s_limits(subgroups: Sequence[Sequence[Number]]) -> tuple[Limits, Limits]:
    """(x-bar chart, S chart) from equal-size subgroups; sigma within = s-bar / c4."""
    data = _subgroups(subgroups)
    k = constants(data.shape[1])
    means, sds = data.mean(axis=1), data.std(axis=1, ddof=1)
    xbarbar, sbar = float(means.mean()), float(sds.mean())
    sigma = sbar / k.c4
    xbar = Limits(xbarbar, xbarbar - k.a3 * sbar, xbarbar + k.a3 * sbar, sigma / math.sqrt(k.n), tuple(means.tolist()))
    s = Limits(sbar, k.b3 * sbar, k.b4 * sbar, sigma * math.sqrt(1 - k.c4**2), tuple(sds.tolist()))
    return xbar, s


def imr_limits(values: Sequence[Number]) -> tuple[Limits, Limits]:
    """(individuals chart, moving-range chart); sigma = MR-bar / d2(2)."""
    data = _floats(values)
    if data.size < 2:
        raise SpcError("At least two values are needed.")
    moving = np.abs(np.diff(data))
    mean, mrbar = float(data.mean()), float(moving.mean())
    k = constants(2)
    sigma = mrbar / k.d2
    individuals = Limits(mean, mean - 3 * sigma, mean + 3 * sigma, sigma, tuple(data.tolist()))
    mr = Limits(mrbar, 0.0, k.d4 * mrbar, k.d3 * sigma, tuple(moving.tolist()))
    return individuals, mr


def _counts(values, what: str) -> np.ndarray:
    array = _floats(values)
    if array.size == 0:
        raise SpcError(f"No {what}.")
    if np.any(array < 0):
        raise SpcError(f"{what.capitalize()} cannot be negative.")
    return array


def p_chart_limits(defectives: Sequence[Number], sample_sizes: Sequence[Number]) -> VaryingLimits:
    """Fraction defective; limits per point when the sample sizes vary."""
    d, n = _counts(defectives, "defectives"), _counts(sample_sizes, "sample sizes")
    if d.size != n.size or np.any(n <= 0) or np.any(d > n):
        raise SpcError("Each sample needs a size above zero and no more defectives than its size.")
    pbar = float(d.sum() / n.sum())
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    return VaryingLimits(
        pbar,
        tuple(np.maximum(0.0, pbar - 3 * sigma).tolist()),
        tuple(np.minimum(1.0, pbar + 3 * sigma).tolist()),
        tuple(sigma.tolist()),
        tuple((d / n).tolist()),
    )


def np_chart_limits(defectives: Sequence[Number], sample_size: Number) -> Limits:
    """Number defective for a constant sample size."""
    d, n = _counts(defectives, "defectives"), float(sample_size)
    if n <= 0 or np.any(d > n):
        raise SpcError("The sample size must be above zero and at least the number of defectives.")
    pbar = float(d.mean() / n)
    center, sigma = n * pbar, math.sqrt(n * pbar * (1 - pbar))
    return Limits(center, max(0.0, center - 3 * sigma), center + 3 * sigma, sigma, tuple(d.tolist()))


def c_chart_limits(counts: Sequence[Number]) -> Limits:
    """Nonconformities per inspection unit of constant size."""
    c = _counts(counts, "counts")
    cbar = float(c.mean())
    sigma = math.sqrt(cbar)
    return Limits(cbar, max(0.0, cbar - 3 * sigma), cbar + 3 * sigma, sigma, tuple(c.tolist()))


def u_chart_limits(counts: Sequence[Number], units: Sequence[Number]) -> VaryingLimits:
    """Nonconformities per unit; limits per point when the number of units varies."""
    c, n = _counts(counts, "counts"), _counts(units, "units")
    if c.size != n.size or np.any(n <= 0):
        raise SpcError("Each sample needs a number of units above zero.")
    ubar = float(c.sum() / n.sum())
    sigma = np.sqrt(ubar / n)
    return VaryingLimits(
        ubar,
        tuple(np.maximum(0.0, ubar - 3 * sigma).tolist()),
        tuple((ubar + 3 * sigma).tolist()),
        tuple(sigma.tolist()),
        tuple((c / n).tolist()),
    )


# Nelson rules. Number -> (English description); pages translate their own labels.
NELSON_RULES = {
    1: "One point beyond 3 sigma",
    2: "Nine points in a row on the same side of the centre line",
    3: "Six points in a row steadily increasing or decreasing",
    4: "Fourteen points in a row alternating up and down",
    5: "Two out of three points beyond 2 sigma on the same side",
    6: "Four out of five points beyond 1 sigma on the same side",
    7: "Fifteen points in a row within 1 sigma of the centre line",
    8: "Eight points in a row beyond 1 sigma on either side",
}
DEFAULT_RULES = (1, 2, 3, 5)


def _per_point(value, size: int) -> np.ndarray:
    if isinstance(value, (list, tuple, np.ndarray)):
        array = _floats(value)
        if array.size != size:
            raise SpcError("Centre and sigma per point must match the number of points.")
        return array
    return np.full(size, float(value))


def run_rule_violations(points, center, sigma, rules=None) -> list[tuple[int, int]]:
    """(index, rule) pairs for the Nelson rules; the index is the point that completes the pattern.

    `center` and `sigma` are numbers or one per point (attribute charts with varying limits).
    Zones are measured in sigma of the plotted statistic. The completing point must itself be part of the
    pattern (beyond the zone for rules 5 and 6), so a violation is reported when it happens, once per point.
    """
    x = _floats(points)
    wanted = set(NELSON_RULES) if rules is None else {int(r) for r in rules}
    unknown = wanted - set(NELSON_RULES)
    if unknown:
        raise SpcError(f"Unknown Nelson rule(s): {sorted(unknown)}")
    if x.size == 0:
        return []
    c, s = _per_point(center, x.size), _per_point(sigma, x.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (x - c) / s, 0.0)
    side = np.sign(x - c)
    up, down = np.diff(x) > 0, np.diff(x) < 0  # step into point i+1
    flags: dict[int, np.ndarray] = {}
    if 1 in wanted:
        flags[1] = np.abs(z) > 3
    if 2 in wanted:
        flags[2] = (_trailing(side > 0, 9) == 9) | (_trailing(side < 0, 9) == 9)
    if 3 in wanted:
        flags[3] = _steps(up, 5) | _steps(down, 5)
    if 4 in wanted:
        alternating = np.concatenate([[False], (up[1:] & down[:-1]) | (down[1:] & up[:-1])])  # turn at step
        flags[4] = _steps(alternating, 12)
    for rule, zone, need, length in ((5, 2, 2, 3), (6, 1, 4, 5)):
        if rule in wanted:
            high, low = z > zone, z < -zone
            flags[rule] = (high & (_trailing(high, length, partial=True) >= need)) | (
                low & (_trailing(low, length, partial=True) >= need)
            )
    if 7 in wanted:
        flags[7] = _trailing(np.abs(z) < 1, 15) == 15
    if 8 in wanted:
        flags[8] = _trailing(np.abs(z) > 1, 8) == 8
    return sorted((int(i), rule) for rule, mask in flags.items() for i in np.flatnonzero(mask))


def _trailing(mask: np.ndarray, length: int, partial: bool = False) -> np.ndarray:
    """How many of the last `length` points (ending at each index) satisfy `mask`; windows that run off the
    start count only when `partial` (else they score below `length`)."""
    total = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    idx = np.arange(mask.size)
    counts = total[idx + 1] - total[np.maximum(0, idx + 1 - length)]
    if not partial:
        counts = np.where(idx + 1 >= length, counts, -1)
    return counts


def _steps(steps: np.ndarray, length: int) -> np.ndarray:
    """Per point: the `length` steps leading into it all hold (a run of length + 1 points)."""
    run = _trailing(steps, length) == length
    return np.concatenate([[False], run]) if steps.size else np.zeros(steps.size + 1, dtype=bool)


@dataclass(frozen=True)
class Normality:
    """Anderson-Darling test of normality (D'Agostino & Stephens adjusted statistic and p-value)."""

    statistic: float
    p_value: float

    @property
    def is_normal(self) -> bool:
        return self.p_value >= 0.05


@dataclass(frozen=True)
class Capability:
    n: int
    mean: float
    sigma_within: float | None
    sigma_overall: float
    lsl: float | None
    usl: float | None
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    cpk_lower_bound: float | None  # one-sided lower confidence bound (default 95 %)
    normality: Normality | None
    method: str  # "normal" or "percentile" (ISO 22514-2, non-normal data)
    pp_percentile: float | None = None
    ppk_percentile: float | None = None
    warnings: tuple[str, ...] = ()  # "few_subgroups" (< MIN_SUBGROUPS) or "few_values" (< MIN_VALUES)


def anderson_darling(values: Sequence[Number]) -> Normality:
    """AD normality test with mean and sigma estimated; p-value by D'Agostino & Stephens (1986)."""
    x = np.sort(_floats(values))
    n = x.size
    if n < 8:
        raise SpcError("The normality test needs at least 8 values.")
    sd = x.std(ddof=1)
    if sd == 0:
        return Normality(statistic=float("inf"), p_value=0.0)
    cdf = stats.norm.cdf((x - x.mean()) / sd)
    cdf = np.clip(cdf, 1e-300, 1 - 1e-16)
    i = np.arange(1, n + 1)
    a2 = -n - np.mean((2 * i - 1) * (np.log(cdf) + np.log(1 - cdf[::-1])))
    a = a2 * (1 + 0.75 / n + 2.25 / n**2)
    if a >= 0.6:
        p = math.exp(1.2937 - 5.709 * a + 0.0186 * a**2)
    elif a >= 0.34:
        p = math.exp(0.9177 - 4.279 * a - 1.38 * a**2)
    elif a >= 0.2:
        p = 1 - math.exp(-8.318 + 42.796 * a - 59.938 * a**2)
    else:
        p = 1 - math.exp(-13.436 + 101.14 * a - 223.73 * a**2)
    return Normality(statistic=float(a), p_value=float(min(1.0, max(0.0, p))))


def _within_sigma(x: np.ndarray, subgroup_size: int | None) -> float | None:
    if subgroup_size and subgroup_size > 1:
        usable = x.size - x.size % subgroup_size
        if usable < 2 * subgroup_size:
            return None
        groups = x[:usable].reshape(-1, subgroup_size)
        return float(np.ptp(groups, axis=1).mean() / constants(subgroup_size).d2)
    if x.size < 2:
        return None
    return float(np.abs(np.diff(x)).mean() / D2[2])


def _index(spread: float, mean: float, lsl, usl) -> tuple[float | None, float | None]:
    """(Cp-like, Cpk-like) for a given sigma; one-sided specifications have no Cp."""
    if spread is None or spread <= 0:
        return None, None
    cp = (usl - lsl) / (6 * spread) if lsl is not None and usl is not None else None
    sides = []
    if usl is not None:
        sides.append((usl - mean) / (3 * spread))
    if lsl is not None:
        sides.append((mean - lsl) / (3 * spread))
    return cp, min(sides)


def cpk_confidence_bound(cpk: float, n: int, confidence: float = 0.95, two_sided: bool = False) -> float:
    """Lower confidence bound for Cpk, Bissell's normal approximation."""
    z = stats.norm.ppf(1 - (1 - confidence) / (2 if two_sided else 1))
    return cpk - z * math.sqrt(1 / (9 * n) + cpk**2 / (2 * (n - 1)))


MIN_VALUES, MIN_SUBGROUPS = 100, 25


def capability(
    values: Sequence[Number],
    lsl: Number | None,
    usl: Number | None,
    subgroup_size: int | None = None,
    confidence: float = 0.95,
) -> Capability:
    """Cp, Cpk (within sigma), Pp, Ppk (overall sigma), a lower bound for Cpk, a normality test and,
    when the data are not normal, the ISO 22514-2 percentile indices (0.135 %, 50 %, 99.865 %)."""
    x = _floats(values)
    low = None if lsl is None else float(lsl)
    high = None if usl is None else float(usl)
    if low is None and high is None:
        raise SpcError("A capability study needs at least one specification limit.")
    if low is not None and high is not None and low >= high:
        raise SpcError("The lower specification limit must be below the upper one.")
    if x.size < 2:
        raise SpcError("A capability study needs at least two values.")
    mean = float(x.mean())
    overall = float(x.std(ddof=1))
    within = _within_sigma(x, subgroup_size)
    cp, cpk = _index(within, mean, low, high) if within else (None, None)
    pp, ppk = _index(overall, mean, low, high)
    bound = cpk_confidence_bound(cpk, x.size, confidence) if cpk is not None and x.size > 2 else None
    normality = anderson_darling(x) if x.size >= 8 else None
    warnings = []
    if subgroup_size and subgroup_size > 1:
        if x.size // subgroup_size < MIN_SUBGROUPS:
            warnings.append("few_subgroups")
    elif x.size < MIN_VALUES:
        warnings.append("few_values")
    method, pp_pct, ppk_pct = "normal", None, None
    if normality is not None and not normality.is_normal:
        method = "percentile"
        p_low, median, p_high = np.percentile(x, [0.135, 50, 99.865])
        if p_high > p_low:
            pp_pct = (high - low) / (p_high - p_low) if low is not None and high is not None else None
            sides = []
            if high is not None and p_high > median:
                sides.append((high - median) / (p_high - median))
            if low is not None and median > p_low:
                sides.append((median - low) / (median - p_low))
            ppk_pct = min(sides) if sides else None
    return Capability(
        n=int(x.size),
        mean=mean,
        sigma_within=within,
        sigma_overall=overall,
        lsl=low,
        usl=high,
        cp=cp,
        cpk=cpk,
        pp=pp,
        ppk=ppk,
        cpk_lower_bound=bound,
        normality=normality,
        method=method,
        pp_percentile=pp_pct,
        ppk_percentile=ppk_pct,
        warnings=tuple(warnings),
    )


def chart_kind(subgroup_size: int) -> str:
    """The variables chart a characteristic gets by default: I-MR, x-bar/R up to 8, x-bar/S above."""
    if subgroup_size <= 1:
        return "imr"
    return "xbar_r" if subgroup_size <= 8 else "xbar_s"
