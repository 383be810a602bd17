"""Tasks holding up the transition, longest-pending first, updated by row key."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from lptui.core.model import TaskInfo
from lptui.tui.fmt import SHORT_REASON, duration, flag
from lptui.tui.widgets.keyed_table import KeyedTable

# Narrow (80 columns): state and kernel-thread flag give way (the reason says both: "D-state
# sleep", "kthread in patched fn"); 76 cells wide with padding, room for the vertical scrollbar.
COLUMNS = (
    ("pid", "PID", 7, 6),
    ("tid", "TID", 7, 6),
    ("comm", "Command", 16, 9),
    ("state", "St", 2, 0),
    ("kthread", "Kthr", 4, 0),
    ("pending", "Pending", 7, 7),
    ("function", "Blocking function", 24, 14),
    ("reason", "Reason", 22, 22),
)


MAX_ROWS = 1000  # nobody reads more; the all-tasks screen (a) lists everything


class PendingTable(KeyedTable):
    BORDER_TITLE = "Pending tasks"
    COLUMNS = COLUMNS
    NARROW_LABELS = {"function": "Function"}
    shown_limit = MAX_ROWS

    def on_mount(self) -> None:
        self._tasks: dict[str, TaskInfo] = {}

    def selected(self) -> TaskInfo | None:
        key = self.selected_key()
        return None if key is None else self._tasks.get(key)

    def reconcile(self, pending: tuple[TaskInfo, ...], pending_for: Mapping[int, float]) -> None:
        """`pending` comes longest-pending first; a newly pending task is the newest, so appending
        keeps the order and no re-sort is needed."""
        keep = self.selected()
        self._tasks = {str(t.tid): t for t in pending}
        wanted = {
            # whole seconds only: a redraw per second, not per poll
            key: (t.pid, t.tid, t.comm, t.state, t.kthread, int(pending_for.get(t.tid, 0.0)),
                  t.blocking_functions, t.reason_code)
            for key, t in self._tasks.items()
        }  # fmt: skip
        self.apply(wanted)
        if keep is not None and str(keep.tid) in self._shown:
            self.move_cursor(row=self.get_row_index(str(keep.tid)))

    def cells(self, model: tuple) -> tuple:
        pid, tid, comm, state, kthread, since, functions, reason = model
        return (
            Text(str(pid), justify="right"),
            Text(str(tid), justify="right"),
            Text(comm or "?"),
            Text(state or "?", style="bold red" if state == "D" else ""),
            flag(kthread, "yes", "-"),
            Text(duration(since), justify="right"),
            Text(", ".join(functions), style="bold red"),
            Text(SHORT_REASON[reason], style="yellow"),
        )
