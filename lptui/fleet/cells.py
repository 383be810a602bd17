"""The fleet's table rows as plain (text, style) cells, shared by the CLI's Rich tables and the fleet
console's DataTables so both show the same words; a style is a Rich style name, applied by the caller.
The values are a host's own labels: the printers escape them (lptui.richtext.Text), as every output does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from lptui.core.oncall.history import age_text
from lptui.core.shown import shown
from lptui.fleet.answers import CveState, CveVerdict, Rollout
from lptui.fleet.history import PatchHistory, sparkline, went_live_text
from lptui.fleet.records import HostState
from lptui.fleet.state import Host

Cell = tuple[str, str]  # (text, style)

STUCK_AFTER = 60.0  # seconds: `lptui check`'s default --warn (the kernel's fake signal came at 15 s)
STATE_STYLE = {
    HostState.STUCK: "bold red",
    HostState.DOWN: "bold red",
    HostState.STALE: "yellow",
    HostState.SUSPECT: "bold yellow",
    HostState.IN_TRANSITION: "yellow",
    HostState.OK: "green",
}
STATE_ORDER = tuple(HostState)  # worst first
BAD_VALUE = "bad value"
VERDICT_STYLE = {
    CveState.FIXED: "green",
    CveState.IN_TRANSITION: "yellow",
    CveState.NOT_FIXED: "bold red",
    CveState.UNKNOWN: "dim",
}
HOST_COLUMNS = (
    "Host",
    "State",
    "Kernel",
    "Live",
    "In transition",
    "Age",
    "Pending",
    "Top blocker",
    "Forced",
    "Last poll",
)
ROLLOUT_COLUMNS = ("Patch", "Live", "Moving (oldest)", "Being removed", "Disabled", "Lacking it")
CVE_COLUMNS = ("Host", "Verdict", "Why")


def _c(value: object, style: str = "") -> Cell:
    return str(value), style


def host_cells(h: Host) -> list[Cell]:
    if h.last_known is not None:  # down: what its series last said, and the state says so
        return last_known_cells(h, h.last_known)
    live = sum(1 for p in h.patches if p.live)
    t = h.transition
    bad = any("bad value" in p for p in h.problems)
    age = (age_text(t.age_seconds) if t.age_seconds is not None else BAD_VALUE if bad else "?") if t else ""
    poll = f"{poll_text(h.poll_age)} ago" if h.poll_age is not None else BAD_VALUE if bad else "never"
    state = shown_state(h)
    return [
        _c(h.name, "bold"),
        _c(state, STATE_STYLE[state]),
        _c(h.release or "?"),
        _c(live if h.reporting else "?"),
        _c(t.patch if t else "", "cyan"),
        _c(age, "bold yellow" if age == BAD_VALUE else ""),
        _c(t.tasks_pending if t and t.tasks_pending is not None else ""),
        _c(h.top_blocker or ""),
        _c({True: "FORCED", False: "no", None: "?"}[h.forced], "bold red" if h.forced else ""),
        _c(poll, "bold yellow" if poll == BAD_VALUE else ""),
    ]


def poll_text(seconds: float) -> str:
    """A last poll's age to the minute ("<1 m", "4 m", "2 h 14 m"): fresh or not is the table's question
    (the drill-down and `--json` give the second), and a cell that changed with every read made the
    console redraw every row of a large fleet on every refresh."""
    if seconds < 60:
        return "<1 m"
    if seconds < 3600:
        return f"{int(seconds // 60)} m"
    return age_text(seconds)


def last_known_cells(h: Host, k: Host) -> list[Cell]:
    """A down host's row: "down, was stuck" and the values its series last had, dim (old, not now)."""
    row = host_cells(replace(k, up=True, stale=False, last_known=None))
    was = row[1][0]
    row = [(text, "dim") for text, _ in row]
    row[0] = _c(h.name, "bold")
    row[1] = _c(f"down, was {was}", STATE_STYLE[HostState.DOWN])
    return row


def shown_state(h: Host) -> HostState:
    """The host's state as the tables show it: a transition older than STUCK_AFTER is "stuck", a young
    one merely "in transition" (a 3 s transition and a 2 h stall must not look alike)."""
    t = h.transition
    if h.state is HostState.IN_TRANSITION and t is not None and (t.age_seconds or 0) >= STUCK_AFTER:
        return HostState.STUCK
    return h.state


def state_counts(hosts: Iterable[Host]) -> str:
    """The hosts tab's title: how many hosts in each state, the worst first ("2 in transition · 1 down ·
    7 ok"), states with none left out."""
    order = STATE_ORDER
    counts = {state: sum(1 for h in hosts if shown_state(h) == state) for state in order}
    return " · ".join(f"{n} {state}" for state, n in counts.items() if n) or "none"


# the hosts table's columns in the order they give way when the terminal is narrow: the last first
PRIORITY = (
    "Host",
    "State",
    "In transition",
    "Age",
    "Pending",
    "Top blocker",
    "Last poll",
    "Forced",
    "Kernel",
    "Live",
)
PADDING = 2  # a DataTable cell's padding, one each side


def cell_width(text: str) -> int:
    """The terminal cells `text` takes as the console shows it (escaped: lptui.core.shown; an East Asian
    wide character takes two)."""
    text = shown(text)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_widths(rows: list[list[Cell]], columns: tuple[str, ...]) -> tuple[int, ...]:
    """Each column's width: its widest value or its header (the console fixes the columns' widths from
    these, so a value is never cut and the UI thread measures nothing)."""
    return tuple(
        max([cell_width(column), *(cell_width(row[i][0]) for row in rows)])
        for i, column in enumerate(columns)
    )


def fit(
    rows: dict[str, list[Cell]],
    columns: tuple[str, ...],
    width: int,
    priority: tuple[str, ...],
    order: tuple[str, ...] | None = None,
    least: int = 2,
) -> tuple[tuple[str, ...], tuple[int, ...], dict[str, list[Cell]]]:
    """The columns whose widest values fit in `width` together, taken by `priority` (the first `least`
    always), shown in `order`; their widths; the rows cut to them. A value is never cut: a column gives
    way whole."""
    widths = dict(zip(columns, column_widths(list(rows.values()), columns), strict=True))
    chosen: set[str] = set()
    used = 0
    for column in priority:
        if used + widths[column] + PADDING <= width or len(chosen) < least:
            chosen.add(column)
            used += widths[column] + PADDING
    shown = tuple(c for c in (order or columns) if c in chosen)
    index = [columns.index(c) for c in shown]
    return shown, tuple(widths[c] for c in shown), {key: [row[i] for i in index] for key, row in rows.items()}


def matches(row: list[Cell], words: str) -> bool:
    """Every word of the filter is in one of the row's cells (case ignored): "stuck 6.1", "host-04"."""
    text = " ".join(cell[0] for cell in row).lower()
    return all(word in text for word in words.lower().split())


_RANK = {state: i for i, state in enumerate(STATE_ORDER)}
SORT_KEYS: dict[str, Callable[[Host], Any]] = {
    "Host": lambda h: h.name,
    "State": lambda h: _RANK[shown_state(h)],
    "Kernel": lambda h: h.release or "",
    "Live": lambda h: sum(1 for p in h.patches if p.live),
    "In transition": lambda h: h.transition.patch if h.transition else "",
    "Age": lambda h: (h.transition.age_seconds or 0) if h.transition else -1,
    "Pending": lambda h: (h.transition.tasks_pending or 0) if h.transition else -1,
    "Top blocker": lambda h: h.top_blocker or "",
    "Forced": lambda h: bool(h.forced),
    "Last poll": lambda h: h.poll_age if h.poll_age is not None else float("inf"),
}


def problem_lines(hosts: Iterable[Host]) -> list[str]:
    """What is wrong with each host's series, one line a problem (under the hosts table)."""
    return [f"{h.name}: {problem}" for h in hosts for problem in h.problems]


def rollout_cells(r: Rollout) -> list[Cell]:
    moving = f"{len(r.in_transition)} ({age_text(r.oldest_transition)})" if r.in_transition else "0"
    # counts, never lists: at 1,000 hosts the names run to thousands of characters (`--json` lists them)
    lacking = f"{len(r.lacking)} of the same release" if r.lacking else "-"
    return [
        _c(r.patch, "cyan"),
        _c(f"{len(r.live)} of {r.hosts}", "green"),
        _c(moving, "yellow" if r.in_transition else ""),
        _c(len(r.removing) or "-"),
        _c(len(r.disabled)),
        _c(lacking, "bold red" if r.lacking else ""),
    ]


def _took(seconds: float | None) -> str:
    """A transition's duration: tenths under 10 s (most take under a second), else as ages are shown."""
    if seconds is None:
        return "?"
    return f"{seconds:.1f} s" if seconds < 10 else age_text(seconds)


def history_columns(since: float | None) -> tuple[str, ...]:
    return ("Transitions p50 / p90", *(("Live over time", "Went live") if since else ()))


def history_cells(h: PatchHistory | None, r: Rollout, since: float | None, curve: int = 30) -> list[Cell]:
    """A patch's transitions across the fleet (the median and 90th percentile of this boot's, every host's,
    and how many) and, over a window, its curve against its M hosts and when hosts went live."""
    done = f"{_took(h.p50)} / {_took(h.p90)} ({h.transitions})" if h and h.transitions else "-"
    row = [_c(done)]
    if since:
        row.append(_c(sparkline(h.curve, r.hosts, curve) if h else "", "green"))
        row.append(_c(went_live_text(h, since) if h else "-"))
    return row


def cve_cells(v: CveVerdict) -> list[Cell]:
    return [_c(v.host, "bold"), _c(v.verdict, VERDICT_STYLE[v.verdict]), _c(v.why)]


def cve_title(cve: str, verdicts: tuple[CveVerdict, ...]) -> str:
    counts = {k: sum(1 for v in verdicts if v.verdict == k) for k in VERDICT_STYLE}
    return f"{cve}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
