"""Whether a blocking task is making progress, on the live host: its scheduler state, context switches
and CPU time between two samples (psutil, from /proc/<tid>/status and /proc/<tid>/stat).

A task blocks a transition while a function being switched is on its stack (klp_check_stack); it
switches when it leaves that function or the kernel (klp_try_switch_task, retried every second).
"Asleep, 0 switches" says waiting will not help until something wakes it; "running, 12k
switches/s" says it is moving and may leave the function by itself. Only the live host has these
numbers: a saved tree or the simulated kernel has no scheduler to ask, so callers use this only when
the source is the live kernel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

MAX_TASKS = 200  # bound the sampling (2 reads of 2 small files per task) on a host with many blockers


@dataclass(frozen=True)
class Sample:
    status: str  # psutil's name for /proc's state letter: "sleeping", "running", "disk-sleep", ...
    switches: int  # voluntary + involuntary context switches since the task started
    cpu: float  # user + system seconds since the task started
    at: float  # time.monotonic() of the sample


@dataclass(frozen=True)
class Progress:
    """One task between two samples, `seconds` apart."""

    tid: int
    status: str
    switches: int
    cpu: float
    seconds: float

    @property
    def moving(self) -> bool:
        return self.switches > 0

    def text(self) -> str:
        """ "asleep (sleeping), 0 switches, 0.00 s CPU in 1.0 s" or "running, 12k switches/s, ..."."""
        rate = self.switches / self.seconds if self.seconds > 0 else 0.0
        cpu = self.cpu / self.seconds if self.seconds > 0 else 0.0
        if not self.moving:
            return f"asleep ({self.status}), 0 switches and {self.cpu:.2f} s CPU in {self.seconds:.1f} s"
        return f"{self.status}, {_count(rate)} switches/s, {cpu:.2f} s CPU/s over {self.seconds:.1f} s"


def _count(n: float) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else f"{n:.0f}"


def sample(tid: int) -> Sample | None:
    """None when the task is gone or cannot be read (it ended between listing and reading)."""
    try:
        proc = psutil.Process(tid)  # a thread id names its /proc entry too (/proc/<tid>)
        with proc.oneshot():
            ctx = proc.num_ctx_switches()
            times = proc.cpu_times()
            status = proc.status()
    except (psutil.Error, OSError):
        return None
    return Sample(str(status), ctx.voluntary + ctx.involuntary, times.user + times.system, time.monotonic())


def between(tid: int, before: Sample | None, after: Sample | None) -> Progress | None:
    if before is None or after is None:
        return None
    return Progress(
        tid,
        after.status,
        max(after.switches - before.switches, 0),
        max(after.cpu - before.cpu, 0.0),
        max(after.at - before.at, 0.0),
    )


def measure(
    tids: Iterable[int], interval: float = 1.0, sleep: Callable[[float], None] = time.sleep
) -> dict[int, Progress]:
    """Each task's progress over `interval` seconds (one wait for all of them; the first MAX_TASKS)."""
    wanted = list(dict.fromkeys(tids))[:MAX_TASKS]
    first = {tid: sample(tid) for tid in wanted}
    sleep(interval)
    out = {}
    for tid in wanted:
        progress = between(tid, first[tid], sample(tid))
        if progress is not None:
            out[tid] = progress
    return out
