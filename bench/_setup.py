"""Django set-up shared by the benchmark scripts (run from the repository root)."""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")

import django  # noqa: E402

django.setup()

from qms.core.scoping import system_scope  # noqa: E402

# Benchmarks act as the system across sites, as management commands do (entered once, for the process).
# Keep a reference: a dropped generator-based context manager is closed at once, leaving the scope again.
_SYSTEM_SCOPE = system_scope()
_SYSTEM_SCOPE.__enter__()


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(label: str, samples_ms: list[float]) -> str:
    s = sorted(samples_ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"{label:<48} median {statistics.median(s):9.2f} ms   p95 {p95:9.2f} ms   (n={len(s)})"
