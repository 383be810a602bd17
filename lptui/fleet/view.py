"""What the fleet console shows of one read, shaped off its UI thread: the rows of each table (the first
MAX_ROWS, filtered and sorted as the user chose), which host columns fit the terminal and how wide each
column is, the tab titles' counts, and the records of the hosts shown. Pure: no I/O, no Textual; built in
the reader process (lptui.fleet.reader) and sent whole to the console.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from lptui.fleet import cells
from lptui.fleet.answers import CveState, cve_verdicts, exposed_first, rollouts
from lptui.fleet.history import PatchHistory
from lptui.fleet.state import Fleet, Host

CONSOLE_WINDOW = 6 * 3600.0  # seconds of each patch's rollout curve in the console's Patches tab
MAX_ROWS = 1_000  # hosts in the table at once (the worst first, or the sort's first): `/` finds the rest


@dataclass(frozen=True)
class Shape:
    """What the user chose: a filter (words every shown host's row contains), a sort column (None: worst
    first) and its direction, a CVE for the CVE tab, and the table's width for the column priorities."""

    filter: str = ""
    sort: str | None = None
    descending: bool = False
    cve: str | None = None
    width: int = 120
    focus: str | None = None  # the host whose drill-down is open: its record comes with every view


@dataclass(frozen=True)
class FleetView:
    """One read, shaped: what the console shows, computed off the UI thread."""

    at: float | None  # Prometheus's evaluation time of the read shown; None: no read has answered yet
    error: str | None
    seconds: float  # the read's own time
    read_at: float  # time.monotonic() when the read ended: a host's poll age grows from there
    shape: Shape
    total: int = 0  # hosts in the fleet
    doubtful: int = 0  # hosts whose series have problems
    records: dict[str, Host] = field(default_factory=dict)  # the shown hosts' records, and the focused one
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # each table's that fit, by priority
    widths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # each table's column widths
    hosts: dict[str, list[cells.Cell]] = field(default_factory=dict)  # shown rows, in order
    matching: int = 0  # hosts matching the filter (more than shown past MAX_ROWS)
    patches: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve_title: str | None = None
    cve_exposed: int = 0  # hosts not fixed
    counts: str = ""


PATCH_COLUMNS = (*cells.ROLLOUT_COLUMNS, *cells.history_columns(CONSOLE_WINDOW))  # as the cells come
# the Patches tab's columns as shown, and the order they give way in when the terminal is narrow
PATCH_ORDER = (
    "Patch",
    "Live",
    "Live over time",
    "Moving (oldest)",
    "Transitions p50 / p90",
    "Went live",
    "Lacking it",
    "Being removed",
    "Disabled",
)
PATCH_PRIORITY = (
    "Patch",
    "Live",
    "Live over time",
    "Moving (oldest)",
    "Lacking it",
    "Transitions p50 / p90",
    "Being removed",
    "Went live",
    "Disabled",
)


def shape_view(
    fleet: Fleet | None,
    error: str | None,
    seconds: float,
    shape: Shape,
    history: dict[str, PatchHistory] | None = None,
) -> FleetView:
    """The tables for `fleet` as `shape` asks (no Prometheus, no Textual: a test builds one directly). Only
    what the console shows crosses to it: the first MAX_ROWS rows of each table and their hosts' records,
    whatever the fleet's size (the view is what the reader process sends)."""
    view = FleetView(None if fleet is None else fleet.at, error, seconds, time.monotonic(), shape)
    if fleet is None:
        return view
    rows, matching, by_name = _host_rows(fleet, shape)
    width = shape.width
    columns, widths = {}, {}
    columns["hosts"], widths["hosts"], hosts = cells.fit(rows, cells.HOST_COLUMNS, width, cells.PRIORITY)
    history = history or {}
    patch_rows = {
        r.patch: cells.rollout_cells(r) + cells.history_cells(history.get(r.patch), r, CONSOLE_WINDOW, 12)
        for r in rollouts(fleet)
    }
    columns["patches"], widths["patches"], patches = cells.fit(
        patch_rows, PATCH_COLUMNS, width, PATCH_PRIORITY, PATCH_ORDER
    )
    cve, title, exposed = {}, None, 0
    if shape.cve is not None:
        verdicts = exposed_first(cve_verdicts(fleet, shape.cve))
        cve = {v.host: cells.cve_cells(v) for v in verdicts[:MAX_ROWS]}
        title = cells.cve_title(shape.cve, verdicts)
        exposed = sum(1 for v in verdicts if v.verdict is CveState.NOT_FIXED)
    columns["cve"], widths["cve"], cve = cells.fit(cve, cells.CVE_COLUMNS, width, cells.CVE_COLUMNS, least=3)
    return replace(
        view,
        columns=columns,
        widths=widths,
        hosts=hosts,
        matching=matching,
        patches=patches,
        cve=cve,
        cve_title=title,
        cve_exposed=exposed,
        counts=cells.state_counts(fleet.hosts),
        total=len(fleet.hosts),
        doubtful=sum(1 for h in fleet.hosts if h.problems),
        records=by_name,
    )


def _host_rows(fleet: Fleet, shape: Shape) -> tuple[dict[str, list[cells.Cell]], int, dict[str, Host]]:
    """The hosts table's rows (the first MAX_ROWS matching the filter, in the sort's order), how many
    match, and the records of those shown and of the focused host. Cells are made only for the rows
    shown, unless a filter must read every host's."""
    if shape.filter:
        every = {h.name: cells.host_cells(h) for h in fleet.hosts}
        wanted = [h for h in fleet.hosts if cells.matches(every[h.name], shape.filter)]
    else:
        every, wanted = {}, list(fleet.hosts)
    if shape.sort is not None:
        key = cells.SORT_KEYS[shape.sort]
        wanted.sort(key=lambda h: (key(h), h.name), reverse=shape.descending)
    by_name = {h.name: h for h in wanted[:MAX_ROWS]}
    rows = {name: every.get(name) or cells.host_cells(h) for name, h in by_name.items()}
    if shape.focus is not None and shape.focus not in by_name and (focused := fleet.host(shape.focus)):
        by_name[shape.focus] = focused
    return rows, len(wanted), by_name
