"""Every thread with its patch_state, filterable by state and by name."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, LoadingIndicator

from lptui.core.model import TaskInfo
from lptui.core.output.task_columns import ALL_THREADS, columns
from lptui.tui.failures import ShowsWorkerFailures
from lptui.tui.fmt import task_text
from lptui.tui.messages import AllTasksReady
from lptui.tui.shown import DataTable, Select, Text

STATES = [
    ("all", "all"),
    ("pending", "pending"),
    ("switched/idle", "done"),
    ("-1", "-1"),
    ("0", "0"),
    ("1", "1"),
]
MAX_ROWS = 5000
SHOWN = columns(ALL_THREADS)


class AllTasksScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("ctrl+f", "focus_filter", "Filter")]

    def __init__(self, load) -> None:
        super().__init__()
        self.load = load  # () -> tuple[TaskInfo, ...], run in a thread
        self.tasks: tuple[TaskInfo, ...] = ()

    def compose(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder="filter by name or pid", id="name-filter")
            yield Select(STATES, value="all", allow_blank=False, id="state-filter")
        yield LoadingIndicator()
        yield DataTable(id="all-tasks", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#all-tasks", DataTable)
        for col in SHOWN:
            table.add_column(col.label, key=col.key)
        table.display = False
        self._read()

    @work(thread=True, exclusive=True, group="all-tasks", exit_on_error=False)
    def _read(self) -> None:
        self.post_message(AllTasksReady(self.load()))

    def worker_failed(self, name: str, message: str) -> None:
        """The spinner never waits forever: the failure takes its place."""
        self.query_one(LoadingIndicator).display = False
        table = self.query_one("#all-tasks", DataTable)
        table.display = True
        table.border_title = Text(f"Cannot list the threads: {message}")

    def on_all_tasks_ready(self, message: AllTasksReady) -> None:
        self.tasks = message.tasks
        self.query_one(LoadingIndicator).display = False
        self.query_one("#all-tasks", DataTable).display = True
        self._fill()

    @on(Input.Changed, "#name-filter")
    @on(Select.Changed, "#state-filter")
    def _filters_changed(self) -> None:
        self._fill()

    def matches(self, t: TaskInfo, text: str, state: str) -> bool:
        if text and text not in (t.comm or "").lower() and text != str(t.pid) and text != str(t.tid):
            return False
        if state == "pending":
            return t.pending
        if state == "done":
            return not t.pending
        if state in ("-1", "0", "1"):
            return t.patch_state == int(state)
        return True

    def _fill(self) -> None:
        table = self.query_one("#all-tasks", DataTable)
        text = self.query_one("#name-filter", Input).value.strip().lower()
        state = str(self.query_one("#state-filter", Select).value)
        rows = [t for t in self.tasks if self.matches(t, text, state)]
        table.clear()
        for t in rows[:MAX_ROWS]:
            table.add_row(*(task_text(col, t) for col in SHOWN), key=str(t.tid))
        shown = (
            f"{min(len(rows), MAX_ROWS)} of {len(rows)} matching" if len(rows) > MAX_ROWS else str(len(rows))
        )
        table.border_title = Text(f"All threads: {shown} shown, {len(self.tasks)} in all")

    def action_focus_filter(self) -> None:
        self.query_one("#name-filter", Input).focus()
