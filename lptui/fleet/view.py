"""What the fleet console shows of one read, shaped off its UI thread: the rows of each table (the first
MAX_ROWS, filtered and sorted as the user chose), which host columns fit the terminal and how wide each
column is, the tab titles' counts, and the records of the hosts shown. Pure: no I/O, no Textual; built in
the reader process (lptui.fleet.reader) and sent whole to the console.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from lptui.fleet import cells
from lptui.fleet.answers import cve_verdicts, exposed_first, rollouts
from lptui.fleet.state import Fleet, Host

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
    columns: tuple[str, ...] = ()  # the hosts table's columns that fit `shape.width`, by priority
    widths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # each table's column widths
    hosts: dict[str, list[cells.Cell]] = field(default_factory=dict)  # shown rows, in order
    matching: int = 0  # hosts matching the filter (more than shown past MAX_ROWS)
    patches: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve_title: str | None = None
    counts: str = ""


def shape_view(fleet: Fleet | None, error: str | None, seconds: float, shape: Shape) -> FleetView:
    """The tables for `fleet` as `shape` asks (no Prometheus, no Textual: a test builds one directly). Only
    what the console shows crosses to it: the first MAX_ROWS rows of each table and their hosts' records,
    whatever the fleet's size (the view is what the reader process sends)."""
    view = FleetView(None if fleet is None else fleet.at, error, seconds, time.monotonic(), shape)
    if fleet is None:
        return view
    if shape.filter:  # every host's cells, to match the words against
        rows = {h.name: cells.host_cells(h) for h in fleet.hosts}
        wanted = [h for h in fleet.hosts if cells.matches(rows[h.name], shape.filter)]
    else:
        rows, wanted = {}, list(fleet.hosts)
    if shape.sort is not None:
        key = cells.SORT_KEYS[shape.sort]
        wanted.sort(key=lambda h: (key(h), h.name), reverse=shape.descending)
    shown = [h.name for h in wanted[:MAX_ROWS]]
    by_name = {h.name: h for h in wanted[:MAX_ROWS]}
    for name in shown:
        if name not in rows:
            rows[name] = cells.host_cells(by_name[name])
    if shape.focus is not None and shape.focus not in by_name and (focused := fleet.host(shape.focus)):
        by_name[shape.focus] = focused
    columns, host_widths = cells.fitting_columns([rows[name] for name in shown], shape.width)
    keep = [cells.HOST_COLUMNS.index(c) for c in columns]
    hosts = {name: [rows[name][i] for i in keep] for name in shown}
    patches = {r.patch: cells.rollout_cells(r) for r in rollouts(fleet)}
    cve, title = {}, None
    if shape.cve is not None:
        verdicts = exposed_first(cve_verdicts(fleet, shape.cve))
        cve = {v.host: cells.cve_cells(v) for v in verdicts[:MAX_ROWS]}
        title = cells.cve_title(shape.cve, verdicts)
    widths = {
        "hosts": host_widths,
        "patches": cells.column_widths(list(patches.values()), cells.ROLLOUT_COLUMNS),
        "cve": cells.column_widths(list(cve.values()), cells.CVE_COLUMNS),
    }
    return replace(
        view,
        columns=columns,
        widths=widths,
        hosts=hosts,
        matching=len(wanted),
        patches=patches,
        cve=cve,
        cve_title=title,
        counts=cells.state_counts(fleet.hosts),
        total=len(fleet.hosts),
        doubtful=sum(1 for h in fleet.hosts if h.problems),
        records=by_name,
    )
