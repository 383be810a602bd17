"""`lptui fleet --prometheus URL`: the fleet console. Three tabs answer the fleet's questions (hosts worst
first, rollout by patch, one CVE's verdict per host); Enter on a host shows its series in the host
console's panels (screens/fleet_host.py) and the command that opens its own console. Read-only: no key
reaches a host.

One worker reads the fleet (one round of instant queries) and hands a frozen `Fleet` to the UI thread;
the next read starts only after the screen has shown the last one and the interval has passed
(back-pressure, as the host console's poller does). A failed read keeps the last fleet on screen and says why.
"""

from __future__ import annotations

import threading
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Input, TabbedContent, TabPane

from lptui.fleet import cells
from lptui.fleet.answers import cve_verdicts, exposed_first, rollouts
from lptui.fleet.prometheus import FleetError, Prometheus
from lptui.fleet.state import CVE_ID, Fleet, read_fleet
from lptui.tui.screens.fleet_host import FleetHostScreen
from lptui.tui.shown import App, DataTable, Static, Text


def _texts(row: list[cells.Cell]) -> list[Text]:
    return [Text(text, style=style) for text, style in row]


def _apply(table: DataTable, rows: dict[str, list[cells.Cell]], shown: dict[str, tuple]) -> None:
    """The table brought to `rows` by key, in their order: rows gone removed, new ones added, changed
    cells updated in place, and a sort only when the order changed. A refresh in which two of a thousand
    hosts changed touches two rows (clearing and refilling redrew all of them every read)."""
    columns = list(table.columns)
    for gone in shown.keys() - rows.keys():
        table.remove_row(gone)
        del shown[gone]
    for key, row in rows.items():
        cells_now = tuple(row)
        before = shown.get(key)
        if before == cells_now:
            continue
        if before is None:
            table.add_row(*_texts(row), key=key)
        else:
            for column, new, old in zip(columns, cells_now, before, strict=True):
                if new != old:
                    table.update_cell(key, column, Text(new[0], style=new[1]))
        shown[key] = cells_now
    if [row.key.value for row in table.ordered_rows] != list(rows):
        # DataTable sorts by cell values: the first column is the row's key, as the cell shows it
        rank = {Text(key).plain: i for i, key in enumerate(rows)}
        table.sort(columns[0], key=lambda cell: rank.get(str(cell), len(rank)))


class FleetRead(Message):
    def __init__(self, fleet: Fleet | None, error: str | None, seconds: float) -> None:
        super().__init__()
        self.fleet, self.error, self.seconds = fleet, error, seconds


class FleetApp(App):
    TITLE = "lptui fleet"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("1", "tab('hosts')", "Hosts"),
        Binding("2", "tab('patches')", "Patches"),
        Binding("3,c", "cve", "CVE"),
        Binding("r", "refresh", "Refresh now"),
        Binding("question_mark", "keys", "Keys"),
    ]
    KEYS_HELP = (
        "1 hosts (worst first) · 2 patches (N of M, rollout) · 3 or c a CVE's verdict per host · "
        "Enter on a host: its series in the host console's panels · r refresh now · q quit"
    )
    CSS = "#fleet-status { height: 1; } #cve-input { width: 40; }"

    def __init__(self, prom: Prometheus, *, job: str, host_label: str, stale: float, interval: float) -> None:
        super().__init__()
        self.prom, self.job, self.host_label, self.stale = prom, job, host_label, stale
        self.interval = max(interval, 0.5)
        self.fleet: Fleet | None = None
        self.cve: str | None = None
        self.rows: dict[str, dict[str, tuple]] = {
            "hosts": {},
            "patches": {},
            "cve": {},
        }  # what each table shows
        self._shown = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Reading {self.prom.base}…", style="dim"), id="fleet-status")
        with TabbedContent(id="tabs"):
            with TabPane("Hosts", id="tab-hosts"):
                yield DataTable(id="hosts", cursor_type="row")
            with TabPane("Patches", id="tab-patches"):
                yield DataTable(id="patches", cursor_type="row")
            with TabPane("CVE", id="tab-cve"):
                yield Input(placeholder="CVE-2026-0815, then Enter", id="cve-input")
                yield DataTable(id="cve", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#hosts", DataTable).add_columns(*cells.HOST_COLUMNS)
        self.query_one("#patches", DataTable).add_columns(*cells.ROLLOUT_COLUMNS)
        self.query_one("#cve", DataTable).add_columns(*cells.CVE_COLUMNS)
        self.query_one("#hosts", DataTable).focus()  # Enter works at once (not on the tab bar)
        self._shown.set()
        self._reader()

    @work(thread=True, exclusive=True, group="fleet", exit_on_error=False)
    def _reader(self) -> None:
        while not self._stop.is_set():
            self._shown.wait()
            self._shown.clear()
            began = time.perf_counter()
            try:
                fleet, error = (
                    read_fleet(self.prom, job=self.job, host_label=self.host_label, stale=self.stale),
                    None,
                )
            except FleetError as exc:
                fleet, error = None, str(exc)
            self.post_message(FleetRead(fleet, error, time.perf_counter() - began))
            self._wake.wait(self.interval)
            self._wake.clear()

    def on_fleet_read(self, message: FleetRead) -> None:
        try:
            status = self.query_one("#fleet-status", Static)
            when = time.strftime("%H:%M:%S")
            if message.fleet is not None:
                self.fleet = message.fleet
                self._show(message.fleet)
            if message.error is not None:
                shown = f" (showing the read of {len(self.fleet.hosts)} hosts before)" if self.fleet else ""
                status.update(Text(f"{when} {message.error}{shown}", style="bold red"))
            elif self.fleet is not None:
                down = sum(1 for h in self.fleet.hosts if not h.reporting)
                moving = sum(1 for h in self.fleet.hosts if h.reporting and h.transition)
                doubtful = sum(1 for h in self.fleet.hosts if h.problems)
                text = (
                    f"{when} {self.prom.base}: {len(self.fleet.hosts)} hosts, {moving} in transition, "
                    f"{down} not reporting, {doubtful} with problems (Enter on one: why); "
                    f"read in {message.seconds * 1000:.0f} ms"
                )
                status.update(Text(text))
        finally:
            self._shown.set()  # back-pressure: the next read waits for this one to be shown

    def _show(self, fleet: Fleet) -> None:
        hosts = {h.name: cells.host_cells(h) for h in fleet.hosts}
        _apply(self.query_one("#hosts", DataTable), hosts, self.rows["hosts"])
        found = {r.patch: cells.rollout_cells(r) for r in rollouts(fleet)}
        _apply(self.query_one("#patches", DataTable), found, self.rows["patches"])
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.get_tab("tab-hosts").label = Text(f"Hosts ({cells.state_counts(fleet.hosts)})")
        tabs.get_tab("tab-patches").label = Text(f"Patches ({len(found)})")
        self._show_cve()

    def _show_cve(self) -> None:
        table = self.query_one("#cve", DataTable)
        if self.fleet is None or self.cve is None:
            _apply(table, {}, self.rows["cve"])
            table.border_title = None
            return
        verdicts = exposed_first(cve_verdicts(self.fleet, self.cve))
        _apply(table, {v.host: cells.cve_cells(v) for v in verdicts}, self.rows["cve"])
        title = cells.cve_title(self.cve, verdicts)
        table.border_title = Text(title)
        self.query_one("#tabs", TabbedContent).get_tab("tab-cve").label = Text(f"CVE ({title})")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not CVE_ID.match(value):
            self.notify(f"{value!r} is not a CVE id (CVE-YYYY-NNNN)", severity="warning")
            return
        self.cve = value.upper()
        self._show_cve()
        self.query_one("#cve", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "hosts" or self.fleet is None:
            return
        host = self.fleet.host(str(event.row_key.value))
        if host is not None:
            self.push_screen(FleetHostScreen(host))

    def action_cve(self) -> None:
        if isinstance(self.screen, FleetHostScreen):  # from a host's drill-down: back to the fleet's tabs
            self.pop_screen()
        self.query_one("#tabs", TabbedContent).active = "tab-cve"
        self.query_one("#cve-input", Input).focus()

    def action_refresh(self) -> None:
        self._wake.set()

    def action_tab(self, name: str) -> None:
        if isinstance(self.screen, FleetHostScreen):
            self.pop_screen()
        self.query_one("#tabs", TabbedContent).active = f"tab-{name}"
        self.query_one(f"#{name}", DataTable).focus()

    def action_keys(self) -> None:
        self.notify(self.KEYS_HELP, title="Keys", timeout=10)

    def on_unmount(self) -> None:
        self._stop.set()
        self._wake.set()
        self._shown.set()


def run_fleet_console(prom: Prometheus, *, job: str, host_label: str, stale: float, interval: float) -> int:
    app = FleetApp(prom, job=job, host_label=host_label, stale=stale, interval=interval)
    app.run()
    return app.return_code or 0  # Textual sets 1 when the app died of an exception
