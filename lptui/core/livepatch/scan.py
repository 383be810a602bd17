"""Task scanning that costs nothing while idle and little during a transition.

No transition: the thread count comes from /proc/loadavg (one read), no task file is read.
During a transition the first scan reads every thread's patch_state. Later scans rely on two
kernel rules: a switched task never switches back within one transition, and a new thread
inherits its creator's patch_state (klp_copy_process). So a rescan lists /proc once, lists the
threads of new processes and of processes that still have pending threads, and re-reads only
threads still pending (or unreadable) and new ones. A new transition or a reversal changes the
target: start over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lptui.core.livepatch.blockers import analyse
from lptui.core.livepatch.tasks import FastProc, TaskId, iter_thread_ids, read_patch_state, read_task_details
from lptui.core.model import PatchInfo, Reason, TaskInfo, TransitionInfo
from lptui.core.tree import Tree


@dataclass(frozen=True, slots=True)
class ScanResult:
    threads_total: int
    pending: tuple[TaskInfo, ...]
    unknown: int = 0


@dataclass(slots=True)
class _Pass:
    """One scan: what it reads with, and what it gathers for `_read` (the listing and the threads to
    read). `threads` is the scanner's own listing when this pass did not list /proc again."""

    tree: Tree
    transition: TransitionInfo
    patch: PatchInfo | None
    livepatch_modules: frozenset[str]
    fast: FastProc | None
    threads: dict[int, set[int]] = field(default_factory=dict)
    to_read: list[TaskId] = field(default_factory=list)


def _sort_key(task: TaskInfo) -> tuple[int, int]:
    return task.pid, task.tid


def kernel_thread_count(tree: Tree) -> int | None:
    """nr_threads from /proc/loadavg ("0.00 0.01 0.05 2/123 4567"); None if unreadable."""
    read = tree.read("proc/loadavg")
    if not read.ok:
        return None
    try:
        total = int((read.text or "").split()[3].split("/")[1])
    except (IndexError, ValueError):
        return None
    return total if total > 0 else None


def _pids(tree: Tree) -> list[int]:
    return [int(name) for name in tree.listdir("proc") if name.isdecimal()]


def _tids(tree: Tree, pid: int) -> set[int]:
    return {int(name) for name in tree.listdir(f"proc/{pid}/task") if name.isdecimal()}


class TaskScanner:
    """Keeps what it learnt about one transition between refreshes.

    `relist_every` (seconds, 0 = every scan): between listings of /proc, a rescan re-reads only the
    threads still pending. Listing 100,000 processes is most of a rescan's cost; what it finds is new
    processes, and those created by a pending thread inherit its state (klp_copy_process), so a
    console following a transition can list less often and pick new blockers up a few seconds later.
    `relist_share`: also wait until listing takes at most this share of the time (0.01: a listing that
    took 0.1 s waits 10 s), so a small host lists every `relist_every` and a huge one stays cheap.
    """

    def __init__(
        self,
        relist_every: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        relist_share: float | None = None,
    ) -> None:
        self._key: tuple[str, int] | None = None
        self._threads: dict[int, set[int]] = {}  # pid -> tids seen
        self._watch: set[TaskId] = set()  # still pending, or patch_state unreadable
        self.relist_every = relist_every
        self.clock = clock
        self._listed_at = float("-inf")
        self._listing_took = 0.0
        self.relist_share = relist_share
        self._total = 0

    def reset(self) -> None:
        self._key = None
        self._threads.clear()
        self._watch.clear()

    def scan(
        self,
        tree: Tree,
        transition: TransitionInfo | None,
        patch: PatchInfo | None,
        livepatch_modules: frozenset[str],
    ) -> ScanResult:
        if transition is None:
            self.reset()
            total = kernel_thread_count(tree)
            if total is None:
                total = sum(1 for _ in iter_thread_ids(tree))
            return ScanResult(threads_total=total, pending=())
        key = (transition.patch, transition.target)
        full = key != self._key
        if full:
            self.reset()
            self._key = key
        fast = FastProc.open(tree)
        try:
            return self._scan(_Pass(tree, transition, patch, livepatch_modules, fast))
        finally:
            if fast is not None:
                fast.close()

    def _scan(self, p: _Pass) -> ScanResult:
        tree, fast, threads, to_read = p.tree, p.fast, p.threads, p.to_read
        watched_pids = {pid for pid, _ in self._watch}
        now = self.clock()
        wait = self.relist_every
        if self.relist_share:
            wait = max(wait, self._listing_took / self.relist_share)
        if self._key is not None and self._threads and now - self._listed_at < wait:
            # The last listing stands (no copy: 100,000 entries); only the pending are re-read.
            to_read.extend(sorted(self._watch))
            p.threads = self._threads
            return self._read(p)
        self._listed_at = now
        target = p.transition.target
        for pid in _pids(tree):
            known = self._threads.get(pid)
            if known is not None and pid not in watched_pids:
                threads[pid] = known  # fully switched process: its new threads are switched too
                continue
            if known is None and fast is not None:
                # a process not seen before (every process on a first scan): list and read its threads
                # in one go; only the unsettled ones (pending, or unusual) go on to the careful read
                states = fast.task_states(pid)
                if states:
                    threads[pid] = set(states)
                    to_read.extend(
                        (pid, tid) for tid, state in states.items() if state != -1 and state != target
                    )
                    continue
            tids = (fast.tids(pid) if fast is not None else None) or _tids(tree, pid)
            if not tids:
                continue
            threads[pid] = tids
            to_read.extend((pid, tid) for tid in tids if known is None or tid not in known)
            if known is not None:
                to_read.extend((pid, tid) for tid in tids & known if (pid, tid) in self._watch)
        self._watch = {(pid, tid) for pid, tid in self._watch if tid in threads.get(pid, ())}
        self._listing_took = self.clock() - now
        return self._read(p)

    def _read(self, p: _Pass) -> ScanResult:
        tree, transition, fast, threads = p.tree, p.transition, p.fast, p.threads
        exited = 0
        pending: list[TaskInfo] = []
        unknown = 0
        target = transition.target
        for pid, tid in p.to_read:
            state = fast.patch_state(pid, tid) if fast is not None else None
            if state == -1 or state == target:
                self._watch.discard((pid, tid))
                continue  # the common case: switched, or never part of it
            state, problem = read_patch_state(tree, pid, tid)
            if state is not None and (state == -1 or state == transition.target):
                self._watch.discard((pid, tid))
                continue
            raw = read_task_details(tree, pid, tid, state, problem, with_stack=state is not None)
            if raw is None:  # exited while we read it
                if tid in threads.get(pid, ()):
                    threads[pid].discard(tid)
                    exited += 1
                self._watch.discard((pid, tid))
                continue
            info = analyse(raw, transition, p.patch, p.livepatch_modules)
            self._watch.add((pid, tid))
            if info.reason_code is Reason.UNKNOWN_STATE:
                unknown += 1
            elif info.pending:
                pending.append(info)
        if threads is not self._threads:  # a new listing
            self._threads = threads
            self._total = sum(len(t) for t in threads.values())
        else:
            self._total -= exited
        total = self._total
        return ScanResult(
            threads_total=total,
            pending=tuple(sorted(pending, key=_sort_key)),
            unknown=unknown,
        )


def read_all_tasks(
    tree: Tree,
    transition: TransitionInfo | None,
    patch: PatchInfo | None,
    livepatch_modules: frozenset[str],
    *,
    has_patch_state: bool = True,
) -> tuple[TaskInfo, ...]:
    """Every thread with its state (asked for explicitly: `lptui tasks --all`), by pid then tid.

    `has_patch_state` is False on a kernel built without CONFIG_LIVEPATCH: there /proc has no
    patch_state file at all (fs/proc/base.c adds it under that option), so its absence is no
    per-task problem and is not looked for.
    """
    out = []
    for pid, tid in iter_thread_ids(tree):
        if has_patch_state:
            state, problem = read_patch_state(tree, pid, tid)
        else:
            state, problem = None, None
        wants_stack = transition is not None and state is not None and state not in (-1, transition.target)
        raw = read_task_details(tree, pid, tid, state, problem, with_stack=wants_stack)
        if raw is None:
            continue
        out.append(analyse(raw, transition, patch, livepatch_modules))
    out.sort(key=lambda t: (t.pid, t.tid))
    return tuple(out)
