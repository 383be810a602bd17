"""Tasks holding up the transition, longest-pending first, updated by row key."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from lptui.core.model import TaskInfo
from lptui.tui.fmt import SHORT_REASON, duration, flag
from lptui.watch.tracker import TransitionTracker

COLUMNS = (
    ("pid", "PID", 7),
    ("tid", "TID", 7),
    ("comm", "Command", 16),
    ("state", "St", 2),
    ("kthread", "Kthr", 4),
    ("pending", "Pending", 7),
    ("function", "Blocking function", 24),
    ("reason", "Reason", 22),
)


MAX_ROWS = 1000  # nobody reads more; the all-tasks screen (a) lists everything


class PendingTable(DataTable):
    BORDER_TITLE = "Pending tasks"
    shown_limit = MAX_ROWS

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self._shown: dict[str, tuple] = {}
        self._tasks: dict[str, TaskInfo] = {}
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def selected(self) -> TaskInfo | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self._tasks.get(key)

    def reconcile(self, pending: tuple[TaskInfo, ...], tracker: TransitionTracker, now: float) -> None:
        keep = self.selected()
        wanted: dict[str, tuple] = {}
        tasks = {str(t.tid): t for t in pending}
        for key, t in tasks.items():
            # whole seconds only: a redraw per second, not per poll
            since = tracker.pending_for(t.tid, now)
            wanted[key] = (t.pid, t.tid, t.comm, t.state, t.kthread, int(since or 0), t.blocking_functions,
                           t.reason_code)  # fmt: skip
        self._tasks = tasks
        for gone in self._shown.keys() - wanted.keys():
            self.remove_row(gone)
            del self._shown[gone]
        # Rows arrive longest-pending first; a newly pending task is the newest, so appending keeps
        # the order and no re-sort is needed. Only cells whose value changed are touched.
        for key, model in wanted.items():
            old = self._shown.get(key)
            if old == model:
                continue
            cells = self._cells(model)
            if old is None:
                self.add_row(*cells, key=key)
            else:
                old_cells = self._cells(old)
                for (col, _, _), cell, before in zip(COLUMNS, cells, old_cells, strict=True):
                    if cell != before or cell.style != before.style:
                        self.update_cell(key, col, cell)
            self._shown[key] = model
        if keep is not None and str(keep.tid) in self._shown:
            self.move_cursor(row=self.get_row_index(str(keep.tid)))

    @staticmethod
    def _cells(model: tuple) -> tuple:
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
