"""What the kernel log remembers of this boot: when the transition in progress really started, and
whether a transition was forced.

kernel/livepatch/transition.c logs, with the boot-relative time of each record:
  klp_start_transition():   pr_notice("'%s': starting %s transition", patch, "patching"|"unpatching")
                            (a reversal calls it again, so a reversal starts a new transition)
  klp_complete_transition(): pr_notice("'%s': %s complete", patch, "patching"|"unpatching")
  klp_force_transition():   pr_warn("forcing remaining tasks to the patched state")  (whatever the
                            direction; the patch is the one whose transition started last)
A forced patch's module also keeps its reference for good (klp_complete_transition skips
module_put when patch->forced): an inactive livepatch module with refcnt > 0 is evidence too.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from lptui.core.livepatch.verdicts import VerdictLog
from lptui.core.model import Snapshot, TransitionInfo
from lptui.core.oncall.health import Trouble, is_trouble, trouble_of
from lptui.core.oncall.kmsg import LogLine
from lptui.core.tree import Tree

_START = re.compile(r"livepatch: '(?P<patch>[^']+)': starting (?P<dir>patching|unpatching) transition")
_DONE = re.compile(r"livepatch: '(?P<patch>[^']+)': (?P<dir>patching|unpatching) complete")
_FORCE = "livepatch: forcing remaining tasks to the"
MAX_TROUBLES = 256  # the latest kernel complaints kept: a warning storm cannot grow the history


class AgeSource(StrEnum):
    """Where a transition's age comes from: the kernel log's own "starting … transition" line, or the
    time lptui first saw it (a log that does not reach back, or cannot be read)."""

    KERNEL_LOG = "kernel-log"
    OBSERVED = "observed"


class EvidenceSource(StrEnum):
    """Where a force this boot is seen: the kernel log's line, or a module that keeps a reference with its
    patch gone (klp_force in kernel/livepatch/transition.c leaves forced modules pinned)."""

    KERNEL_LOG = "kernel-log"
    MODULE = "module"


@dataclass(frozen=True)
class ForceEvidence:
    source: EvidenceSource
    patch: str | None  # the patch forced (the log names it only nearby)
    text: str  # the log line, or what the module shows
    usec: int | None = None  # boot-relative time of the log line


# How long transitions took, from the kernel log's own lines (LogHistory feeds it): a "starting …
# transition" and its "… complete" (klp_start_transition / klp_complete_transition in
# kernel/livepatch/transition.c), so one shorter than a scrape interval still counts. Outcomes: completed,
# reversed (a "starting" of the other direction while it ran: klp_reverse_transition), forced (the
# "forcing remaining tasks" line while it ran: klp_force_transition). Kept as a histogram's buckets, sum
# and count: bounded whatever the log holds.
# seconds: a clean transition ends within a few retries; a stall that the fake signal (15 s) does not end
# runs minutes to hours
BUCKETS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, float("inf"))
OUTCOMES = ("completed", "reversed", "forced")


@dataclass
class Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))  # cumulative, as Prometheus's
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
        self.total += seconds
        self.count += 1


MAX_DURATION_PATCHES = 64  # patches a histogram each; past them "other" (a boot loads a few)


@dataclass
class Durations:
    """(mechanism, outcome, patch) -> its histogram; only livepatch's lines carry both ends today. The
    patch is kept so the fleet can give each patch's quantiles across its hosts."""

    by: dict[tuple[str, str, str], Histogram] = field(default_factory=dict)

    def observe(self, outcome: str, seconds: float, mechanism: str = "livepatch", patch: str = "") -> None:
        if len({key[2] for key in self.by} | {patch}) > MAX_DURATION_PATCHES:
            patch = "other"
        self.by.setdefault((mechanism, outcome, patch), Histogram()).observe(max(seconds, 0.0))


@dataclass
class LogHistory:
    """Fed the livepatch lines of the kernel log in order (all at once, or poll by poll)."""

    starts: dict[tuple[str, str], int] = field(default_factory=dict)  # (patch, direction) -> usec
    forces: list[ForceEvidence] = field(default_factory=list)
    lines_seen: int = 0
    last_started: str | None = None
    verdicts: VerdictLog = field(default_factory=VerdictLog)  # this transition's, the latest per thread
    completed: dict[str, int] = field(default_factory=dict)  # patch -> usec of its last "patching complete"
    troubles: deque[Trouble] = field(default_factory=lambda: deque(maxlen=MAX_TROUBLES))  # health.py
    durations: Durations = field(default_factory=Durations)  # how long each transition took (Durations)
    forcing: set[str] = field(default_factory=set)  # patches whose running transition was forced

    def feed(self, lines: Iterable[LogLine]) -> None:
        for line in lines:
            self.lines_seen += 1
            start = _START.search(line.text)
            if start:
                other = "patching" if start["dir"] == "unpatching" else "unpatching"
                began = self.starts.pop((start["patch"], other), None)
                if began is not None:  # klp_reverse_transition: the other direction's transition ends
                    self.durations.observe("reversed", (line.usec - began) / 1e6, patch=start["patch"])
                self.starts[(start["patch"], start["dir"])] = line.usec
                self.last_started = start["patch"]
                self.verdicts.latest.clear()  # an earlier transition's verdicts say nothing of this one
                continue
            if self.verdicts.feed(line.text, line.usec) is not None:
                continue
            done = _DONE.search(line.text)
            if done:
                began = self.starts.pop((done["patch"], done["dir"]), None)  # that transition is over
                if began is not None:
                    outcome = "forced" if done["patch"] in self.forcing else "completed"
                    self.durations.observe(outcome, (line.usec - began) / 1e6, patch=done["patch"])
                self.forcing.discard(done["patch"])
                if done["dir"] == "patching":
                    self.completed[done["patch"]] = line.usec
                continue
            if is_trouble(line.text, line.level):
                last = self.troubles[-1] if self.troubles else None
                trouble = trouble_of(line.text, line.usec, last)
                if trouble is not None and last is not None and trouble.usec == last.usec:
                    self.troubles[-1] = trouble  # the RIP line completed it
                elif trouble is not None:
                    self.troubles.append(trouble)
                continue
            if _FORCE in line.text:
                if self.last_started is not None:
                    self.forcing.add(self.last_started)
                self.forces.append(
                    ForceEvidence(EvidenceSource.KERNEL_LOG, self.last_started, line.text.strip(), line.usec)
                )


@dataclass(frozen=True)
class TransitionAge:
    started_at: float | None  # wall-clock seconds (epoch)
    age_seconds: float | None
    source: AgeSource

    def started_iso(self) -> str | None:
        if self.started_at is None:
            return None
        return datetime.fromtimestamp(self.started_at, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class KernelClock:
    """The kernel's clocks now, in seconds since boot. `monotonic` is the kernel log's clock: /dev/kmsg's
    timestamps are "a monotonic clock in microseconds" that does not count suspend
    (Documentation/ABI/testing/dev-kmsg), as CLOCK_MONOTONIC does not. `boottime` counts suspend, as
    /proc/<pid>/stat's start times (start_boottime) do. `source` says where they were read; None: unknown."""

    monotonic: float | None
    boottime: float | None
    source: str


def live_clock() -> KernelClock:
    """This host's clocks, one system call each: never /proc/uptime, which a live patch of
    uptime_proc_show (or any overlay of the file) can make say anything."""
    import time

    monotonic, boottime = time.clock_gettime(time.CLOCK_MONOTONIC), time.clock_gettime(time.CLOCK_BOOTTIME)
    return KernelClock(monotonic, boottime, "CLOCK_MONOTONIC")


def read_uptime(tree: Tree) -> float | None:
    read = tree.read("proc/uptime")
    try:
        return float((read.text or "").split()[0])
    except (IndexError, ValueError):
        return None


def tree_clock(tree: Tree) -> KernelClock:
    """A saved tree without its own clock: its /proc/uptime, the best it holds (said so)."""
    uptime = read_uptime(tree)
    if uptime is None:
        return KernelClock(None, None, "unknown (the saved tree holds no clock)")
    return KernelClock(uptime, uptime, "the saved tree's /proc/uptime")


def transition_age(
    transition: TransitionInfo,
    history: LogHistory,
    clock: KernelClock,
    wall_now: float,
    observed_since: float | None,
) -> TransitionAge:
    """The kernel log's own start time of this transition when the line is still there, against the
    log's own clock; otherwise what this lptui process observed (`observed_since`, wall clock; at least
    that old)."""
    usec = history.starts.get((transition.patch, transition.direction.value))
    if usec is not None and clock.monotonic is not None:
        age = max(clock.monotonic - usec / 1e6, 0.0)
        return TransitionAge(wall_now - age, age, AgeSource.KERNEL_LOG)
    since = observed_since if observed_since is not None else wall_now
    return TransitionAge(since, max(wall_now - since, 0.0), AgeSource.OBSERVED)


def forced_evidence(snap: Snapshot, history: LogHistory) -> tuple[ForceEvidence, ...]:
    """Every sign of a forced transition this boot: the kernel's own line, and modules that keep a
    reference with their patch gone."""
    out = list(history.forces)
    for module in snap.inactive_modules:
        if module.refcnt:
            out.append(
                ForceEvidence(
                    EvidenceSource.MODULE,
                    module.name,
                    f"module {module.name} keeps a reference (refcnt {module.refcnt}) with its patch gone: "
                    "forced while being removed, it cannot be unloaded until reboot",
                )
            )
    return tuple(out)


FORCED_ADVICE = (
    "a transition was forced this boot: the kernel's documentation asks for a planned reboot and no "
    "further live patches until then"
)


def age_text(seconds: float | None, *, compact: bool = False) -> str:
    """How long, for people, in one set of units for the CLI and the console: "45 s", "2 m 05 s",
    "2 h 14 m", "3 d 4 h"; `compact` (a narrow table column): "45s", "2m05s", "2h14m", "3d4h"."""
    if seconds is None:
        return "?"
    s = max(int(seconds), 0)
    parts: tuple[str, ...]
    if s < 60:
        parts = (f"{s}", "s")
    elif s < 3600:
        parts = (f"{s // 60}", "m", f"{s % 60:02d}", "s")
    elif s < 86400:
        parts = (f"{s // 3600}", "h", f"{s % 3600 // 60}", "m")
    else:
        parts = (f"{s // 86400}", "d", f"{s % 86400 // 3600}", "h")
    return "".join(parts) if compact else " ".join(parts)


def age_phrase(age: TransitionAge, logs_start: bool = True) -> str:
    """How long the transition has run, saying where that comes from. `logs_start` False: the system
    never logs its start (kGraft prints only "kgr succeeded" at the end, kernel/kgraft.c)."""
    if age.source is AgeSource.KERNEL_LOG:
        return f"running for {age_text(age.age_seconds)} (since {age.started_iso()}, from the kernel log)"
    if not logs_start:
        seen = age_text(age.age_seconds)
        return f"seen for {seen} by lptui (its system does not log its start: at least that old)"
    return (
        f"seen for {age_text(age.age_seconds)} by lptui (its start is no longer in the kernel log, "
        "or the log is unreadable: at least that old)"
    )
