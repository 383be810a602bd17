"""The older live-patching systems in the simulated kernel: kGraft, the kpatch core module, Ksplice.

Each keeps the rules its source has (lptui/core/legacy/kgraft.py, kpatch_core.py and ksplice.py cite
them); `render.py` writes them out with the files and formats their kernel code prints.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lptui.sim.rules import kernel_error, kstrtobool
from lptui.sim.state import SimTask

Log = Callable[[int, str], None]  # the kernel log: (level, text)


@dataclass
class KgrFunc:
    name: str
    obj: str = "vmlinux"
    sympos: int = 0
    state: int = 2  # enum kgr_patch_state: 1 SLOW (patching), 2 APPLIED, ...


@dataclass
class KgrPatch:
    name: str
    funcs: list[KgrFunc]
    refs: int = 0
    replace_all: bool = False


@dataclass
class KgraftSim:
    """kGraft: a global in-progress flag and a per-task "old universe" flag, cleared when the task crosses
    the kernel/user boundary (or a kthread calls kgr_task_safe); done when no task has it."""

    patches: list[KgrPatch] = field(default_factory=list)
    in_progress: bool = False
    pending: set[int] = field(default_factory=set)  # pids still in the old universe
    stuck: set[int] = field(default_factory=set)  # those that never cross by themselves (the demo's)
    logged_timeout: bool = False
    next_check: float = 0.0

    def check(self, now: float, alive: set[int], log: Log) -> bool:
        """kgr_work_fn re-checks the tasks every KGR_TIMEOUT (2 s in include/linux/kgraft.h); True when
        something changed."""
        if now < self.next_check:
            return False
        self.next_check = now + 2.0
        was = self.in_progress
        if not (self.tick(alive) or was):
            return False
        if not self.in_progress:
            log(6, "kgr succeeded")  # kernel/kgraft.c kgr_finalize
        elif not self.logged_timeout:
            self.logged_timeout = True  # kgr_work_fn prints it once
            log(6, "kgr still in progress after timeout, will keep trying every 2 seconds")
        return True

    def start(self, patch: KgrPatch, pids: set[int]) -> None:
        for f in patch.funcs:
            f.state = 1  # KGR_PATCH_SLOW: the slow stub picks old or new code per task
        self.patches.append(patch)
        self.in_progress = True
        self.pending = set(pids)

    def tick(self, alive: set[int]) -> bool:
        """One kgr_work_fn check: tasks that crossed are migrated; True when something changed."""
        if not self.in_progress:
            return False
        before = set(self.pending)
        self.pending = {pid for pid in self.pending if pid in self.stuck and pid in alive}
        if not self.pending:
            for p in self.patches:
                for f in p.funcs:
                    if f.state == 1:
                        f.state = 2  # kgr_finalize: the fast stub, new code for everyone
            self.in_progress = False
            return True
        return before != self.pending


@dataclass
class KpatchPatch:
    name: str
    funcs: list[tuple[str, str, int]]  # (object, function, sympos)
    enabled: bool = True
    checksum: str = "5b0d3c3f0e2a4d1c9b8a7f6e5d4c3b2a"


@dataclass
class KpatchCoreSim:
    patches: list[KpatchPatch] = field(default_factory=list)
    version: str = "0.4.0"

    def patch(self, name: str) -> KpatchPatch:
        found = next((p for p in self.patches if p.name == name), None)
        if found is None:
            raise kernel_error(errno.ENOENT, f"/sys/kernel/kpatch/{name}")
        return found

    def write_enabled(self, name: str, value: str, tasks: Iterable[SimTask], log: Log) -> bool:
        """kpatch-patch-hook.c patch_enabled_store -> kpatch_register/kpatch_unregister (kmod/core/core.c):
        under stop_machine, -EBUSY when a thread's stack holds a function it switches (the activeness
        safety check), -EINVAL when already in that state. Returns the new state."""
        patch = self.patch(name)
        want = kstrtobool(value)
        if want == patch.enabled:
            raise kernel_error(errno.EINVAL)
        names = {fn for _, fn, _ in patch.funcs}
        for task in tasks:
            busy = next((fn for fn, _ in task.stack if fn in names), None)
            if busy is not None:
                log(3, f"kpatch: activeness safety check failed for {busy}")
                raise kernel_error(errno.EBUSY, f"{busy} is in use")
        patch.enabled = want
        log(5, f'kpatch: {"loaded" if want else "unloaded"} patch module "{name}"')
        return want


@dataclass
class KspliceUpdate:
    kid: str
    stage: str = "applied"  # preparing | applied | reversed
    abort_cause: str = "ok"
    conflicts: list[tuple[str, int, list[str]]] = field(default_factory=list)


@dataclass
class KspliceSim:
    updates: list[KspliceUpdate] = field(default_factory=list)
