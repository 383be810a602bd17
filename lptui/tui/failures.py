"""One place for worker failures: any failing worker is shown to the user in one line.

Textual's `Worker.StateChanged` does not bubble, so every node that runs workers mixes this in:
an ERROR state posts `WorkerFailed` to the App (which notifies and logs it, and keeps polling)
and calls the node's own `worker_failed` (to stop a spinner, show the error in place)."""

from __future__ import annotations

from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from lptui.core import shown
from lptui.tui.messages import WorkerFailed


def one_line(error: BaseException | None) -> str:
    """The error in one escaped line of at most shown.MAX_LINE characters (what it says may come from
    a file, a bundle or a server)."""
    if error is None:
        return "unknown error"
    text = " ".join(str(error).split()) or type(error).__name__
    named = f"{type(error).__name__}: {text}" if not str(error).startswith(type(error).__name__) else text
    return shown.one_line(named)


class ShowsWorkerFailures(MessagePump):
    """Mixed into an App or a Screen (a MessagePump, so `self.app` is typed)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        message = one_line(event.worker.error)
        self.worker_failed(event.worker.name, message)
        self.app.post_message(WorkerFailed(event.worker.name or "worker", message))

    def worker_failed(self, name: str, message: str) -> None:
        """Override to show the failure in place (the App has already been told)."""
