"""The fleet console's read loop, Textual-free as the host console's (lptui.watch.poller): one thread reads
a round from Prometheus, reduces it, and shapes every table (filter, sort, cells, which columns fit) before
anything reaches the UI thread, which only applies the rows that changed. At 10,000 hosts the reading and
shaping take about a second; none of it runs where keys are handled.

Back-pressure: the next read starts only after the last view was shown (`shown()`) and `interval`
seconds have passed; `request()` reads now; `reshape()` shapes the last fleet again without a read (a
filter typed, a sort or a CVE chosen), so a key answers at once.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from lptui.fleet import cells
from lptui.fleet.answers import cve_verdicts, exposed_first, rollouts
from lptui.fleet.prometheus import FleetError, Prometheus
from lptui.fleet.state import Fleet, read_fleet

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


@dataclass(frozen=True)
class FleetView:
    """One read, shaped: what the console shows, computed off the UI thread."""

    fleet: Fleet | None
    error: str | None
    seconds: float  # the read's own time
    read_at: float  # time.monotonic() when the read ended: a host's poll age grows from there
    shape: Shape
    columns: tuple[str, ...] = ()  # the hosts table's columns that fit `shape.width`, by priority
    widths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # each table's column widths
    hosts: dict[str, list[cells.Cell]] = field(default_factory=dict)  # shown rows, in order
    matching: int = 0  # hosts matching the filter (more than shown past MAX_ROWS)
    patches: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve: dict[str, list[cells.Cell]] = field(default_factory=dict)
    cve_title: str | None = None
    counts: str = ""


def shape_view(fleet: Fleet | None, error: str | None, seconds: float, shape: Shape) -> FleetView:
    """The tables for `fleet` as `shape` asks (no Prometheus, no Textual: a test builds one directly)."""
    view = FleetView(fleet, error, seconds, time.monotonic(), shape)
    if fleet is None:
        return view
    rows = {h.name: cells.host_cells(h) for h in fleet.hosts}
    wanted = [h for h in fleet.hosts if cells.matches(rows[h.name], shape.filter)]
    if shape.sort is not None:
        key = cells.SORT_KEYS[shape.sort]
        wanted.sort(key=lambda h: (key(h), h.name), reverse=shape.descending)
    shown = [h.name for h in wanted[:MAX_ROWS]]
    columns, host_widths = cells.fitting_columns([rows[name] for name in shown], shape.width)
    keep = [cells.HOST_COLUMNS.index(c) for c in columns]
    hosts = {name: [rows[name][i] for i in keep] for name in shown}
    patches = {r.patch: cells.rollout_cells(r) for r in rollouts(fleet)}
    cve, title = {}, None
    if shape.cve is not None:
        verdicts = exposed_first(cve_verdicts(fleet, shape.cve))
        cve = {v.host: cells.cve_cells(v) for v in verdicts}
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
    )


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic collection while a read or a shape builds its thousands of records: one would hold the
    GIL, and so the UI thread, for as long as it scans every object of the process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class FleetPoller:
    """Reads the fleet on its own thread and hands each shaped view to `deliver` (called on that thread:
    the console posts it to its UI thread)."""

    def __init__(
        self,
        prom: Prometheus,
        deliver: Callable[[FleetView], None],
        *,
        job: str,
        host_label: str,
        stale: float,
        interval: float,
        read: Callable[[], Fleet] | None = None,
    ) -> None:
        self.deliver, self.interval = deliver, max(interval, 0.5)
        self._read = read or (lambda: read_fleet(prom, job=job, host_label=host_label, stale=stale))
        self.shape = Shape()
        self._last: tuple[Fleet | None, str | None, float] = (None, None, 0.0)
        self._shown, self._wake, self._stop = threading.Event(), threading.Event(), threading.Event()
        self._reshape = threading.Event()
        self._shown.set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="lptui-fleet-poller", daemon=True)
        self._thread.start()

    def run(self) -> None:
        due = 0.0
        while not self._stop.is_set():
            self._shown.wait()
            if self._stop.is_set():
                return
            if time.monotonic() >= due or self._wake.is_set():
                self._wake.clear()
                self._reshape.clear()
                self._last = self._read_once()
                due = time.monotonic() + self.interval
            elif self._reshape.is_set():
                self._reshape.clear()
            else:
                self._wait(due)
                continue
            self._shown.clear()
            with quiet_gc():
                view = shape_view(*self._last, self.shape)
            self.deliver(view)
            # the young generations only, here: a full collection over tens of thousands of records holds
            # the GIL for 100 ms or more, a pause the UI thread would feel (the records hold no cycles)
            gc.collect(1)

    def _read_once(self) -> tuple[Fleet | None, str | None, float]:
        began = time.perf_counter()
        try:
            with quiet_gc():
                fleet, error = self._read(), None
        except FleetError as exc:
            fleet, error = self._last[0], str(exc)  # the last fleet stays on screen, with why
        return fleet, error, time.perf_counter() - began

    def _wait(self, due: float) -> None:
        """Until the interval is over, a read is asked for, or a new shape is."""
        while not self._stop.is_set() and not self._wake.is_set() and not self._reshape.is_set():
            left = due - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(min(left, 0.1))

    def shown(self) -> None:
        """The last view is on screen: the next may come."""
        self._shown.set()

    def request(self) -> None:
        self._wake.set()

    def reshape(self, shape: Shape) -> None:
        self.shape = shape
        self._reshape.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._shown.set()
