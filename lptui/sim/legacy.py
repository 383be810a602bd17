"""The older live-patching systems in the simulated kernel: kGraft, the kpatch core module, Ksplice.

Each keeps the rules its source has (lptui/core/legacy/kgraft.py, kpatch_core.py and ksplice.py cite them) and
is rendered with the files and formats its kernel code prints: kGraft's newest `state` table, the kpatch
core's per-object layout, Ksplice built into the kernel.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path

from lptui.sim.primitives import kernel_error


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


@dataclass
class KspliceUpdate:
    kid: str
    stage: str = "applied"  # preparing | applied | reversed
    abort_cause: str = "ok"
    conflicts: list[tuple[str, int, list[str]]] = field(default_factory=list)


@dataclass
class KspliceSim:
    updates: list[KspliceUpdate] = field(default_factory=list)


def write(path: Path, text: str, mode: int = 0o444) -> None:
    from lptui.sim.render import _write  # one atomic writer for the whole simulated tree

    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, text, mode)


def sync(path: Path, wanted: set[str]) -> None:
    from lptui.sim.render import _sync_dir

    path.mkdir(parents=True, exist_ok=True)
    _sync_dir(path, wanted)


def render_kgraft(root: Path, kgr: KgraftSim | None) -> None:
    base = root / "sys/kernel/kgraft"
    if kgr is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {"in_progress", "force_load_module"} | {p.name for p in kgr.patches})
    write(base / "in_progress", f"{int(kgr.in_progress)}\n", 0o644)
    write(base / "force_load_module", "0\n", 0o644)
    for p in kgr.patches:
        pdir = base / p.name
        sync(pdir, {"state", "refs", "replace_all", "revert", "owner"})
        # state_show, walbon/openSUSE-kernel @d017a71
        table = f"{'Function':<20s}  {'Object':<20s}  Sympos  State\n"
        table += "".join(f"{f.name:<20s}  {f.obj:<20s}  {f.sympos:6d}  {f.state:5d}\n" for f in p.funcs)
        write(pdir / "state", table)
        write(pdir / "refs", f"{p.refs}\n")
        write(pdir / "replace_all", f"{int(p.replace_all)}\n")
        write(pdir / "revert", "", 0o200)
        link = pdir / "owner"
        if not link.is_symlink():
            link.symlink_to(f"../../../module/{p.name}")


def render_kpatch_core(root: Path, kp: KpatchCoreSim | None) -> None:
    base = root / "sys/kernel/kpatch"
    if kp is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {p.name for p in kp.patches})
    for p in kp.patches:
        pdir = base / p.name
        objects = {obj for obj, _, _ in p.funcs}
        sync(pdir, {"enabled", "checksum"} | objects)
        write(pdir / "enabled", f"{int(p.enabled)}\n", 0o644)
        write(pdir / "checksum", p.checksum + "\n")
        for obj in objects:
            funcs = {f"{fn},{pos or 1}" for o, fn, pos in p.funcs if o == obj}
            sync(pdir / obj, funcs)
            for fn in funcs:
                write(pdir / obj / fn / "old_addr", "0xffffffff81234560\n", 0o400)
                write(pdir / obj / fn / "new_addr", "0xffffffffc0a01000\n", 0o400)


def render_ksplice(root: Path, ks: KspliceSim | None) -> None:
    base = root / "sys/kernel/ksplice"
    if ks is None:
        if base.is_dir():
            sync(base, set())
            base.rmdir()
        return
    sync(base, {u.kid for u in ks.updates})
    for u in ks.updates:
        udir = base / u.kid
        sync(udir, {"stage", "abort_cause", "debug", "partial", "conflicts"})
        write(udir / "stage", u.stage + "\n", 0o600)
        write(udir / "abort_cause", u.abort_cause + "\n", 0o400)
        write(udir / "debug", "0\n", 0o600)
        write(udir / "partial", "0\n", 0o600)
        # conflict_show: "%s %d" and " %s" per conflicting frame
        lines = "".join(f"{c} {pid}" + "".join(f" {s}" for s in syms) + "\n" for c, pid, syms in u.conflicts)
        write(udir / "conflicts", lines, 0o400)
