"""SPC speed on realistic sizes (issue 12): limits and rules for a chart of 1,000 subgroups, capability of
100,000 values. Pure computation, no database. Targets: chart <= 100 ms server time, capability <= 50 ms."""

import statistics
import time

import numpy as np

from inspection import spc


def timed(fn, repeat=15):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), max(runs)


rng = np.random.default_rng(1)
subgroups = rng.normal(10.0, 0.1, size=(1000, 5)).tolist()
values = rng.normal(10.0, 0.1, size=100_000).tolist()


def chart():
    xbar, r = spc.xbar_r_limits(subgroups)
    spc.run_rule_violations(xbar.points, xbar.center, xbar.sigma)
    spc.run_rule_violations(r.points, r.center, r.sigma, rules=[1])


med, worst = timed(chart)
print(f"x-bar/R chart, 1,000 subgroups of 5, limits + 8 Nelson rules: median {med:.1f} ms, max {worst:.1f} ms")
med, worst = timed(lambda: spc.capability(values, 9.6, 10.4, subgroup_size=5))
print(f"capability of 100,000 values (Cp/Cpk/Pp/Ppk, bound, Anderson-Darling): median {med:.1f} ms, max {worst:.1f} ms")
