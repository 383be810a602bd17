"""The fleet's history, from what Prometheus already stores (no store of lptui's own): each patch's rollout
over a window (hosts live on it, step by step: one bounded range query), when each host went live on it
(one instant query over a subquery), and how long its transitions took across the fleet (the quantiles of
the hosts' `lptui_transition_duration_seconds` histograms, summed per patch).

"Live" is what the rollout counts now: enabled, transition complete (`lptui_patch_enabled == 1` and
`lptui_patch_in_transition == 0`), for each host and patch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from lptui.core.oncall import series as S
from lptui.fleet.prometheus import Prometheus
from lptui.fleet.queries import _job_matcher, _label_name

POINTS = 30  # points of a rollout curve over its window
WENT_LIVE_POINTS = 300  # steps of the subquery that finds when each host went live
MAX_WINDOW = 30 * 86400.0  # seconds: --since at most 30 days


@dataclass(frozen=True)
class PatchHistory:
    curve: tuple[tuple[float, int], ...]  # (time, hosts live on it), oldest first
    went_live: dict[str, float]  # host -> first time seen live in the window (its start if live before)
    p50: float | None  # seconds: the fleet's median transition of this patch (this boot's, every host's)
    p90: float | None
    transitions: int  # transitions observed
    start: float = 0.0  # the window's start: a host live before it went live "before the window"
    step: float = 0.0


def live_expr(job: str, host_label: str) -> str:
    job_is, host = _job_matcher(job), _label_name(host_label)
    by = f"max by ({host}, patch)"
    return (
        f"{by} ({S.PATCH_ENABLED}{{{job_is}}} == 1) and on ({host}, patch) "
        f"{by} ({S.PATCH_IN_TRANSITION}{{{job_is}}} == 0)"
    )


def parse_since(text: str) -> float:
    """A window as Prometheus writes durations: 90m, 6h, 2d (a bare number is seconds)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"--since {text!r}: a duration such as 90m, 6h or 2d") from None
    if not 0 < seconds <= MAX_WINDOW or not math.isfinite(seconds):
        raise ValueError(f"--since {text!r}: between a second and 30 days")
    return seconds


def read_history(
    prom: Prometheus, *, job: str, host_label: str, since: float, now: float | None = None
) -> dict[str, PatchHistory]:
    """Each patch's history over the last `since` seconds: three queries whatever the fleet's size."""
    # whole milliseconds, as Prometheus counts: a start rounded up past `end - since` would drop the last
    # point (the only one, on a young Prometheus)
    end = round(now if now is not None else time.time(), 3)
    start, step = round(end - since, 3), max(round(since / POINTS), 1)
    live = live_expr(job, host_label)
    host = _label_name(host_label)
    curves: dict[str, list[tuple[float, int]]] = {}
    for labels, points in prom.query_range(f"count by (patch) ({live})", start, end, step):
        curves[labels.get("patch", "")] = [(t, int(v)) for t, v in points]
    first: dict[str, dict[str, float]] = {}
    fine = max(round(since / WENT_LIVE_POINTS), 1)  # the go-live time to a 300th of the window
    went = f"min_over_time(timestamp({live})[{int(since)}s:{int(fine)}s])"
    for labels, value in prom.query(went, end).samples:
        first.setdefault(labels.get("patch", ""), {})[labels.get(host, "")] = value
    quantiles = _durations(prom, job)
    patches = set(curves) | set(first) | set(quantiles)
    return {
        p: PatchHistory(
            tuple(curves.get(p, ())), first.get(p, {}), *quantiles.get(p, (None, None, 0)), start, fine
        )
        for p in sorted(patches)
    }


def _durations(prom: Prometheus, job: str) -> dict[str, tuple[float | None, float | None, int]]:
    job_is = _job_matcher(job)
    buckets = f"sum by (patch, le) ({S.TRANSITION_DURATION_SECONDS}_bucket{{{job_is}}})"
    counts = f"sum by (patch) ({S.TRANSITION_DURATION_SECONDS}_count{{{job_is}}})"
    out: dict[str, list[Any]] = {}
    for labels, value in prom.query(counts).samples:
        out[labels.get("patch", "")] = [None, None, int(value)]
    for i, q in enumerate((0.5, 0.9)):
        for labels, value in prom.query(f"histogram_quantile({q}, {buckets})").samples:
            if labels.get("patch", "") in out and math.isfinite(value):
                out[labels["patch"]][i] = value
    return {p: (v[0], v[1], v[2]) for p, v in out.items()}


def sparkline(curve: tuple[tuple[float, int], ...], of: int, width: int = POINTS) -> str:
    """The curve as eight-level blocks against `of` hosts ("▁▁▂▄▆██"), at most `width` of them (evenly
    spaced points, the last one always)."""
    if not curve:
        return ""
    if len(curve) > width:
        last = len(curve) - 1
        curve = tuple(curve[round(last - (width - 1 - i) * last / (width - 1))] for i in range(width))
    blocks = "▁▂▃▄▅▆▇█"
    top = max(of, max(n for _, n in curve), 1)
    return "".join(blocks[min(int(n / top * (len(blocks) - 1) + 0.5), len(blocks) - 1)] for _, n in curve)


def history_json(h: PatchHistory | None, since: float | None) -> dict[str, Any]:
    """A patch's durations, and with a window its curve and its hosts' go-live times."""
    durations = {
        "p50_seconds": None if h is None or h.p50 is None else round(h.p50, 3),
        "p90_seconds": None if h is None or h.p90 is None else round(h.p90, 3),
        "transitions": 0 if h is None else h.transitions,
    }
    if since is None:
        return {"durations": durations}
    return {
        "durations": durations,
        "curve": [] if h is None else [[t, n] for t, n in h.curve],
        "went_live": {} if h is None else dict(sorted(h.went_live.items())),
    }


def went_live_text(h: PatchHistory, window: float) -> str:
    """When its first and its last host went live in the window ("before" for hosts live at its start)."""
    if not h.went_live:
        return "-"
    form = "%H:%M" if window <= 86400 else "%m-%d %H:%M"

    def when(t: float) -> str:
        return "before" if t <= h.start + h.step else time.strftime(form, time.localtime(t))

    first, last = min(h.went_live.values()), max(h.went_live.values())
    return when(first) if when(first) == when(last) else f"{when(first)} → {when(last)}"
