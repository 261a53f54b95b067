"""SPC against published reference cases: the qcc 3.0 vignette's printed results on Montgomery's data sets
(see tests/data/README.md), the control-chart constant tables, and hand-built Nelson-rule patterns."""

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from inspection import spc

DATA = Path(__file__).parent / "data"


def _table(name):
    lines = (DATA / f"qcc_{name}.txt").read_text().split("\n")
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=True)) for line in lines[1:] if line.strip()]


def _pistonrings(trial=True):
    rows = [r for r in _table("pistonrings") if (r["trial"] == "TRUE") == trial]
    groups = {}
    for r in rows:
        groups.setdefault(int(r["sample"]), []).append(float(r["diameter"]))
    return [groups[k] for k in sorted(groups)]


# --- constants -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, a2, d2, d3, d3l, d4, a3, c4, b3, b4",
    [
        # Montgomery Appendix VI / ASTM E2587, as printed (3 decimals, c4 4 decimals)
        (2, 1.880, 1.128, 0.853, 0.0, 3.267, 2.659, 0.7979, 0.0, 3.267),
        (5, 0.577, 2.326, 0.864, 0.0, 2.114, 1.427, 0.9400, 0.0, 2.089),
        (8, 0.373, 2.847, 0.820, 0.136, 1.864, 1.099, 0.9650, 0.185, 1.815),
        (10, 0.308, 3.078, 0.797, 0.223, 1.777, 0.975, 0.9727, 0.284, 1.716),
        (25, 0.153, 3.931, 0.708, 0.459, 1.541, 0.606, 0.9896, 0.565, 1.435),
    ],
)
def test_constants_match_published_tables(n, a2, d2, d3, d3l, d4, a3, c4, b3, b4):
    k = spc.constants(n)
    assert k.a2 == pytest.approx(a2, abs=1.5e-3)
    assert k.d2 == pytest.approx(d2, abs=1e-3)
    assert k.d3 == pytest.approx(d3, abs=1e-3)
    assert k.d3_lower == pytest.approx(d3l, abs=1.5e-3)
    assert k.d4 == pytest.approx(d4, abs=1.5e-3)
    assert k.a3 == pytest.approx(a3, abs=1.5e-3)
    assert k.c4 == pytest.approx(c4, abs=1e-4)
    assert k.b3 == pytest.approx(b3, abs=1.5e-3)
    assert k.b4 == pytest.approx(b4, abs=1.5e-3)


def test_d2_is_the_expected_range_of_normal_samples():
    from scipy import integrate, stats

    for n in (2, 7, 19):
        value = integrate.quad(lambda x, n=n: 1 - stats.norm.cdf(x) ** n - stats.norm.sf(x) ** n, -np.inf, np.inf)[0]
        assert spc.D2[n] == pytest.approx(value, abs=1e-5)


def test_subgroup_size_outside_the_tables_is_refused():
    with pytest.raises(spc.SpcError):
        spc.constants(26)
    with pytest.raises(spc.SpcError, match="same size"):
        spc.xbar_r_limits([[1, 2], [1, 2, 3]])


# --- variables charts --------------------------------------------------------------------------------


def test_xbar_r_piston_rings():
    xbar, r = spc.xbar_r_limits(_pistonrings()[:25])
    assert xbar.center == pytest.approx(74.00118, abs=1e-5)
    assert xbar.lcl == pytest.approx(73.98805, abs=1e-5)
    assert xbar.ucl == pytest.approx(74.0143, abs=1e-4)
    assert xbar.sigma * np.sqrt(5) == pytest.approx(0.009785039, rel=1e-4)
    assert r.center == pytest.approx(0.02276, abs=1e-6)
    assert r.lcl == 0
    assert r.ucl == pytest.approx(0.04812533, rel=1e-4)


def test_xbar_s_piston_rings():
    xbar, s = spc.xbar_s_limits(_pistonrings()[:25])
    assert s.center == pytest.approx(0.009240037, rel=1e-6)
    assert s.center / spc.c4(5) == pytest.approx(0.009829977, rel=1e-6)
    assert s.lcl == 0
    assert s.ucl == pytest.approx(0.01930242, rel=1e-5)
    assert xbar.center == pytest.approx(74.00118, abs=1e-5)


def test_decimal_input_is_accepted():
    groups = [[Decimal(str(v)) for v in g] for g in _pistonrings()[:25]]
    xbar, _ = spc.xbar_r_limits(groups)
    assert xbar.center == pytest.approx(74.00118, abs=1e-5)


def test_individuals_viscosity():
    values = [float(r["viscosity"]) for r in _table("viscosity") if r["trial"] == "TRUE"]
    individuals, mr = spc.imr_limits(values)
    assert individuals.center == pytest.approx(34.088, abs=1e-6)
    # qcc divides by the rounded d2(2) = 1.128; the exact 1.12838 moves sigma by 3e-4 relative
    assert individuals.sigma == pytest.approx(0.5076521 * 1.128 / spc.D2[2], rel=1e-6)
    assert individuals.lcl == pytest.approx(32.56504, abs=1e-3)
    assert individuals.ucl == pytest.approx(35.61096, abs=1e-3)
    assert mr.lcl == 0 and mr.ucl == pytest.approx(3.267 * mr.center, rel=1e-3)


# --- attribute charts ----------------------------------------------------------------------------------


def test_p_and_np_orange_juice():
    rows = [r for r in _table("orangejuice") if r["trial"] == "TRUE"]
    d, n = [int(r["D"]) for r in rows], [int(r["size"]) for r in rows]
    p = spc.p_chart_limits(d, n)
    assert p.center == pytest.approx(0.2313333, rel=1e-6)
    assert p.sigma[0] * np.sqrt(50) == pytest.approx(np.sqrt(0.2313333 * (1 - 0.2313333)), rel=1e-5)
    assert p.lcl[0] == pytest.approx(0.05242755, rel=1e-5)
    assert p.ucl[0] == pytest.approx(0.4102391, rel=1e-6)
    np_ = spc.np_chart_limits(d, 50)
    assert np_.center == pytest.approx(11.56667, rel=1e-6)
    assert np_.sigma == pytest.approx(2.981763, rel=1e-6)
    assert (np_.lcl, np_.ucl) == (pytest.approx(2.621377, rel=1e-6), pytest.approx(20.51196, rel=1e-6))


def test_p_chart_limits_vary_with_sample_size_and_lcl_floors_at_zero():
    # qcc vignette, p chart with sizes 25/50/100: first limits 0.0406/0.3891 (n=50), zero LCL for n=25
    p = spc.p_chart_limits([2, 30, 1], [25, 50, 100])
    assert p.lcl[0] == 0.0
    assert p.ucl[1] < p.ucl[0]
    assert p.lcl[2] > 0


def test_c_and_u_circuit_boards():
    rows = [r for r in _table("circuit") if r["trial"] == "TRUE"]
    counts = [int(r["x"]) for r in rows]
    c = spc.c_chart_limits(counts)
    assert c.center == pytest.approx(19.84615, rel=1e-6)
    assert c.sigma == pytest.approx(4.454902, rel=1e-6)
    assert c.lcl == pytest.approx(6.481447, rel=1e-6)
    assert c.ucl == pytest.approx(33.21086, rel=1e-6)
    pc = _table("pcmanufact")
    u = spc.u_chart_limits([int(r["x"]) for r in pc], [int(r["size"]) for r in pc])
    assert u.center == pytest.approx(1.93, rel=1e-6)
    assert u.lcl[0] == pytest.approx(0.06613305, rel=1e-5)
    assert u.ucl[0] == pytest.approx(3.793867, rel=1e-6)


def test_attribute_input_errors_are_readable():
    with pytest.raises(spc.SpcError):
        spc.p_chart_limits([5], [0])
    with pytest.raises(spc.SpcError):
        spc.p_chart_limits([6], [5])
    with pytest.raises(spc.SpcError):
        spc.c_chart_limits([-1, 2])
    with pytest.raises(spc.SpcError, match="finite"):
        spc.imr_limits([1, float("nan")])


# --- Nelson rules ---------------------------------------------------------------------------------------


def _rules(points, rule):
    return [i for i, r in spc.run_rule_violations(points, 0, 1, rules=[rule]) if r == rule]


def test_rule_1_point_beyond_three_sigma():
    assert _rules([0, 0.5, 3.1, -0.2, -3.5], 1) == [2, 4]


def test_rule_2_nine_on_one_side():
    points = [0.1] * 8 + [0.2] + [0.3] + [-0.1]
    assert _rules(points, 2) == [8, 9]
    assert _rules([0.1] * 8 + [0.0], 2) == []  # a point on the centre line breaks the run


def test_rule_3_six_steadily_increasing():
    assert _rules([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.4], 3) == [5]
    assert _rules([0, 0.1, 0.2, 0.3, 0.4, 0.4], 3) == []  # a tie is not an increase


def test_rule_4_fourteen_alternating():
    points = [(-1) ** i * 0.5 for i in range(14)]
    assert _rules(points, 4) == [13]
    assert _rules(points[:13], 4) == []


def test_rule_5_two_of_three_beyond_two_sigma_same_side():
    assert _rules([2.5, 0, 2.2], 5) == [2]
    assert _rules([2.5, 0, -2.2], 5) == []  # opposite sides
    assert _rules([2.5, 2.2, 0], 5) == [1]  # reported when completed, not on the inside point


def test_rule_6_four_of_five_beyond_one_sigma():
    assert _rules([1.5, 1.2, 0, 1.1, 1.3], 6) == [4]
    assert _rules([1.5, 1.2, 0, -1.1, 1.3], 6) == []


def test_rule_7_fifteen_within_one_sigma():
    assert _rules([0.5, -0.5] * 7 + [0.2], 7) == [14]


def test_rule_8_eight_beyond_one_sigma_either_side():
    assert _rules([1.5, -1.5] * 4, 8) == [7]
    assert _rules([1.5, -1.5, 1.5, -1.5, 0.5, 1.5, -1.5, 1.5], 8) == []


def test_rules_default_to_all_eight_and_unknown_rules_are_refused():
    violations = spc.run_rule_violations([4.0], 0, 1)
    assert violations == [(0, 1)]
    with pytest.raises(spc.SpcError):
        spc.run_rule_violations([1.0], 0, 1, rules=[9])


def test_rules_accept_per_point_sigma():
    # an attribute chart: the same deviation is beyond 3 sigma only where the sample was large
    assert spc.run_rule_violations([0.5, 0.5], 0.2, [0.2, 0.05], rules=[1]) == [(1, 1)]


def test_piston_ring_phase_two_drifts_out_of_control():
    xbar, _ = spc.xbar_r_limits(_pistonrings()[:25])
    phase2 = [float(np.mean(g)) for g in _pistonrings()[:25] + _pistonrings(trial=False)]
    flagged = spc.run_rule_violations(phase2, xbar.center, xbar.sigma, rules=spc.DEFAULT_RULES)
    # Montgomery: samples 37 and 38 (index 36, 37) plot above the UCL; the run before them is flagged too
    assert {(36, 1), (37, 1)} <= set(flagged)
    assert all(i >= 25 for i, _ in flagged)


# --- capability ------------------------------------------------------------------------------------------


def _piston_values():
    return [v for g in _pistonrings()[:25] for v in g]


def test_capability_piston_rings_matches_qcc():
    cap = spc.capability(_piston_values(), 73.95, 74.05, subgroup_size=5)
    assert cap.n == 125
    assert cap.sigma_within == pytest.approx(0.009785039, rel=1e-4)
    assert cap.cp == pytest.approx(1.703, abs=1e-3)
    assert cap.cpk == pytest.approx(1.663, abs=1e-3)
    two_sided = spc.cpk_confidence_bound(cap.cpk, cap.n, 0.95, two_sided=True)
    assert two_sided == pytest.approx(1.448, abs=1e-3)
    assert cap.cpk_lower_bound == pytest.approx(cap.cpk - 1.6449 * 0.10973, abs=1e-3)
    assert cap.normality.is_normal
    assert cap.method == "normal"
    assert cap.warnings == ()


def test_capability_narrow_and_one_sided_specifications():
    cap = spc.capability(_piston_values(), 73.99, 74.01, subgroup_size=5)
    assert cap.cp == pytest.approx(0.341, abs=1e-3)
    assert cap.cpk == pytest.approx(0.301, abs=1e-3)
    upper_only = spc.capability(_piston_values(), None, 74.05, subgroup_size=5)
    assert upper_only.cp is None and upper_only.pp is None
    assert upper_only.cpk == pytest.approx(1.663, abs=1e-3)
    lower_only = spc.capability(_piston_values(), 73.95, None, subgroup_size=5)
    assert lower_only.cpk == pytest.approx(1.743, abs=1e-3)


def test_overall_indices_use_the_sample_standard_deviation():
    values = _piston_values()
    cap = spc.capability(values, 73.95, 74.05, subgroup_size=5)
    sd = float(np.std(values, ddof=1))
    assert cap.sigma_overall == pytest.approx(sd)
    assert cap.pp == pytest.approx(0.1 / (6 * sd))


def test_individuals_capability_uses_the_moving_range():
    values = [float(r["viscosity"]) for r in _table("viscosity") if r["trial"] == "TRUE"]
    cap = spc.capability(values, 32, 36)
    assert cap.sigma_within == pytest.approx(0.5076521 * 1.128 / spc.D2[2], rel=1e-6)
    assert "few_values" in cap.warnings


def test_non_normal_data_use_the_iso_22514_percentile_method():
    rng = np.random.default_rng(7)
    skewed = rng.lognormal(mean=0, sigma=0.6, size=2000)
    cap = spc.capability(skewed, None, 8.0)
    assert not cap.normality.is_normal
    assert cap.method == "percentile"
    p_low, median, p_high = np.percentile(skewed, [0.135, 50, 99.865])
    assert cap.ppk_percentile == pytest.approx((8.0 - median) / (p_high - median))
    assert cap.pp_percentile is None  # one-sided


def test_anderson_darling_on_normal_data():
    rng = np.random.default_rng(3)
    result = spc.anderson_darling(rng.normal(10, 2, size=500))
    assert result.p_value > 0.05
    assert spc.anderson_darling(list(range(1, 9)) + [500]).p_value < 0.05


def test_capability_input_errors():
    with pytest.raises(spc.SpcError, match="specification"):
        spc.capability([1, 2, 3], None, None)
    with pytest.raises(spc.SpcError, match="below"):
        spc.capability([1, 2, 3], 5, 4)


def test_default_chart_by_subgroup_size():
    assert spc.chart_kind(1) == "imr"
    assert spc.chart_kind(5) == "xbar_r"
    assert spc.chart_kind(8) == "xbar_r"
    assert spc.chart_kind(9) == "xbar_s"
