"""The fleet console's read loop, Textual-free as the host console's (lptui.watch.poller): a thread asks
its source for each view (lptui.fleet.view: the tables shaped, filter, sort, cells, which columns fit)
and hands it to the console, whose UI thread only applies the rows that changed. The source is the
reader process (lptui.fleet.reader: reading and shaping 10,000 hosts take a second of Python, which in
this process would hold the GIL against the console's event loop) or, given a `read` function (tests,
snapshots), this thread itself.

Back-pressure: the next read starts only after the last view was shown (`shown()`) and `interval`
seconds have passed; `request()` reads now; `reshape()` shapes the last fleet again without a read (a
filter typed, a sort or a CVE chosen), so a key answers at once.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from lptui.fleet.history import PatchHistory
from lptui.fleet.prometheus import FleetError, Prometheus
from lptui.fleet.state import Fleet, quiet_gc
from lptui.fleet.view import MAX_ROWS, FleetView, Shape, shape_view

__all__ = ["MAX_ROWS", "FleetPoller", "FleetView", "Shape", "quiet_gc", "shape_view"]


class InProcess:
    """A source that reads and shapes here, with `read` (tests, snapshots: a fixed Fleet)."""

    def __init__(self, read: Callable[[], Fleet], history: dict[str, PatchHistory] | None = None) -> None:
        self.read, self.history = read, history
        self.last: tuple[Fleet | None, str | None, float] = (None, None, 0.0)

    def view(self, read: bool, shape: Shape) -> FleetView:
        with quiet_gc():
            if read:
                began = time.perf_counter()
                try:
                    self.last = (self.read(), None, 0.0)
                except FleetError as exc:
                    self.last = (self.last[0], str(exc), 0.0)  # the last fleet stays, with why
                self.last = (*self.last[:2], time.perf_counter() - began)
            return shape_view(*self.last, shape, self.history)

    def close(self) -> None:
        pass


class FleetPoller:
    """Asks its source for a view on its own thread and hands each to `deliver` (called on that thread:
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
        history: dict[str, PatchHistory] | None = None,
    ) -> None:
        from lptui.fleet.reader import ReaderProcess, Settings

        self.deliver, self.interval = deliver, max(interval, 0.5)
        self.source: InProcess | ReaderProcess = (
            InProcess(read, history)
            if read is not None
            else ReaderProcess(Settings.of(prom, job=job, host_label=host_label, stale=stale))
        )
        self.shape = Shape()
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
            read = time.monotonic() >= due or self._wake.is_set()
            if not read and not self._reshape.is_set():
                self._wait(due)
                continue
            self._wake.clear()
            self._reshape.clear()
            try:
                view = self.source.view(read, self.shape)
            except FleetError as exc:  # the reader process died: said, and started again next time
                view = shape_view(None, str(exc), 0.0, self.shape)
            if read:
                due = time.monotonic() + self.interval
            self._shown.clear()
            self.deliver(view)
            # the young generations only, here: a full collection over tens of thousands of records holds
            # the GIL for 100 ms or more, a pause the UI thread would feel (the records hold no cycles)
            gc.collect(1)

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
        if self._thread is not None:
            self._thread.join(5)
        self.source.close()
