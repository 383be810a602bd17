"""The poll loop, with no UI: read the kernel on a schedule and hand out one frozen `View` per poll.

It owns the schedule (every 0.5 s during a transition, every 3 s when idle), coalesces wake-ups
(module events, actions, a refresh key: however many arrive during a poll, one more poll follows)
and never runs two polls at once. It owns the tracker too (since when each task is pending, the
trend, whether the fake signal was seen): only the polling thread touches it, and what it knows
leaves in the View. The console runs it in one worker; `check`, `metrics` and `watch` can run it
in a plain thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from lptui.core.livepatch.effect import Effect, EffectCache
from lptui.core.model import Snapshot, TaskInfo
from lptui.core.oncall.facts import OnCall, on_call
from lptui.core.oncall.history import ForceEvidence, LogHistory, TransitionAge
from lptui.core.oncall.kmsg import KmsgReader, LogLine
from lptui.core.snapshot import SnapshotReader, read_all_tasks_of
from lptui.source import Source
from lptui.watch.tracker import TransitionTracker

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.lifecycle.provenance import LifeCycle

FAST_INTERVAL = 0.5  # while a transition runs
SLOW_INTERVAL = 3.0  # idle: module events wake us anyway
LIFE_CYCLE_SOON = 0.2  # after the first view, the poll that adds the life cycle
ROW_LIMIT = 1000  # pending rows worth showing; `a` (all threads) lists everything
RELIST_EVERY = 2.0  # at least this many seconds between listings of /proc during a transition
RELIST_SHARE = 0.01  # and listing takes at most 1% of the time: ~10 s apart at 100,000 threads
EFFECT_EVERY = 30.0  # idle: ftrace's enabled_functions re-read at most this often (else on a change)


class Tone(StrEnum):
    """What kind of event a Note is."""

    PLAIN = "plain"
    QUIET = "quiet"  # routine: module events, a log that cannot be read
    WARNING = "warning"
    ERROR = "error"  # a failed poll, worker or action
    DONE = "done"  # an action that succeeded


@dataclass(frozen=True)
class Note:
    """A line for the event log that is not from the kernel: lptui's actions, module events, errors. How
    it is shown (its `tone`) is the console's business (lptui.tui.status_line.NOTE_STYLES)."""

    text: str
    tone: Tone = Tone.PLAIN


@dataclass(frozen=True)
class View:
    """Everything one poll found, ready to render: the console's widgets read nothing else."""

    snapshot: Snapshot
    rows: tuple[TaskInfo, ...]  # pending tasks to show, longest-pending first
    pending_for: Mapping[int, float]  # tid -> seconds pending, as lptui saw it
    elapsed: float | None  # since lptui saw the transition start
    history: tuple[int, ...]  # pending count per poll, for the trend
    signal_seen: bool  # the kernel logged "signaling remaining tasks" in this transition
    lines: tuple[LogLine, ...]  # kernel-log lines new since the last poll
    notes: tuple[Note, ...]  # lptui's own events since the last poll
    wall: float  # wall-clock time of this poll
    boot_wall: float | None  # wall-clock time of boot, for log timestamps
    interval: float  # when the next poll is due
    read_seconds: float = 0.0  # how long reading the kernel took (wall time)
    oncall: OnCall | None = None  # the on-call facts `status` shows: the real age, a forced transition
    polls: int = 0  # how many polls this poller has made, this one included
    can_act: bool = False
    why_read_only: str | None = None
    simulated: bool = False  # a demo's kernel
    read_only: bool = False  # a saved tree (--root, a bundle)
    life: LifeCycle | None = None  # where the patches came from; re-read when the patch modules change

    @property
    def age(self) -> TransitionAge | None:
        """The transition's real age (kernel log) or what lptui observed."""
        return self.oncall.age if self.oncall is not None else None

    @property
    def forced(self) -> tuple[ForceEvidence, ...]:
        """A transition forced this boot, and the evidence."""
        return self.oncall.forced if self.oncall is not None else ()

    def _shown_facts(self) -> tuple[object, ...]:
        """What the badge and the status line are made of, besides the snapshot and the rows."""
        oncall = self.oncall
        alerts = (oncall.effect, oncall.health) if oncall is not None else None
        return (
            self.signal_seen,
            self.forced,
            self.can_act,
            self.why_read_only,
            self.simulated,
            self.read_only,
            alerts,
        )

    def shows_the_same_as(self, other: View | None) -> bool:
        """Nothing new to draw: same records (they compare by value), same whole seconds, no new
        log lines or notes. The console then skips the redraw: idle polls cost no rendering."""
        if other is None or self.lines or self.notes:
            return False

        def seconds(v: View) -> tuple:
            age = None if v.age is None or v.age.age_seconds is None else int(v.age.age_seconds)
            return (
                None if v.elapsed is None else int(v.elapsed),
                age,
                tuple(int(x) for x in v.pending_for.values()),
            )

        return (
            self.snapshot == other.snapshot
            and self.rows == other.rows
            and self.history[-1:] == other.history[-1:]
            and self._shown_facts() == other._shown_facts()
            and seconds(self) == seconds(other)
        )


class Poller:
    def __init__(
        self,
        source: Source,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = None,
        row_limit: int = ROW_LIMIT,
        life_cycle: bool = False,
    ) -> None:
        self.source = source
        # the patches' life cycle (module files, CVEs): the console shows it; check, metrics and watch
        # do not need it and skip its cost
        self.life_cycle = life_cycle
        self.clock = clock
        self.wall = wall or source.wall_now  # a capture's "now" is its capture time
        self.row_limit = row_limit
        # following a transition: re-read the pending threads every poll, list /proc (to find new
        # processes) only every RELIST_EVERY seconds and at most RELIST_SHARE of the time
        self.reader = SnapshotReader(source.tree, relist_every=RELIST_EVERY, relist_share=RELIST_SHARE)
        path = source.kmsg_path
        self.kmsg = KmsgReader(path) if path else None
        self.tracker = TransitionTracker()
        self.history = LogHistory()
        self.polls = 0
        self._cond = threading.Condition()
        self._running = False
        self._again = False
        self._stopped = False
        self._shown = threading.Event()  # the consumer has handled the last view (back-pressure)
        self._notes: list[Note] = []
        self._life_key: tuple | None = None
        self._defer_life = False
        self._life: LifeCycle | None = None
        self._prefetch: threading.Thread | None = None
        self._prefetched: View | BaseException | None = None
        self.effects = EffectCache(EFFECT_EVERY)
        if self.kmsg is not None and self.kmsg.error:
            self._notes.append(Note(self.kmsg.error, Tone.QUIET))

    # ----- what the loop shares with other threads -----
    @property
    def running(self) -> bool:
        return self._running

    @property
    def again(self) -> bool:
        return self._again

    def request(self) -> bool:
        """Ask for a poll now. True: no loop runs, the caller must start one (`run`); False: the
        running loop polls once more as soon as it can (requests meanwhile coalesce into that one)."""
        with self._cond:
            if self._running:
                self._again = True
                self._cond.notify_all()
                return False
            self._running = True
            return True

    def note(self, text: str, tone: Tone = Tone.PLAIN) -> None:
        """An event for the log; it leaves with the next View."""
        with self._cond:
            self._notes.append(Note(text, tone))

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._shown.set()

    def shown(self) -> None:
        """The consumer has handled the last view: the next poll may follow (see `run`)."""
        self._shown.set()

    def prefetch(self) -> None:
        """Start the first poll now, in a thread: the console calls it before Textual has set up its
        screen, so the first view is ready when the screen is. The loop's first poll takes it."""

        def first() -> None:
            try:
                self._prefetched = self.poll()
            except BaseException as exc:  # handed to the loop, which reports it like any failed poll
                self._prefetched = exc

        self._defer_life = True
        self._prefetch = threading.Thread(target=first, name="lptui-first-poll", daemon=True)
        self._prefetch.start()

    def _first_or_poll(self) -> View:
        if self._prefetch is None:
            return self.poll()
        self._prefetch.join()
        got, self._prefetch, self._prefetched = self._prefetched, None, None
        if isinstance(got, BaseException):
            raise got
        return got if got is not None else self.poll()

    # ----- the loop -----
    def run(
        self,
        on_view: Callable[[View], object],
        on_error: Callable[[str], object],
        *,
        forever: bool = True,
        wait_shown: bool = False,
    ) -> None:
        """Poll until stopped (`forever`), or until no request is pending. Call after `request()`
        returned True. A failing poll is reported through `on_error` in one line and the schedule
        goes on: a broken read never stops the polling. `wait_shown`: the next poll waits until the
        consumer calls `shown()` for the last view, so a slow screen never gets a queue of views."""
        with self._cond:
            self._running = True
        while True:
            delay = SLOW_INTERVAL
            try:
                view = self._first_or_poll()
                delay = view.interval
                self._shown.clear()
                on_view(view)
                if wait_shown:
                    while not self._shown.wait(1.0) and not self._stopped:
                        pass
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                self.note(f"cannot read the kernel state: {message}", Tone.ERROR)
                on_error(message)
            with self._cond:
                if forever and not self._again and not self._stopped:
                    self._cond.wait_for(lambda: self._again or self._stopped, timeout=delay)
                if self._stopped or (not forever and not self._again):
                    self._running = False
                    return
                self._again = False

    def poll(self) -> View:
        """One poll (the loop's; tests call it directly). Not thread-safe: one caller at a time."""
        source = self.source
        began = time.perf_counter()
        with source.reading():
            source.sync()
            snap = self.reader.read()
        read_seconds = time.perf_counter() - began
        lines = tuple(self.kmsg.read_new()) if self.kmsg else ()
        now = self.clock()
        tracker = self.tracker
        tracker.observe(snap, now)
        for line in lines:
            tracker.note_log(line.text)
        self.history.feed(lines)
        wall = self.wall()
        oncall = self._on_call(snap, wall, tracker.elapsed(now))
        snap = oncall.snapshot  # its pending tasks carry the kernel's own verdicts, where the log has them
        rows = tracker.longest_pending(snap, self.row_limit, now)
        pending_for = {t.tid: tracker.pending_for(t.tid, now) or 0.0 for t in rows}
        with self._cond:
            notes, self._notes = tuple(self._notes), []
        self.polls += 1
        # Not in the prefetched first poll (reading module files would delay the console's first
        # paint): the next poll, due at once, brings it.
        life = None
        deferred, self._defer_life = self._defer_life, False
        if self.life_cycle and not deferred:
            with source.reading():
                life = self._life_cycle(snap)
        interval = FAST_INTERVAL if snap.transition is not None else SLOW_INTERVAL
        if self.life_cycle and deferred:
            interval = LIFE_CYCLE_SOON
        return View(
            snapshot=snap,
            rows=rows,
            pending_for=MappingProxyType(pending_for),
            elapsed=tracker.elapsed(now),
            history=tuple(tracker.history),
            signal_seen=tracker.signaled,
            lines=lines,
            notes=notes,
            wall=wall,
            boot_wall=source.boot_wall(wall),
            interval=interval,
            polls=self.polls,
            can_act=source.can_act,
            why_read_only=source.why_read_only,
            simulated=source.simulated,
            read_only=source.read_only,
            read_seconds=read_seconds,
            oncall=oncall,
            life=life,
        )

    def _on_call(self, snap: Snapshot, wall: float, elapsed: float | None) -> OnCall:
        """The same on-call facts as `status`, from this poller's log history."""
        observed = wall - elapsed if elapsed is not None else None
        problem = self.kmsg.error if self.kmsg is not None else "no kernel log for this source"
        with self.source.reading():
            clock = self.source.kernel_clock()
            effect = self._effect(snap)
            return on_call(
                snap, self.history, clock, wall, observed_since=observed, log_problem=problem, effect=effect
            )

    def _effect(self, snap: Snapshot) -> Effect | None:
        """ftrace's table costs a read of tracefs: only when the patches changed, else every
        EFFECT_EVERY seconds while idle; never during a transition (the check waits for its end)."""
        return self.effects.get(snap, self.source.tree, self.clock())

    def _life_cycle(self, snap: Snapshot) -> LifeCycle | None:
        """Provenance reads module files: only when the loaded patch modules change (a load, an
        unload, a replace), never on an idle poll. A failure is a note, not a failed poll."""
        key = tuple((p.name, p.module.srcversion) for p in snap.patches), snap.kernel.release
        if key != self._life_key:
            from lptui.core.lifecycle.provenance import read_life_cycle

            self._life_key = key
            try:
                self._life = read_life_cycle(self.source.tree, snap)
            except OSError as exc:
                self._life = None
                self.note(f"cannot read the installed patch files: {exc}", Tone.WARNING)
        return self._life

    def all_tasks(self, snap: Snapshot) -> tuple[TaskInfo, ...]:
        """Every thread (the all-threads view): read on demand, under the source's lock."""
        with self.source.reading():
            return read_all_tasks_of(self.source.tree, snap)

    def close(self) -> None:
        self.stop()
        if self.kmsg is not None:
            self.kmsg.close()
