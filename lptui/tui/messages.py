"""Messages between worker threads, screens and the App (post_message is thread-safe). Dataclasses, as
Textual's own messages are: the fields are the message."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from lptui.core.model import TaskInfo
from lptui.watch.poller import View


@dataclass
class ViewReady(Message):
    """A poll's view: the App stores it in its one reactive, and the screens render it."""

    view: View


@dataclass
class PollFailed(Message):
    """A poll raised: the App shows `error` in the event log and keeps the last view."""

    error: str


@dataclass
class WorkerFailed(Message):
    """A worker other than the poll's died: its name and one line of why."""

    worker: str
    error: str


@dataclass
class ActionDone(Message):
    """An action's outcome (`ok`) in one line, for the notification and the event log."""

    ok: bool
    text: str


@dataclass
class ModuleEvent(Message):
    """A module was added or removed (udev's `action`, the module's `name`): poll now."""

    action: str
    name: str


@dataclass
class AllTasksReady(Message):
    """`lptui tasks --all`'s rows, read in a worker, for the all-tasks screen."""

    tasks: tuple[TaskInfo, ...]


@dataclass
class ActionRequested(Message):
    """From the dashboard: an action's key, with the row selected there (None: none)."""

    action: str
    target: str | None


@dataclass
class TaskChosen(Message):
    """Enter on a pending task: its detail screen."""

    task: TaskInfo


@dataclass
class PatchChosen(Message):
    """Enter on a patch: its detail screen."""

    name: str
