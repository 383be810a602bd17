"""Tasks holding up the transition, longest-pending first, updated by row key."""

from __future__ import annotations

from collections.abc import Mapping

from lptui.core.model import TaskInfo
from lptui.core.oncall.history import age_text
from lptui.core.output.task_columns import PENDING_TABLE, columns
from lptui.tui.fmt import task_text
from lptui.tui.shown import Text
from lptui.tui.widgets.keyed_table import KeyedTable

SHOWN = columns(PENDING_TABLE)


class PendingTable(KeyedTable):
    BORDER_TITLE = "Pending tasks"
    COLUMNS = tuple((c.key, c.label, c.width, c.narrow) for c in SHOWN)
    NARROW_LABELS = {c.key: c.short for c in SHOWN if c.short}

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
        # the model: the task and its whole seconds pending (a redraw per second, not per poll)
        wanted = {key: (t, int(pending_for.get(t.tid, 0.0))) for key, t in self._tasks.items()}
        self.apply(wanted)
        if keep is not None and str(keep.tid) in self._shown:
            self.move_cursor(row=self.get_row_index(str(keep.tid)))

    def cells(self, model: tuple) -> tuple:
        task, since = model
        return tuple(
            Text(age_text(since, compact=True), justify="right")
            if c.key == "pending_for"
            else task_text(c, task)
            for c in SHOWN
        )
