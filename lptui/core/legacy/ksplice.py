"""Ksplice (its GPL release), read-only, from its sysfs interface.

Sources: linux-kernel-live-patching/ksplice `kmodsrc/ksplice.c` and `ksplice-view.in`.
- Where updates live (`ksplice_sysfs_init`): built into the kernel, /sys/kernel/ksplice/<kid>/;
  built standalone, /sys/module/ksplice_<mid>/ksplice/ (`ksplice-view` lists `lsmod` lines
  `ksplice_<mid>` with that `stage` file, and the kid is <mid> up to its first '-' or '_'). The 2008
  `module_pack` revision puts the kobject under the update's primary module the same way.
- Attributes: `stage` "preparing" | "applied" | "reversed"; `abort_cause` (`abort_cause_show`: "ok",
  "none" in the 2008 revision, "code_busy", ...); `conflicts` (`conflict_show`, from the
  `update_bundle` revision on): one line per process, "<comm> <pid>" then each symbol found on its stack;
  `debug`, `partial` (0600); `source_diff` (2008 revision only). Writing "applied"/"reversed"/"cleanup" to
  `stage` is how `ksplice-apply`/`ksplice-undo` drive it — lptui never does.
- Ksplice patches under stop_machine with a stack check of every thread (`check_each_task`), 5 tries
  1 s apart; if a to-be-patched function is still on a stack it aborts with code_busy and fills
  `conflicts`, which `ksplice-apply` prints as "Process <comm>(pid <pid>) is using the following symbols
  changed by update <kid>" (Ksplice.pm.in `print_abort_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.livepatch.patches import read_module
from lptui.core.livepatch.tasks import read_task_details
from lptui.core.model import (
    Direction,
    Mechanism,
    ModuleInfo,
    PatchInfo,
    Reason,
    SystemInfo,
    TaskInfo,
    TransitionInfo,
)
from lptui.core.tree import Tree, parse_int, parse_line

KSPLICE_DIR = "sys/kernel/ksplice"
STAGES = frozenset({"preparing", "applied", "reversed"})
FINE = frozenset({"ok", "none"})

# abort_cause words (abort_cause_show, every revision's enum) in plain words.
ABORT_CAUSES = {
    "no_match": "the running code did not match the update's copy of it (built for another kernel)",
    "bad_system_map": "the System.map given to the standalone build does not match this kernel",
    "code_busy": "a function it changes was on a thread's stack at every one of Ksplice's stop_machine "
    "tries (5, 1 s apart)",
    "module_busy": "the update's module is in use by another module",
    "out_of_memory": "the kernel ran out of memory",
    "failed_to_find": "a symbol the update needs was not found",
    "already_reversed": "the update was already reversed",
    "missing_export": "a symbol the update needs is not exported",
    "unexpected_running_task": "a task other than stop_machine's was running during the stack check",
    "target_not_loaded": "the module the update changes is not loaded",
    "call_failed": "one of the update's own pre- or post-apply hooks failed",
    "cold_update_loaded": "a cold update for this code is already loaded",
    "unexpected": "Ksplice hit an unexpected error",
    "unknown": "Ksplice reports an unknown cause",
}


def kid_of_module(module: str) -> str:
    """ksplice-view's rule: strip "ksplice_", then cut at the first '-' or '_'."""
    mid = module.removeprefix("ksplice_").removeprefix("ksplice-")
    for i, ch in enumerate(mid):
        if ch in "-_":
            return mid[:i]
    return mid


@dataclass(frozen=True, slots=True)
class Conflict:
    comm: str
    pid: int
    symbols: tuple[str, ...]


def parse_conflicts(text: str) -> tuple[list[Conflict], list[str]]:
    conflicts: list[Conflict] = []
    problems: list[str] = []
    for line in text.splitlines():
        cols = line.split()
        if not cols:
            continue
        # comm may hold spaces: the pid is the first all-digit column after it
        at = next((i for i in range(1, len(cols)) if cols[i].isdecimal()), None)
        if at is None:
            problems.append(f"conflicts: garbage line {line.strip()[:60]!r}")
            continue
        conflicts.append(Conflict(" ".join(cols[:at]), int(cols[at]), tuple(cols[at + 1 :])))
    return conflicts, problems


@dataclass(frozen=True, slots=True)
class KspliceUpdate:
    patch: PatchInfo
    conflicts: tuple[Conflict, ...]
    abort_cause: str | None


def _update_module(tree: Tree, kid: str, standalone_module: str | None, modules: list[str]) -> ModuleInfo:
    if standalone_module is not None:
        return read_module(tree, standalone_module)
    # built in: the update's modules are named ksplice_<kid>... (ksplice-create)
    for name in modules:
        if name.startswith("ksplice_") and kid_of_module(name) == kid:
            return read_module(tree, name)
    return ModuleInfo(name=f"ksplice_{kid}", loaded=False)


def read_update(tree: Tree, base: str, kid: str, module: ModuleInfo, where: str) -> KspliceUpdate | None:
    stage_read = parse_line(tree.read(f"{base}/stage"))
    if stage_read.value is None and not tree.is_dir(base):
        return None
    problems: list[str] = []
    stage = stage_read.value
    if stage_read.problem:
        problems.append(f"stage: {stage_read.problem}")
    elif stage not in STAGES:
        problems.append(f"stage: unexpected value {str(stage)[:20]!r}")
        stage = None
    details: list[tuple[str, str]] = [("sysfs", where)]
    cause = parse_line(tree.read(f"{base}/abort_cause"))
    abort_cause: str | None = None
    if cause.value is not None:
        abort_cause = str(cause.value)
        details.append(("abort_cause", abort_cause))
    elif tree.exists(f"{base}/abort_cause"):
        problems.append(f"abort_cause: {cause.problem}")
    for attr in ("debug", "partial"):
        if tree.exists(f"{base}/{attr}"):
            value = parse_int(tree.read(f"{base}/{attr}"))
            if value.value is not None:
                details.append((attr, str(value.value)))
    conflicts: list[Conflict] = []
    if tree.exists(f"{base}/conflicts"):
        read = tree.read(f"{base}/conflicts")
        if read.ok:
            conflicts, conflict_problems = parse_conflicts(read.text or "")
            problems += conflict_problems
        else:
            problems.append(f"conflicts: {read.error}")
    patch = PatchInfo(
        name=kid,
        enabled={"applied": True, "reversed": False, "preparing": False}.get(stage or ""),
        transition=stage == "preparing",
        replace=None,
        stack_order=None,
        module=module,
        objects=(),  # Ksplice does not list what an update changes in sysfs
        problems=tuple(problems),
        mechanism=Mechanism.KSPLICE,
        stage=stage,
        details=tuple(details),
    )
    return KspliceUpdate(patch, tuple(conflicts), abort_cause)


def read_ksplice(tree: Tree, modules: list[str]) -> tuple[SystemInfo, tuple[KspliceUpdate, ...]] | None:
    found: list[KspliceUpdate] = []
    wheres: list[str] = []
    if tree.is_dir(KSPLICE_DIR):
        wheres.append(KSPLICE_DIR)
        for entry in tree.subdirs(KSPLICE_DIR):
            kid = entry.removeprefix("ksplice_")  # ksplice-view strips it too
            base = f"{KSPLICE_DIR}/{entry}"
            update = read_update(tree, base, kid, _update_module(tree, kid, None, modules), base)
            if update is not None:
                found.append(update)
    for name in modules:
        if name.startswith("ksplice") and tree.exists(f"sys/module/{name}/ksplice/stage"):
            base = f"sys/module/{name}/ksplice"
            kid = kid_of_module(name)
            if "sys/module/ksplice_*/ksplice" not in wheres:
                wheres.append("sys/module/ksplice_*/ksplice")
            update = read_update(tree, base, kid, read_module(tree, name), base)
            if update is not None:
                found.append(update)
    if not wheres:
        return None
    applied = sum(1 for u in found if u.patch.stage == "applied")
    detail = f"{len(found)} update(s), {applied} applied"
    return SystemInfo(Mechanism.KSPLICE, ", ".join(wheres), detail), tuple(found)


def ksplice_transition(updates: tuple[KspliceUpdate, ...]) -> KspliceUpdate | None:
    """The update Ksplice is on or stopped at: an apply still preparing (aborted or under way), or an
    undo that aborted with the update still applied."""
    for update in updates:
        stage = update.patch.stage
        if stage == "preparing" or (stage == "applied" and update.abort_cause not in FINE | {None}):
            return update
    return None


def update_transition(update: KspliceUpdate) -> TransitionInfo:
    undo = update.patch.stage == "applied"
    aborted = update.abort_cause if update.abort_cause not in FINE else None
    return TransitionInfo(
        patch=update.patch.name,
        direction=Direction.UNPATCHING if undo else Direction.PATCHING,
        target=0 if undo else 1,
        tasks_pending=len(update.conflicts),
        mechanism=Mechanism.KSPLICE,
        aborted=aborted,
    )


def conflict_tasks(tree: Tree, update: KspliceUpdate) -> tuple[TaskInfo, ...]:
    """The processes Ksplice found using what the update changes, as ksplice-apply names them."""
    tasks = []
    undo = update.patch.stage == "applied"
    verb = "undo" if undo else "update"
    cause = update.abort_cause or "?"
    for c in update.conflicts:
        raw = read_task_details(tree, c.pid, c.pid, None, None, with_stack=False)
        problems: tuple[str, ...] = ()
        if raw is None or (raw.comm is not None and raw.comm != c.comm[:15]):
            problems = ("exited since Ksplice's check (or the pid was reused)",)
            raw = None
        symbols = ", ".join(c.symbols) or "code the update changes"
        tasks.append(
            TaskInfo(
                pid=c.pid,
                tid=c.pid,
                comm=c.comm,
                state=raw.state if raw else None,
                kthread=raw.kthread if raw else None,
                patch_state=None,
                pending=True,
                stack=None,
                blocking_functions=c.symbols,
                reason_code=Reason.KSPLICE_CONFLICT,
                reason=(
                    f"was using {symbols} at each of Ksplice's stop_machine checks, so the {verb} "
                    f"{update.patch.name} aborted ({cause}): run it again once {c.comm} is out of it"
                ),
                problems=problems,
            )
        )
    return tuple(tasks)
