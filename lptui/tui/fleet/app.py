"""`lptui fleet --prometheus URL`: the fleet console. Three tabs answer the fleet's questions (hosts worst
first, rollout by patch, one CVE's verdict per host); Enter on a host shows its series in the host
console's panels (host.py), refreshed with the table, and the command that opens its own console.
Read-only: no key reaches a host.

lptui.fleet.poller reads and shapes each view on its own thread; the UI thread applies the rows that
changed, a slice at a time (table.py), then tells the poller the view is shown (back-pressure). A failed
read keeps the last fleet on screen and says why.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Input, TabbedContent, TabPane

from lptui.core.oncall.history import age_text
from lptui.fleet import cells
from lptui.fleet.poller import MAX_ROWS, FleetPoller, FleetView
from lptui.fleet.prometheus import Prometheus
from lptui.fleet.state import CVE_ID
from lptui.fleet.view import CONSOLE_WINDOW, PATCH_ORDER
from lptui.tui.fleet.host import FleetHostScreen
from lptui.tui.fleet.table import KeyedRows
from lptui.tui.shown import App, DataTable, Static, Text

KEYS_HELP = (
    "1 hosts (worst first) · 2 patches (N of M) · 3 or c a CVE's verdict per host · / filter the hosts "
    "(words any cell holds: stuck, a kernel, a patch) · s sort by the next column, S reverse (or click a "
    "header) · Enter on a host: its series in the host console's panels · r refresh now · q quit"
)


@dataclass
class FleetViewReady(Message):
    view: FleetView


class FleetApp(App):
    TITLE = "lptui fleet"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("1", "tab('hosts')", "Hosts"),
        Binding("2", "tab('patches')", "Patches"),
        Binding("3,c", "cve", "CVE"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "sort(True)", "Reverse", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("question_mark", "keys", "Keys"),
    ]
    CSS = """
    #fleet-status { height: 1; }
    #cve-input { width: 40; }
    #filter { height: 1; border: none; padding: 0 1; display: none; }
    #filter.-on { display: block; }
    #hosts-shown, #patches-shown { height: auto; color: $text-muted; }
    #cve-shown { height: auto; padding: 0 1; text-style: bold; }
    """

    def __init__(
        self,
        prom: Prometheus,
        *,
        job: str,
        host_label: str,
        stale: float,
        interval: float,
        read=None,
        history=None,
    ) -> None:
        """`read` (and `history`): the fleet from a function, in this process (tests, snapshots)."""
        super().__init__()
        self.prom = prom
        self.poller = FleetPoller(
            prom,
            self.post_message_from_poller,
            job=job,
            host_label=host_label,
            stale=stale,
            interval=interval,
            read=read,
            history=history,
        )
        self.view: FleetView | None = None  # the last view shown
        self.error: str | None = None  # why the last read failed
        self._steps: Iterator[None] | None = None
        self._frozen = False

    def post_message_from_poller(self, view: FleetView) -> None:
        self.post_message(FleetViewReady(view))  # post_message is safe from another thread

    @property
    def cve(self) -> str | None:
        return self.poller.shape.cve

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Reading {self.prom.base}…", style="dim"), id="fleet-status")
        with TabbedContent(id="tabs"):
            with TabPane("Hosts", id="tab-hosts"):
                yield Input(
                    placeholder="filter: words any cell holds (Enter: back to the table)", id="filter"
                )
                yield DataTable(id="hosts", cursor_type="row")
                yield Static("", id="hosts-shown")
            with TabPane("Patches", id="tab-patches"):
                yield DataTable(id="patches", cursor_type="row")
                yield Static("", id="patches-shown")
            with TabPane("CVE", id="tab-cve"):
                yield Input(placeholder="CVE-2026-0815, then Enter", id="cve-input")
                yield Static("", id="cve-shown")
                yield DataTable(id="cve", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.tables = {
            name: KeyedRows(self.query_one(f"#{name}", DataTable)) for name in ("hosts", "patches", "cve")
        }
        self.query_one("#hosts", DataTable).focus()  # Enter works at once (not on the tab bar)
        self.poller.reshape(replace(self.poller.shape, width=self._width()))
        self.poller.start()

    def _width(self) -> int:
        return max(self.size.width - 2, 40)  # the vertical scroll bar

    def on_resize(self) -> None:
        if self.poller.shape.width != self._width():
            self.poller.reshape(replace(self.poller.shape, width=self._width()))

    def on_fleet_view_ready(self, message: FleetViewReady) -> None:
        view = message.view
        if view.at is None:  # no read has answered: the last view stays on screen, the error is said
            self.error = view.error
            self._finish()
            return
        self.view, self.error = view, view.error
        self._steps = chain(
            self.tables["hosts"].steps(view.hosts, view.columns["hosts"], view.widths["hosts"]),
            self.tables["patches"].steps(view.patches, view.columns["patches"], view.widths["patches"]),
            self.tables["cve"].steps(view.cve, view.columns["cve"], view.widths["cve"]),
        )
        self._step()

    def _step(self) -> None:
        """One slice of the table work, then the next after the events waiting (keys answer between) and
        an idle moment (when Textual lays out the rows just added)."""
        if self._steps is not None and next(self._steps, StopIteration) is not StopIteration:
            self.set_timer(0.001, self._step)
            return
        self._steps = None
        self._finish()

    def _finish(self) -> None:
        try:
            if not self._frozen and self.view is not None:
                # the console's own objects (Textual's DOM, styles, the first rows) stay for the session: out
                # of the collector's reach, a full collection scans only what refreshes leave, not 100 ms
                # of widgets every few refreshes (benchmarks/fleet.py)
                gc.freeze()
                self._frozen = True
            self._titles()
            if isinstance(self.screen, FleetHostScreen) and self.view is not None:
                record = self.view.records.get(self.screen.host_record.name)
                self.screen.show(record, self.view.read_at, self.view.at)
        finally:
            self.poller.shown()  # back-pressure: the next read waits for this one to be shown

    def _titles(self) -> None:
        view, status = self.view, self.query_one("#fleet-status", Static)
        if self.error is not None:
            shown = f" (showing the read of {view.total} hosts before)" if view else ""
            status.update(Text(f"{time.strftime('%H:%M:%S')} {self.error}{shown}", style="bold red"))
        if view is None:
            return
        if self.error is None:
            when = time.strftime("%H:%M:%S", time.localtime(view.at))
            slow = f"; read in {view.seconds:.1f} s" if view.seconds >= 1 else ""
            status.update(
                Text(
                    f"{when} {self.prom.base}: {view.total} hosts; {view.doubtful} with problems "
                    f"(Enter on one: why){slow}"
                )
            )
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.get_tab("tab-hosts").label = Text(f"Hosts ({view.counts})")
        tabs.get_tab("tab-patches").label = Text(f"Patches ({len(view.patches)})")
        shape = view.shape
        sort = (
            f"sorted by {shape.sort}{' (reversed)' if shape.descending else ''}"
            if shape.sort
            else "worst first"
        )
        filtered = f' matching "{shape.filter}"' if shape.filter else ""
        cut = f" (the first {MAX_ROWS:,}: / to filter)" if view.matching > len(view.hosts) else ""
        dropped = [c for c in cells.HOST_COLUMNS if c not in view.columns["hosts"]]
        narrow = f" · hidden at this width: {', '.join(dropped)}" if dropped else ""
        self.query_one("#hosts-shown", Static).update(
            Text(f"{len(view.hosts):,} of {view.matching:,} hosts{filtered}{cut}, {sort}{narrow}")
        )
        hidden = [c for c in PATCH_ORDER if c not in view.columns["patches"]]
        self.query_one("#patches-shown", Static).update(
            Text(
                f"rollout over the last {age_text(CONSOLE_WINDOW)}; transitions: this boot's, every host's"
                + (f" · hidden at this width: {', '.join(hidden)}" if hidden else "")
            )
        )
        self.query_one("#cve-shown", Static).update(Text(view.cve_title or ""))
        if view.cve_title:  # the tab's title short (80 columns hold three tabs): the whole line is above
            tabs.get_tab("tab-cve").label = Text(f"CVE ({view.cve_exposed} not fixed)")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.query_one("#hosts", DataTable).focus()
            return
        value = event.value.strip()
        if not CVE_ID.match(value):
            self.notify(f"{value!r} is not a CVE id (CVE-YYYY-NNNN)", severity="warning")
            return
        self.poller.reshape(replace(self.poller.shape, cve=value.upper()))
        self.query_one("#cve", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.poller.reshape(replace(self.poller.shape, filter=event.value.strip()))
            event.input.set_class(bool(event.value), "-on")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "hosts" or self.view is None:
            return
        host = self.view.records.get(str(event.row_key.value))
        if host is not None:
            self.push_screen(FleetHostScreen(host, self.view.read_at, self.view.at))
            self.poller.reshape(replace(self.poller.shape, focus=host.name))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.data_table.id == "hosts":
            column = str(event.label.plain)
            shape = self.poller.shape
            descending = not shape.descending if shape.sort == column else False
            self.poller.reshape(replace(shape, sort=column, descending=descending))

    def action_sort(self, reverse: bool = False) -> None:
        """s: sort by the next column shown (after the last: worst first again); S: reverse the order."""
        shape = self.poller.shape
        if reverse:
            self.poller.reshape(replace(shape, descending=not shape.descending))
            return
        columns = list(self.view.columns["hosts"] if self.view and self.view.columns else cells.HOST_COLUMNS)
        following = columns[columns.index(shape.sort) + 1 :] if shape.sort in columns else columns
        self.poller.reshape(replace(shape, sort=following[0] if following else None, descending=False))

    def action_filter(self) -> None:
        self.action_tab("hosts")
        field = self.query_one("#filter", Input)
        field.add_class("-on")
        field.focus()

    def action_cve(self) -> None:
        if isinstance(self.screen, FleetHostScreen):  # from a host's drill-down: back to the fleet's tabs
            self.pop_screen()
        self.query_one("#tabs", TabbedContent).active = "tab-cve"
        self.query_one("#cve-input", Input).focus()

    def action_refresh(self) -> None:
        self.poller.request()

    def action_tab(self, name: str) -> None:
        if isinstance(self.screen, FleetHostScreen):
            self.pop_screen()
        self.query_one("#tabs", TabbedContent).active = f"tab-{name}"
        self.query_one(f"#{name}", DataTable).focus()

    def action_keys(self) -> None:
        self.notify(KEYS_HELP, title="Keys", timeout=10)

    def on_unmount(self) -> None:
        self.poller.stop()


def run_fleet_console(prom: Prometheus, *, job: str, host_label: str, stale: float, interval: float) -> int:
    app = FleetApp(prom, job=job, host_label=host_label, stale=stale, interval=interval)
    app.run()
    return app.return_code or 0  # Textual sets 1 when the app died of an exception
