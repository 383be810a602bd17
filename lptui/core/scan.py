"""Task scanning that costs nothing while idle and little during a transition.

No transition: only count threads (directory listings, no file reads). During a transition:
the first scan reads every thread's patch_state; later scans re-read only the threads still
pending (or unreadable) and threads that are new, because a switched task never switches
back within one transition. A new transition or a reversal changes the target: start over.
"""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.blockers import analyse
from lptui.core.model import PatchInfo, Reason, TaskInfo, TransitionInfo
from lptui.core.tasks import TaskId, iter_thread_ids, read_patch_state, read_task_details
from lptui.core.tree import Tree


@dataclass(frozen=True, slots=True)
class ScanResult:
    threads_total: int
    pending: tuple[TaskInfo, ...]
    unknown: int = 0
    full: bool = False


def _sort_key(task: TaskInfo) -> tuple[int, int]:
    return task.pid, task.tid


class TaskScanner:
    """Keeps what it learnt about one transition between refreshes."""

    def __init__(self) -> None:
        self._key: tuple[str, int] | None = None
        self._known: set[TaskId] = set()
        self._watch: set[TaskId] = set()  # still pending, or patch_state unreadable

    def reset(self) -> None:
        self._key = None
        self._known.clear()
        self._watch.clear()

    def scan(
        self,
        tree: Tree,
        transition: TransitionInfo | None,
        patch: PatchInfo | None,
        livepatch_modules: frozenset[str],
    ) -> ScanResult:
        ids = list(iter_thread_ids(tree))
        if transition is None:
            self.reset()
            return ScanResult(threads_total=len(ids), pending=())
        key = (transition.patch, transition.target)
        full = key != self._key
        if full:
            self.reset()
            self._key = key
            to_read = ids
        else:
            to_read = [t for t in ids if t in self._watch or t not in self._known]
        current = set(ids)
        self._watch &= current
        pending: list[TaskInfo] = []
        unknown = 0
        for pid, tid in to_read:
            state, problem = read_patch_state(tree, pid, tid)
            if state is not None and (state == -1 or state == transition.target):
                self._watch.discard((pid, tid))
                continue
            raw = read_task_details(tree, pid, tid, state, problem, with_stack=state is not None)
            if raw is None:
                current.discard((pid, tid))
                self._watch.discard((pid, tid))
                continue
            info = analyse(raw, transition, patch, livepatch_modules)
            self._watch.add((pid, tid))
            if info.reason_code is Reason.UNKNOWN_STATE:
                unknown += 1
            elif info.pending:
                pending.append(info)
        self._known = current
        return ScanResult(
            threads_total=len(current),
            pending=tuple(sorted(pending, key=_sort_key)),
            unknown=unknown,
            full=full,
        )


def read_all_tasks(
    tree: Tree,
    transition: TransitionInfo | None,
    patch: PatchInfo | None,
    livepatch_modules: frozenset[str],
) -> tuple[TaskInfo, ...]:
    """Every thread with its state (asked for explicitly: `lptui tasks --all`)."""
    out = []
    for pid, tid in iter_thread_ids(tree):
        state, problem = read_patch_state(tree, pid, tid)
        wants_stack = transition is not None and state is not None and state not in (-1, transition.target)
        raw = read_task_details(tree, pid, tid, state, problem, with_stack=wants_stack)
        if raw is None:
            continue
        out.append(analyse(raw, transition, patch, livepatch_modules))
    return tuple(out)
