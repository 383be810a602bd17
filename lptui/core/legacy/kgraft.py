"""kGraft (SUSE's pre-core live patching), read-only, from its own kernel interface.

Sources (the kernel is the spec; each revision found is handled):
- /sys/kernel/kgraft/in_progress: `kgr_in_progress` as "%d\\n" (kernel/kgraft_files.c, every revision;
  read-write in walbon/openSUSE-kernel @d017a71, where writing 0 marks every task migrated — lptui
  never writes it).
- /sys/kernel/kgraft/<patch>/: `state` (a table), `revert` (write-only), an `owner` link to the patch's
  module; `refs` and `replace_all` ("%d\\n") from weiny2/linux-kernel @077dc64 on.
- The `state` table's header names the revision (kernel/kgraft_files.c `state_show`):
  gatieme/linux @0642533:           "Function  State  Fatal"          rows: name state abort_if_missing
  weiny2/linux-kernel @077dc64:     "Function   Weak  State"          rows: name weak state
  walbon/openSUSE-kernel @d017a71:  "Function  Object  Sympos  State" rows: name object sympos state
- State numbers: `enum kgr_patch_state` (include/linux/kgraft.h): INIT, SLOW, APPLIED, REVERT_SLOW,
  REVERTED, SKIPPED. SLOW is the patching "slow stub" (old or new code by the caller's universe).
- /proc/<pid>/kgr_in_progress: "%d\\n", 1 while the task is still in the old universe ("livepatch: add
  kgr infrastructure", SUSE kernel-source, 2015-02-26). From "kgr_in_progress for all threads"
  (2015-05-19, bnc#929883) it reads 1 when any thread of the process is; before, the main thread's flag.
  A task is migrated when it crosses the kernel/user boundary (syscall entry/exit slow path); a kernel
  thread when its main loop calls `kgr_task_safe()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lptui.core.livepatch.blockers import parse_frame, task_info
from lptui.core.livepatch.patches import module_loaded, read_module
from lptui.core.livepatch.tasks import read_task_details
from lptui.core.model import (
    OBJECT_NOT_SHOWN,
    Direction,
    FunctionInfo,
    Mechanism,
    ObjectInfo,
    PatchInfo,
    Reason,
    SystemInfo,
    TaskInfo,
    TransitionInfo,
)
from lptui.core.tree import Problems, Tree, parse_bool01, parse_int

KGRAFT_DIR = "sys/kernel/kgraft"
STATES = {0: "init", 1: "patching", 2: "applied", 3: "reverting", 4: "reverted", 5: "skipped"}
# Before the Object column, kGraft looked a name up in vmlinux and every module alike.
ANY_OBJECT = OBJECT_NOT_SHOWN

# header columns -> (revision, column of the name, object, sympos, state)
_LAYOUTS: dict[tuple[str, ...], tuple[str, int | None, int | None, int]] = {
    ("Function", "State", "Fatal"): ("state-fatal", None, None, 1),
    ("Function", "Weak", "State"): ("weak-state", None, None, 2),
    ("Function", "Object", "Sympos", "State"): ("object-sympos-state", 1, 2, 3),
}


@dataclass(frozen=True, slots=True)
class KgrFunction:
    name: str
    obj: str
    sympos: int
    state: int


def parse_state_table(text: str) -> tuple[str | None, list[KgrFunction], list[str]]:
    """The `state` file: (revision name, functions, problems)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None, [], ["state: empty"]
    layout = _LAYOUTS.get(tuple(lines[0].split()))
    if layout is None:
        return None, [], [f"state: unknown table header {lines[0].strip()[:60]!r}"]
    revision, obj_col, pos_col, state_col = layout
    width = len(lines[0].split())
    functions: list[KgrFunction] = []
    problems: list[str] = []
    for line in lines[1:]:
        cols = line.split()
        try:
            if len(cols) != width:
                raise ValueError
            state = int(cols[state_col])
            sympos = int(cols[pos_col]) if pos_col is not None else 0
        except ValueError:
            problems.append(f"state: garbage row {line.strip()[:60]!r}")
            continue
        obj = cols[obj_col] if obj_col is not None else ANY_OBJECT
        functions.append(KgrFunction(cols[0], obj, sympos, state))
    return revision, functions, problems


def patch_stage(functions: list[KgrFunction]) -> str | None:
    """The patch's state from its functions': any in a slow stub means the transition is on."""
    states = {f.state for f in functions}
    for busy in (1, 3):
        if busy in states:
            return STATES[busy]
    settled = states - {5}
    if not settled:
        return "skipped" if states else None
    if len(settled) == 1:
        return STATES.get(settled.pop(), "unknown")
    return "mixed"


def read_kgraft_patch(tree: Tree, name: str) -> PatchInfo | None:
    base = f"{KGRAFT_DIR}/{name}"
    read = tree.read(f"{base}/state")
    if not read.ok and not tree.is_dir(base):
        return None  # removed while we read
    problems: list[str] = []
    if read.ok:
        revision, functions, table_problems = parse_state_table(read.text or "")
        problems += table_problems
    else:
        revision, functions = None, []
        problems.append(f"state: {read.error}")
    details: list[tuple[str, str]] = []
    if revision:
        details.append(("state table", revision))
    for attr in ("refs", "replace_all"):
        if tree.exists(f"{base}/{attr}"):
            value = parse_int(tree.read(f"{base}/{attr}"))
            if value.problem:
                problems.append(f"{attr}: {value.problem}")
            else:
                details.append((attr, str(value.value)))
    owner = tree.link_name(f"{base}/owner")
    stage = patch_stage(functions)
    objects: dict[str, list[FunctionInfo]] = {}
    for f in functions:
        state = STATES.get(f.state, str(f.state))
        objects.setdefault(f.obj, []).append(FunctionInfo(f.name, f.sympos, state))
    return PatchInfo(
        name=name,
        enabled={"applied": True, "patching": True, "reverting": False, "reverted": False}.get(stage or ""),
        transition=stage in ("patching", "reverting"),
        replace=dict(details).get("replace_all") == "1" if "replace_all" in dict(details) else None,
        stack_order=None,
        module=read_module(tree, owner or name),
        objects=tuple(
            ObjectInfo(obj, obj in ("vmlinux", ANY_OBJECT) or module_loaded(tree, obj), None, tuple(fns))
            for obj, fns in objects.items()
        ),
        problems=tuple(problems),
        mechanism=Mechanism.KGRAFT,
        stage=stage,
        details=tuple(details),
    )


@dataclass(frozen=True, slots=True)
class KgraftReading:
    system: SystemInfo
    patches: tuple[PatchInfo, ...]
    transition: TransitionInfo | None


def read_kgraft(tree: Tree) -> KgraftReading | None:
    if not tree.is_dir(KGRAFT_DIR):
        return None
    problems = Problems()
    flag = problems.field("in_progress", parse_bool01(tree.read(f"{KGRAFT_DIR}/in_progress")))
    patches = tuple(
        p for p in (read_kgraft_patch(tree, n) for n in tree.subdirs(KGRAFT_DIR)) if p is not None
    )
    transition = None
    moving = [p for p in patches if p.transition]
    if flag or moving:
        patch = moving[-1] if moving else (patches[-1] if patches else None)
        if patch is not None:
            unpatching = patch.stage == "reverting"
            transition = TransitionInfo(
                patch=patch.name,
                direction=Direction.UNPATCHING if unpatching else Direction.PATCHING,
                target=0 if unpatching else 1,
                mechanism=Mechanism.KGRAFT,
            )
    detail = {True: "in progress", False: "idle", None: "in_progress unreadable"}[flag]
    system = SystemInfo(Mechanism.KGRAFT, KGRAFT_DIR, detail, tuple(problems))
    return KgraftReading(system, patches, transition)


def _on_stack(stack: tuple[str, ...], patch: PatchInfo | None) -> tuple[str, ...]:
    if patch is None:
        return ()
    names = {f.name for o in patch.objects for f in o.functions}
    found = []
    for line in stack:
        frame = parse_frame(line)
        if frame is not None and frame.func in names:
            found.append(frame.func if frame.module is None else f"{frame.func} [{frame.module}]")
    return tuple(dict.fromkeys(found))


def kgraft_reason(state: str | None, kthread: bool | None, on_stack: tuple[str, ...]) -> tuple[Reason, str]:
    """Why a process is still in the old universe. kGraft migrates a task at the kernel/user crossing
    (and a kernel thread at `kgr_task_safe()`), whatever is on its stack."""
    extra = f"; {on_stack[0]} (a patched function) is on its stack" if on_stack else ""
    if kthread:
        return Reason.KGRAFT_KTHREAD, (
            "kernel thread that has not reached kGraft's safe point: it switches when its main loop "
            f"calls kgr_task_safe(); one that sleeps elsewhere holds the whole patch{extra}"
        )
    if state == "D":
        return Reason.KGRAFT_IN_KERNEL, (
            "uninterruptible sleep (D) in the kernel since the patch started: it switches only when that "
            f"wait ends and it returns to user space{extra}"
        )
    if state == "R":
        return Reason.KGRAFT_IN_KERNEL, f"running: switches at its next system call entry or exit{extra}"
    return Reason.KGRAFT_IN_KERNEL, (
        "asleep in the kernel since the patch started: it switches when it next enters or leaves a "
        f"system call (a signal wakes it: later kGraft sends one, older `kgr poke` did){extra}"
    )


@dataclass(slots=True)
class KgraftMemo:
    """Processes already seen migrated in this transition: kGraft only clears the flag (a task never
    goes back to the old universe, and a new one inherits its parent's), so they are not read again.
    A pid reused during the transition by a child of a process still in the old universe would be missed
    until the next transition; the listing itself is redone every poll."""

    key: str | None = None
    settled: set[int] = field(default_factory=set)


def kgraft_pending(
    tree: Tree, patch: PatchInfo | None, memo: KgraftMemo | None = None
) -> tuple[tuple[TaskInfo, ...], int, int]:
    """Processes whose kgr_in_progress reads 1: (tasks, processes seen, flags unreadable)."""
    pending: list[TaskInfo] = []
    seen = unknown = 0
    memo = memo if memo is not None else KgraftMemo()
    key = patch.name if patch is not None else None
    if memo.key != key:
        memo.key, memo.settled = key, set()
    alive: set[int] = set()
    for name in tree.listdir("proc"):
        if not name.isdecimal():
            continue
        pid = int(name)
        alive.add(pid)
        if pid in memo.settled:
            seen += 1
            continue
        read = tree.read(f"proc/{pid}/kgr_in_progress")
        if read.error == "vanished":
            continue  # exited between the listing and the read
        flag = parse_bool01(read)
        if flag.value is None:
            seen += 1
            unknown += 1  # unreadable (not root) or garbage: cannot tell whether it has switched
            continue
        seen += 1
        if not flag.value:
            memo.settled.add(pid)
            continue
        raw = read_task_details(tree, pid, pid, None, None, with_stack=True)
        if raw is None:
            continue  # exited while we read it
        on_stack = _on_stack(raw.stack or (), patch)
        code, reason = kgraft_reason(raw.state, raw.kthread, on_stack)
        pending.append(task_info(raw, True, on_stack, code, reason))
    memo.settled &= alive  # exited processes leave the memo (their pids may come back)
    return tuple(pending), seen, unknown
