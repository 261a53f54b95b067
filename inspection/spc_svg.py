"""Server-rendered SVG geometry for control charts and histograms (pages, tablets and PDFs alike; no script).
Pure functions: numbers in, coordinates out; templates draw them."""

from __future__ import annotations

import math

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 900, 220, 64, 12, 14


def _scale(lo: float, hi: float):
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        lo, hi = (lo - 1, lo + 1) if math.isfinite(lo) else (0.0, 1.0)
    span = hi - lo
    lo, hi = lo - span * 0.08, hi + span * 0.08

    def y(v: float) -> float:
        return round(HEIGHT - PAD_Y - (v - lo) / (hi - lo) * (HEIGHT - 2 * PAD_Y), 1)

    return y, lo, hi


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def chart_svg(series, *, links: list[str], titles: list[str]) -> dict:
    """Geometry of one chart: the data polyline, step lines for centre and limits (they change where a new
    set of limits took effect), a circle per point (red with its rule numbers when it violates)."""
    values = series.values
    finite = [v for v in values if math.isfinite(v)]
    bounds = finite + [v for v in series.lcl + series.ucl if math.isfinite(v)]
    y, lo, hi = _scale(min(bounds), max(bounds))
    n = len(values)
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(n - 1, 1)

    def x(i: int) -> float:
        return round(PAD_LEFT + i * step, 1)

    def steps(line: list[float]) -> str:
        parts, previous = [], None
        for i, v in enumerate(line):
            if not math.isfinite(v):
                continue
            if previous is None:
                parts.append(f"M{x(i) - step / 2 if i else x(i)},{y(v)}")
            elif v != previous:
                parts.append(f"H{x(i) - step / 2}V{y(v)}")
            previous = v
        if previous is not None:
            parts.append(f"H{x(n - 1)}")
        return "".join(parts)

    points = []
    for i, v in enumerate(values):
        if not math.isfinite(v):
            continue
        rules = series.violations.get(i, [])
        points.append(
            {
                "x": x(i),
                "y": y(v),
                "bad": bool(rules),
                "rules": ",".join(str(r) for r in sorted(rules)),
                "href": links[i] if i < len(links) else "",
                "title": f"{titles[i] if i < len(titles) else ''} {_fmt(v)}",
            }
        )
    ticks = [
        {"y": y(v), "label": _fmt(v)} for v in (series.ucl[-1], series.center[-1], series.lcl[-1]) if math.isfinite(v)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "center": steps(series.center),
        "lcl": steps(series.lcl),
        "ucl": steps(series.ucl),
        "points": points,
        "ticks": ticks,
        "left": PAD_LEFT,
    }


def histogram_svg(hist: dict, lsl, usl) -> dict:
    """Bars, the fitted normal curve and the specification limits."""
    counts, edges = hist["counts"], hist["edges"]
    lo, hi = edges[0], edges[-1]
    top = max(max(counts, default=1), max((c for _, c in hist["curve"]), default=1), 1)

    def x(v: float) -> float:
        return round(PAD_LEFT + (v - lo) / (hi - lo) * (WIDTH - PAD_LEFT - PAD_RIGHT), 1)

    def y(c: float) -> float:
        return round(HEIGHT - PAD_Y - c / top * (HEIGHT - 2 * PAD_Y), 1)

    bars = [
        {"x": x(edges[i]), "y": y(c), "w": round(x(edges[i + 1]) - x(edges[i]) - 1, 1), "h": round(y(0) - y(c), 1)}
        for i, c in enumerate(counts)
    ]
    specs = [{"x": x(float(v)), "label": label} for v, label in ((lsl, "LSL"), (usl, "USL")) if v is not None]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "curve": " ".join(f"{x(a)},{y(b)}" for a, b in hist["curve"]),
        "specs": specs,
        "base": y(0),
        "lo": _fmt(lo),
        "hi": _fmt(hi),
    }
