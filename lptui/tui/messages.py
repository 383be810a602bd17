"""Messages between worker threads, screens and the App (post_message is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from lptui.core.model import TaskInfo
from lptui.watch.poller import View


class ViewReady(Message):
    """A poll's view: the App stores it in its one reactive, and the screens render it."""

    def __init__(self, view: View) -> None:
        super().__init__()
        self.view = view


class PollFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class WorkerFailed(Message):
    def __init__(self, worker: str, error: str) -> None:
        super().__init__()
        self.worker = worker
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


class ActionRequested(Message):
    """From the dashboard: revert/force/unload/load, with the row selected there (None: none)."""

    def __init__(self, action: str, target: str | None) -> None:
        super().__init__()
        self.action = action
        self.target = target


class TaskChosen(Message):
    def __init__(self, task: TaskInfo) -> None:
        super().__init__()
        self.task = task


class PatchChosen(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
