"""The main screen: kernel header, transition panel, pending tasks, patches, event log."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from lptui.core.model import Snapshot, TaskInfo
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.kernel_header import KernelHeader
from lptui.tui.widgets.keyed_table import NARROW_BELOW, KeyedTable
from lptui.tui.widgets.patch_table import PatchTable
from lptui.tui.widgets.pending_table import PendingTable
from lptui.tui.widgets.transition_panel import TransitionPanel

ACTIONS = {"load", "revert", "force", "unload"}


class DashboardScreen(Screen):
    AUTO_FOCUS = None  # the app focuses a table once the first snapshot is in
    BINDINGS = [
        Binding("a", "app.all_tasks", "All tasks", id="all-tasks"),
        Binding("l", "app.load", "Load", id="load"),
        Binding("v", "app.revert", "Revert", id="revert"),
        Binding("f", "app.force", "Force", id="force"),
        Binding("u", "app.unload", "Unload", id="unload"),
        Binding("r", "app.refresh", "Refresh", id="refresh"),
        Binding("question_mark", "app.help", "Help", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def compose(self) -> ComposeResult:
        yield KernelHeader(id="kernel")
        yield Static(id="status-line")
        yield TransitionPanel(id="transition")
        yield PendingTable(id="pending")
        yield PatchTable(id="patches")
        yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transition").display = False
        self.query_one(PendingTable).display = False
        self.app.start_watching()

    def on_resize(self) -> None:
        # short terminals: give the rows to the pending tasks (the event log is one key away: Help)
        self.set_class(self.size.height < 32, "-compact")
        narrow = self.size.width < NARROW_BELOW
        self.set_class(narrow, "-narrow")
        for table in self.query(KeyedTable):
            table.set_narrow(narrow)

    def show(self, snap: Snapshot, shown: tuple[TaskInfo, ...]) -> None:
        app = self.app
        now = app.clock()
        tracker = app.tracker
        self.query_one(KernelHeader).show(snap, *app.badge())
        status = self.query_one("#status-line", Static)
        status.update(app.status_text(snap))
        panel = self.query_one(TransitionPanel)
        panel.show(snap, tracker, now)
        pending = self.query_one(PendingTable)
        pending.display = snap.transition is not None
        with app.batch_update():
            pending.reconcile(shown, tracker, now)
            self.query_one(PatchTable).reconcile(snap)
        n = len(snap.pending_tasks)
        shown = f", {pending.shown_limit} longest-pending shown" if n > pending.shown_limit else ""
        pending.border_title = f"Pending tasks ({n}{shown})"
        self.query_one(PatchTable).border_title = f"Patches ({len(snap.patches)})"

    def on_key(self, event: events.Key) -> None:
        # A dimmed binding does not run its action and its key arrives here: say why, in one line.
        for binding in self.BINDINGS:
            action = binding.action.removeprefix("app.")
            if binding.key == event.key and action in ACTIONS:
                why = self.app.why_disabled(action)
                if why:
                    event.stop()
                    self.app.notify(why, severity="warning")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, PendingTable):
            self.app.action_task_details()
        elif isinstance(event.data_table, PatchTable):
            self.app.action_patch_details()
