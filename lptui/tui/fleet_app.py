"""`lptui fleet --prometheus URL`: the fleet console. Three tabs answer the fleet's questions (hosts worst
first, rollout by patch, one CVE's verdict per host); Enter on a host shows its series in plain lines
and the command that opens its own console. Read-only: no key reaches a host.

One worker reads the fleet (two instant queries) and hands a frozen `Fleet` to the UI thread; the next
read starts only after the screen has shown the last one and the interval has passed (back-pressure,
as the host console's poller does). A failed read keeps the last fleet on screen and says why.
"""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from lptui.cli.fleet_render import HOST_COLUMNS, VERDICT_STYLE, host_row
from lptui.core.oncall.history import age_text
from lptui.core.tree import escape_controls
from lptui.fleet.answers import cve_verdicts, host_json, rollouts
from lptui.fleet.prometheus import FleetError, Prometheus
from lptui.fleet.state import CVE_ID, Fleet, Host, read_fleet


class FleetRead(Message):
    def __init__(self, fleet: Fleet | None, error: str | None, seconds: float) -> None:
        super().__init__()
        self.fleet, self.error, self.seconds = fleet, error, seconds


class HostScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, host: Host) -> None:
        super().__init__()
        self.host_record = host

    def compose(self) -> ComposeResult:
        data = host_json(self.host_record)
        with VerticalScroll():
            yield Static(Text(escape_controls(data["host"]), style="bold"), id="host-title")
            yield Static(
                Text(f"Open its console: {escape_controls(data['console'])}", style="bold cyan"),
                id="host-console",
            )
            lines = [
                f"state {data['state']}, kernel {data['release'] or '?'} ({data['machine'] or '?'}), "
                f"last poll {age_text(data['poll_age_seconds'])} ago, forced this boot: "
                f"{data['forced_this_boot']}"
            ]
            t = data["transition"]
            if t:
                lines.append(
                    f"transition: {t['patch']} {t['direction']} for {age_text(t['age_seconds'])} "
                    f"({t['age_source']}), {t['tasks_pending']} of {t['tasks_total']} pending"
                )
                lines += [f"  blocked: {n} {reason}" for reason, n in data["blockers"].items()]
            for p in data["patches"]:
                state = "in transition" if p["in_transition"] else "live" if p["enabled"] else "disabled"
                lines.append(
                    f"patch {p['name']} ({p['mechanism']}) {state}; CVEs: {', '.join(p['cves']) or '-'}"
                    f"{'; lost at reboot' if p['lost_at_reboot'] else ''}"
                )
            if data["installed_not_loaded"]:
                lines.append(f"installed, not loaded: {', '.join(data['installed_not_loaded'])}")
            lines.append(f"kpatch.service: {data['kpatch_service'] or '?'}")
            yield Static(Text(escape_controls("\n".join(lines))), id="host-facts")
        yield Footer()


class FleetApp(App):
    TITLE = "lptui fleet"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("c", "cve", "CVE"),
        Binding("r", "refresh", "Refresh now"),
    ]
    CSS = "#fleet-status { height: 1; } #cve-input { width: 40; }"

    def __init__(self, prom: Prometheus, *, job: str, host_label: str, stale: float, interval: float) -> None:
        super().__init__()
        self.prom, self.job, self.host_label, self.stale = prom, job, host_label, stale
        self.interval = max(interval, 0.5)
        self.fleet: Fleet | None = None
        self.cve: str | None = None
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
        self.query_one("#hosts", DataTable).add_columns(*HOST_COLUMNS)
        self.query_one("#patches", DataTable).add_columns(
            "Patch", "Live", "In transition (oldest)", "Disabled", "Same release, lacking it"
        )
        self.query_one("#cve", DataTable).add_columns("Host", "Verdict", "Why")
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
                status.update(Text(f"{when} {escape_controls(message.error)}{shown}", style="bold red"))
            elif self.fleet is not None:
                down = sum(1 for h in self.fleet.hosts if not h.reporting)
                moving = sum(1 for h in self.fleet.hosts if h.reporting and h.transition)
                text = (
                    f"{when} {self.prom.base}: {len(self.fleet.hosts)} hosts, {moving} in transition, "
                    f"{down} not reporting; read in {message.seconds * 1000:.0f} ms"
                )
                status.update(Text(text))
        finally:
            self._shown.set()  # back-pressure: the next read waits for this one to be shown

    def _show(self, fleet: Fleet) -> None:
        hosts = self.query_one("#hosts", DataTable)
        hosts.clear()
        for h in fleet.hosts:
            hosts.add_row(*host_row(h), key=h.name)
        patches = self.query_one("#patches", DataTable)
        patches.clear()
        for r in rollouts(fleet):
            moving = f"{len(r.in_transition)} ({age_text(r.oldest_transition)})" if r.in_transition else "0"
            patches.add_row(
                Text(escape_controls(r.patch), style="cyan"),
                str(len(r.live)),
                moving,
                str(len(r.disabled)),
                Text(escape_controls(", ".join(r.lacking) or "-")),
            )
        self._show_cve()

    def _show_cve(self) -> None:
        table = self.query_one("#cve", DataTable)
        table.clear()
        if self.fleet is None or self.cve is None:
            return
        for v in cve_verdicts(self.fleet, self.cve):
            table.add_row(
                Text(escape_controls(v.host), style="bold"),
                Text(v.verdict, style=VERDICT_STYLE[v.verdict]),
                Text(escape_controls(v.why)),
            )

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
            self.push_screen(HostScreen(host))

    def action_cve(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "tab-cve"
        self.query_one("#cve-input", Input).focus()

    def action_refresh(self) -> None:
        self._wake.set()

    def on_unmount(self) -> None:
        self._stop.set()
        self._wake.set()
        self._shown.set()


def run_fleet_console(prom: Prometheus, *, job: str, host_label: str, stale: float, interval: float) -> int:
    FleetApp(prom, job=job, host_label=host_label, stale=stale, interval=interval).run()
    return 0
