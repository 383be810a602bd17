"""One host of the fleet, from its series in Prometheus, in the host console's panels: the kernel line,
the transition with its progress, the blocking threads by reason, the patches with their life cycle, and
the command that opens its own console. Read-only, like the whole fleet view.

What the series do not carry (the tasks themselves, their stacks, a patch's objects and functions) is
not shown as if known: that is what `ssh HOST sudo lptui` is for.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar

from lptui.core.livepatch.blockers import SHORT_REASON
from lptui.core.model import Mechanism, Reason
from lptui.core.oncall.history import AgeSource, age_text
from lptui.fleet.answers import console_command
from lptui.fleet.cells import STATE_STYLE, shown_state
from lptui.fleet.records import HostState
from lptui.fleet.state import Host
from lptui.tui.fmt import WHAT_TO_DO, flag
from lptui.tui.shown import DataTable, Static, Text

PATCH_COLUMNS = ("Patch", "Enabled", "Transition", "System", "Version", "CVEs", "Provenance", "Reboot")
BADGE = {
    HostState.OK: "OK",
    HostState.IN_TRANSITION: "IN TRANSITION",
    HostState.STUCK: "STUCK",
    HostState.DOWN: "EXPORTER DOWN",
    HostState.STALE: "STALE",
    HostState.SUSPECT: "SUSPECT",
}


def header_line(h: Host, since_read: float = 0.0) -> Text:
    """The host console's kernel line, for a host seen through Prometheus; its last poll as old as it is
    now (`since_read`: seconds since the fleet was read)."""
    line = Text()
    line.append(" lptui fleet ", style="bold reverse")
    line.append(f" {h.name} ", style="bold")
    line.append(f" {h.release or '?'} ", style="bold")
    line.append(f"{h.machine or ''}  ", style="dim")
    state = shown_state(h)
    line.append(f" {BADGE[state]} ", style=f"{STATE_STYLE[state]} reverse")
    known = h.last_known
    polled = known.poll_age if known is not None else h.poll_age
    age = polled + since_read if polled is not None else None
    poll = f"last poll {age_text(age)} ago" if age is not None else "never polled"
    if known is not None:
        poll += ": its last known state below"
    line.append(f"  {poll}", style="dim" if h.reporting else "bold yellow")
    if h.forced:
        line.append("  FORCED this boot", style="bold red")
    return line


def transition_line(h: Host, read_wall: float | None = None) -> Text:
    """The transition: patch, direction, how long (stuck past a minute), progress; with `read_wall` (the
    read's wall-clock time) the time it started, from its age (the kernel log's start line)."""
    t = h.transition
    line = Text()
    if t is None:
        return line
    if t.mechanism and t.mechanism != Mechanism.LIVEPATCH:
        line.append(f"{t.mechanism}  ", style="bold magenta")
    line.append(str(t.patch), style="bold cyan")
    line.append(f"  {t.direction}  ", style="bold")
    if t.age_seconds is not None and t.age_source == AgeSource.KERNEL_LOG:
        line.append(f"stuck for {age_text(t.age_seconds)}  ", style="bold" if t.age_seconds >= 60 else "")
        if read_wall is not None:
            started = time.strftime("%H:%M:%S", time.localtime(read_wall - t.age_seconds))
            line.append(f"since {started}  ", style="dim")
    elif t.age_seconds is not None:
        line.append(f"{age_text(t.age_seconds, compact=True)} observed  ", style="dim")
    if t.tasks_total is not None and t.tasks_pending is not None:
        switched = max(t.tasks_total - t.tasks_pending - (t.tasks_unreadable or 0), 0)
        line.append(f"{switched} of {t.tasks_total} tasks switched", style="bold")
    if t.tasks_pending:
        line.append(f"  {t.tasks_pending} pending", style="bold red")
    if t.tasks_unreadable:
        line.append(f"  {t.tasks_unreadable} unreadable", style="yellow")
    return line


def reason_words(code: str) -> str:
    try:
        return SHORT_REASON[Reason(code)] or code
    except ValueError:  # a reason this lptui does not know (a newer exporter): its code as sent
        return str(code)


def advice_for(code: str) -> str:
    """The host console's own advice for a reason (tui/fmt.py WHAT_TO_DO), or a pointer to it."""
    try:
        return WHAT_TO_DO.get(Reason(code), "") or "open the host's console"
    except ValueError:  # a reason this lptui does not know (a newer exporter)
        return "open the host's console"


class FleetHostScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    FleetHostScreen #host-header { height: 1; background: $panel; }
    FleetHostScreen #host-transition {
        height: auto; border: round $warning; border-title-color: $warning; border-title-style: bold;
        padding: 0 1;
    }
    FleetHostScreen #host-progress { width: 1fr; }
    FleetHostScreen #host-progress Bar { width: 1fr; }
    FleetHostScreen #host-blockers { height: auto; border: round $error; border-title-color: $error; }
    FleetHostScreen #host-patches { height: auto; border: round $primary; border-title-color: $primary; }
    FleetHostScreen .section { padding: 0 1; margin-top: 1; }
    """

    def __init__(self, host: Host, read_at: float | None = None, at: float | None = None) -> None:
        super().__init__()
        self.host_record = host
        self.read_at = time.monotonic() if read_at is None else read_at  # when the fleet was read
        self.at = at  # Prometheus's evaluation time of that read: the ages are as of then
        self.gone = False  # the host is no longer in Prometheus's answer
        self.reads = 0  # reads shown since it opened

    def show(self, host: Host | None, read_at: float, at: float | None = None) -> None:
        """The fleet was read again: this host as it is now (the console calls it with every read)."""
        self.call_later(self._again, host, read_at, at)

    async def _again(self, host: Host | None, read_at: float, at: float | None) -> None:
        self.gone = host is None
        if host is not None:
            self.host_record, self.read_at, self.at = host, read_at, at
        await self.recompose()
        self._fill()  # in the same step as the recompose: no frame shows the panels empty
        self.reads += 1

    @property
    def record(self) -> Host:
        """What the panels show: the host's series, or a down host's last known ones."""
        return self.host_record.last_known or self.host_record

    def _header(self) -> Text:
        line = header_line(self.host_record, time.monotonic() - self.read_at)
        if self.gone:
            line.append("  no longer in Prometheus's answer", style="bold red")
        return line

    def _tick(self) -> None:
        self.query_one("#host-header", Static).update(self._header())

    def compose(self) -> ComposeResult:
        h = self.record
        yield Static(self._header(), id="host-header")
        with VerticalScroll():
            if h.transition is not None:
                with Vertical(id="host-transition") as panel:
                    panel.border_title = "Transition"
                    yield Static(transition_line(h, self.at), id="host-transition-line")
                    total = h.transition.tasks_total or 0
                    bar = ProgressBar(id="host-progress", total=max(total, 1), show_eta=False)
                    bar.progress = max(total - (h.transition.tasks_pending or 0), 0) if total else 0
                    yield bar
                if h.blockers:
                    yield DataTable(id="host-blockers", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="host-patches", cursor_type="row", zebra_stripes=True)
            yield Static(self._life_cycle(), id="host-life", classes="section")
            if h.problems:
                problems = Text("\n").join(Text(p, style="bold yellow") for p in h.problems)
                yield Static(problems, id="host-problems", classes="section")
            yield Static(
                Text.assemble(("Open its console: ", "bold"), (str(console_command(h.name)), "bold cyan")),
                id="host-console",
                classes="section",
            )
        yield Footer()

    def _life_cycle(self) -> Text:
        h = self.record
        service = h.kpatch_service or ("?" if h.has_life_cycle else "not exported")
        inactive = "?" if h.inactive_modules is None else str(h.inactive_modules)
        forced = {True: ("FORCED", "bold red"), False: ("no", "green"), None: ("?", "bold yellow")}[h.forced]
        return Text.assemble(
            ("kpatch.service ", "bold"),
            str(service),
            ("   inactive livepatch modules ", "bold"),
            inactive,
            ("   forced this boot ", "bold"),
            forced,
        )

    def on_mount(self) -> None:
        self._fill()
        self.set_interval(1, self._tick)  # the last poll's age grows between reads
        h = self.host_record
        if not h.reporting:
            self.notify(f"{h.name}: exporter {h.state}: these series may be old", severity="warning")

    def _fill(self) -> None:
        h = self.record
        if h.blockers:
            table = self.query_one("#host-blockers", DataTable)
            table.border_title = "Blocking"
            table.border_subtitle = "open the host's console for the tasks and their stacks"
            table.add_columns("Reason", "Threads", "Code", "What you can do")
            for code, threads in h.blockers:
                advice = Text(advice_for(code))
                table.add_row(
                    Text(reason_words(code), style="yellow"), str(threads), Text(str(code), "dim"), advice
                )
        patches = self.query_one("#host-patches", DataTable)
        patches.border_title = "Patches"
        patches.add_columns(
            "Patch", "Enabled", "Transition", "System", "Version", "CVEs", "Provenance", "Reboot"
        )
        for p in h.patches:
            reboot = {True: Text("lost", style="bold yellow"), False: Text("kept"), None: Text("?", "dim")}
            patches.add_row(
                Text(str(p.name), style="bold yellow" if p.lost_at_reboot else "bold"),
                flag(p.enabled),
                flag(p.in_transition, "IN TRANSITION", "no"),
                Text(str(p.mechanism)),
                Text(str(p.version or "-")),
                Text(str(", ".join(p.cves) or "-")),
                flag(p.provenance_known, "known", "unreadable"),
                reboot[p.lost_at_reboot],
            )
        for name in h.installed_not_loaded:
            none = Text("-", style="dim")
            patches.add_row(
                Text(str(name), style="dim"),
                Text("no", style="dim"),
                none,
                none,
                none,
                Text(str(", ".join(c for p, c in h.installed_fixes if p == name) or "-")),
                Text("on disk, not loaded", style="yellow"),
                none,
            )
        notes = []
        if lost := sum(1 for p in h.patches if p.lost_at_reboot):
            notes.append(f"{lost} gone after a reboot (no file)")
        if h.installed_not_loaded:
            notes.append(f"{len(h.installed_not_loaded)} installed, not loaded")
        notes += [f"{p.name} NOT IN EFFECT" for p in h.patches if p.in_effect is False]
        notes += [
            f"{'OOPS' if 'oops' in p.health else 'WARNING'} after {p.name}" for p in h.patches if p.health
        ]
        patches.border_subtitle = Text(" · ".join(notes))
