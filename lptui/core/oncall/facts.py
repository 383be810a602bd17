"""The facts an on-call engineer needs beyond one snapshot: the transition's real age and whether a
transition was forced this boot. Shared by `status`, `check`, `metrics`, `watch` and the console."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from lptui.core.livepatch.verdicts import VerdictLog, with_verdicts
from lptui.core.model import Snapshot, TaskInfo
from lptui.core.oncall.health import HealthFinding, tie
from lptui.core.oncall.history import (
    ForceEvidence,
    KernelClock,
    LogHistory,
    TransitionAge,
    forced_evidence,
    transition_age,
)
from lptui.core.oncall.kmsg import KmsgReader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.livepatch.effect import Effect
    from lptui.core.oncall.history import Durations


@dataclass(frozen=True)
class OnCall:
    snapshot: Snapshot
    age: TransitionAge | None  # None: no transition
    forced: tuple[ForceEvidence, ...]
    log_problem: str | None  # why the kernel log could not be read (then "forced" may be incomplete)
    verdicts: VerdictLog | None = None  # the kernel's own per-task verdicts this transition
    clock: KernelClock | None = None  # the kernel's clock these facts were judged at
    effect: Effect | None = None  # whether the settled patches are in effect; None: not checked this poll
    health: tuple[HealthFinding, ...] = ()  # the kernel's warnings and oopses tied to a loaded patch
    durations: Durations | None = None  # how long this boot's transitions took (a copy: it stays put)

    def judged(self, tasks: tuple[TaskInfo, ...]) -> tuple[TaskInfo, ...]:
        """Other tasks (`tasks --all`) with the kernel's verdicts put on them, as the snapshot's are."""
        if self.verdicts is None or self.snapshot.transition is None:
            return tasks
        monotonic = self.clock.monotonic if self.clock is not None else None
        return with_verdicts(tasks, self.verdicts, None if monotonic is None else int(monotonic * 1e6))

    @property
    def verdicts_seen(self) -> bool:
        """Whether the log holds any kernel verdict for this transition (dynamic debug was on)."""
        return bool(self.verdicts is not None and self.verdicts.latest)

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
    effect: Effect | None = None,
) -> OnCall:
    age = None
    if snap.transition is not None:
        age = transition_age(snap.transition, history, clock, wall_now, observed_since)
        now_usec = None if clock.monotonic is None else int(clock.monotonic * 1e6)
        judged = with_verdicts(snap.pending_tasks, history.verdicts, now_usec)
        if judged is not snap.pending_tasks:
            snap = replace(snap, pending_tasks=judged)
    return OnCall(
        snap,
        age,
        forced_evidence(snap, history),
        log_problem,
        history.verdicts,
        clock,
        effect,
        post_load_health(snap, history),
        copy.deepcopy(history.durations),
    )


def post_load_health(snap: Snapshot, history: LogHistory) -> tuple[HealthFinding, ...]:
    """The kernel's complaints tied to each loaded patch (health.py), oldest first."""
    troubles = list(history.troubles)
    if not troubles:
        return ()
    return tuple(f for p in snap.patches for f in tie(p, troubles, history.completed.get(p.name)))
