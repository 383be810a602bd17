"""What the dashboard remembers between snapshots: since when each task is pending, the trend."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from lptui.core.model import Snapshot


@dataclass
class TransitionTracker:
    """Fed every snapshot with the time it was read; `now` comes from the caller (tests freeze it)."""

    key: tuple[str, int] | None = None
    started: float | None = None
    pending_since: dict[int, float] = field(default_factory=dict)  # tid -> first seen pending
    history: deque[int] = field(default_factory=lambda: deque(maxlen=120))
    signaled: bool = False

    def observe(self, snap: Snapshot, now: float) -> None:
        t = snap.transition
        if t is None:
            self.key, self.started, self.signaled = None, None, False
            self.pending_since.clear()
            self.history.clear()
            return
        key = (t.patch, t.target)
        if key != self.key:
            self.key, self.started, self.signaled = key, now, False
            self.pending_since.clear()
            self.history.clear()
        pending = {task.tid for task in snap.pending_tasks}
        for tid in list(self.pending_since):
            if tid not in pending:
                del self.pending_since[tid]
        for tid in pending:
            self.pending_since.setdefault(tid, now)
        self.history.append(t.tasks_pending or 0)

    def longest_pending(self, snap: Snapshot, limit: int, now: float) -> tuple:
        """The `limit` tasks pending longest (then by pid), in that order, without sorting them all."""
        import heapq

        since = self.pending_since
        return tuple(heapq.nsmallest(limit, snap.pending_tasks, key=lambda t: (since.get(t.tid, now), t.pid)))

    def elapsed(self, now: float) -> float | None:
        return None if self.started is None else now - self.started

    def pending_for(self, tid: int, now: float) -> float | None:
        since = self.pending_since.get(tid)
        return None if since is None else now - since

    def note_log(self, text: str) -> None:
        if "signaling remaining tasks" in text and self.key is not None:
            self.signaled = True
