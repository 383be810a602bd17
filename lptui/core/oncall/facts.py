"""The facts an on-call engineer needs beyond one snapshot: the transition's real age and whether a
transition was forced this boot. Shared by `status`, `check`, `metrics`, `watch` and the console."""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.model import Snapshot
from lptui.core.oncall.history import (
    ForceEvidence,
    KernelClock,
    LogHistory,
    TransitionAge,
    forced_evidence,
    transition_age,
)
from lptui.core.oncall.kmsg import KmsgReader


@dataclass(frozen=True)
class OnCall:
    snapshot: Snapshot
    age: TransitionAge | None  # None: no transition
    forced: tuple[ForceEvidence, ...]
    log_problem: str | None  # why the kernel log could not be read (then "forced" may be incomplete)

    @property
    def forced_this_boot(self) -> bool | None:
        if self.forced:
            return True
        return None if self.log_problem else False


def read_history(kmsg_path: str | None) -> tuple[LogHistory, str | None]:
    """Every livepatch line still in the kernel log, and why it could not be read (if so)."""
    history = LogHistory()
    if kmsg_path is None:
        return history, "no kernel log for this source"
    reader = KmsgReader(kmsg_path)
    try:
        if reader.error:
            return history, reader.error
        history.feed(reader.read_new(limit=1_000_000))
    finally:
        reader.close()
    return history, None


def on_call(
    snap: Snapshot,
    history: LogHistory,
    clock: KernelClock,
    wall_now: float,
    *,
    observed_since: float | None = None,
    log_problem: str | None = None,
) -> OnCall:
    age = None
    if snap.transition is not None:
        age = transition_age(snap.transition, history, clock, wall_now, observed_since)
    return OnCall(snap, age, forced_evidence(snap, history), log_problem)
