"""The main screen: kernel header, transition panel, pending tasks, patches, event log.

Bound to the App's `view` (data_bind): every poll's View arrives in `watch_view` and is rendered,
nothing else is read. Keys that act post `ActionRequested` with the row selected here; choosing a
row posts `TaskChosen` / `PatchChosen`. The App never queries these widgets.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer

from lptui.core.model import Mechanism
from lptui.tui.availability import why_unavailable
from lptui.tui.keys import ACTION_BINDINGS
from lptui.tui.messages import ActionRequested, PatchChosen, TaskChosen
from lptui.tui.shown import DataTable, Static, Text
from lptui.tui.status_line import NOTE_STYLES, badge_of, status_of
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.kernel_header import KernelHeader
from lptui.tui.widgets.keyed_table import NARROW_BELOW, KeyedTable
from lptui.tui.widgets.only_changes import update_static
from lptui.tui.widgets.patch_table import PatchTable
from lptui.tui.widgets.pending_table import PendingTable
from lptui.tui.widgets.transition_panel import TransitionPanel
from lptui.watch.poller import View

__all__ = ["DashboardScreen"]


class DashboardScreen(Screen):
    AUTO_FOCUS = None  # a table is focused once the first view is in
    BINDINGS = [
        Binding("a", "app.all_tasks", "All tasks", id="all-tasks"),
        *ACTION_BINDINGS,
        Binding("r", "app.refresh", "Refresh", id="refresh"),
        Binding("question_mark", "app.help", "Help", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    # repaint=False: a new view repaints nothing by itself (the default repaints the whole screen
    # each time); the widgets redraw what changed
    view: reactive[View | None] = reactive(None, always_update=True, repaint=False)

    def __init__(self) -> None:
        super().__init__()
        self._views = 0

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
        if self.view is not None:  # a view that arrived before the widgets existed
            self.watch_view(self.view)

    def on_resize(self) -> None:
        # short terminals: give the rows to the pending tasks (the event log is one key away: Help)
        self.set_class(self.size.height < 32, "-compact")
        narrow = self.size.width < NARROW_BELOW
        self.set_class(narrow, "-narrow")
        for table in self.query(KeyedTable):
            table.set_narrow(narrow)

    def watch_view(self, view: View | None) -> None:
        if view is None or not self.is_mounted:
            return
        self._views += 1
        snap = view.snapshot
        events_log = self.query_one(EventLog)
        if view.lines:
            events_log.add_kernel_lines(view.lines, view.boot_wall)
        for note in view.notes:
            events_log.add_note(note.text, view.wall, NOTE_STYLES[note.tone])
        self.set_class(snap.transition is None, "-idle")
        self.query_one(KernelHeader).show(snap, *badge_of(view))
        update_static(self.query_one("#status-line", Static), Text.assemble(*status_of(view)))
        self.query_one(TransitionPanel).show(view)
        pending = self.query_one(PendingTable)
        pending.display = snap.transition is not None
        with self.app.batch_update():
            pending.reconcile(view.rows, view.pending_for)
            self.query_one(PatchTable).reconcile(snap, view.life)
        n = len(snap.pending_tasks)
        more = f", {len(view.rows)} longest-pending shown" if n > len(view.rows) else ""
        t = snap.transition
        what = "Pending tasks" if t is None or t.mechanism is Mechanism.LIVEPATCH else "Pending processes"
        if t is not None and t.aborted is not None:
            what = "Processes in its way"
        pending.border_title = Text(f"{what} ({n}{more})")
        self.query_one(PatchTable).border_title = Text(f"Patches ({len(snap.patches)})")
        if self._views == 1:  # land where it matters: the blockers if a transition runs
            (pending if snap.transition is not None else self.query_one(PatchTable)).focus()

    # ----- keys -----
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act" and parameters and why_unavailable(str(parameters[0]), self.view):
            return None  # dimmed in the footer; pressing it says why (on_key)
        return True

    def action_act(self, action: str) -> None:
        self.post_message(ActionRequested(action, self.query_one(PatchTable).selected_key()))

    def on_key(self, event: events.Key) -> None:
        # A dimmed binding does not run its action and its key arrives here: say why, in one line.
        for binding in ACTION_BINDINGS:
            why = why_unavailable(binding.id or "", self.view) if binding.key == event.key else None
            if why:
                event.stop()
                self.notify(why, severity="warning")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, PendingTable):
            task = event.data_table.selected()
            if task is not None:
                self.post_message(TaskChosen(task))
        elif isinstance(event.data_table, PatchTable):
            name = event.data_table.selected_key()
            if name is not None:
                self.post_message(PatchChosen(name))
