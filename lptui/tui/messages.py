"""Messages from worker threads to the UI (post_message is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from lptui.core.kmsg import LogLine
from lptui.core.model import Snapshot, TaskInfo


class SnapshotReady(Message):
    """`shown` is the pending tasks to display (at most the table's limit), chosen in the worker."""

    def __init__(
        self, snapshot: Snapshot, lines: list[LogLine], wall: float, shown: tuple[TaskInfo, ...] | None = None
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.lines = lines
        self.wall = wall
        self.shown = snapshot.pending_tasks if shown is None else shown


class PollFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ActionDone(Message):
    def __init__(self, ok: bool, text: str) -> None:
        super().__init__()
        self.ok = ok
        self.text = text


class ModuleEvent(Message):
    def __init__(self, action: str, name: str) -> None:
        super().__init__()
        self.action = action
        self.name = name


class AllTasksReady(Message):
    def __init__(self, tasks: tuple[TaskInfo, ...]) -> None:
        super().__init__()
        self.tasks = tasks
