"""Why a pending task has not switched: patched functions on its stack, and a plain reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lptui.core.livepatch.tasks import RawTask
from lptui.core.model import Direction, PatchInfo, Reason, TaskInfo, TransitionInfo

# "[<0>] cmdline_proc_show+0x1d/0x40 [mod]"; older kernels print the address instead of 0.
_FRAME = re.compile(
    r"^(?:\[<[0-9a-fA-Fx]+>\]\s*)?"  # "[<0>] " or "[<ffffffff81234567>] "
    r"(?P<func>[^\s+\[]+)"  # symbol
    r"(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?"  # +offset/size
    r"(?:\s+\[(?P<mod>[^\]]+)\])?"  # [module]
)


@dataclass(frozen=True, slots=True)
class Frame:
    func: str
    module: str | None


def parse_frame(line: str) -> Frame | None:
    match = _FRAME.match(line.strip())
    if not match:
        return None
    return Frame(match.group("func"), match.group("mod"))


def blocking_functions(
    stack: tuple[str, ...],
    transition: TransitionInfo,
    patch: PatchInfo | None,
    livepatch_modules: frozenset[str],
) -> tuple[str, ...]:
    """Frames that pin the task.

    Patching: a frame in one of the transition patch's functions (in its object, or an older
    patch's replacement of it). Unpatching: any frame inside the patch's own module.
    """
    found: list[str] = []
    if transition.direction is Direction.UNPATCHING:
        for line in stack:
            frame = parse_frame(line)
            if frame and frame.module == transition.patch:
                found.append(f"{frame.func} [{frame.module}]")
    elif patch is not None:
        targets: dict[str, set[str]] = {}
        for obj in patch.objects:
            if obj.patched is False:
                continue  # the kernel only checks objects it has patched
            for fn in obj.functions:
                targets.setdefault(fn.name, set()).add(obj.name)
        for line in stack:
            frame = parse_frame(line)
            if frame is None or frame.func not in targets:
                continue
            objs = targets[frame.func]
            if (frame.module is None and "vmlinux" in objs) or frame.module in objs:
                found.append(frame.func)
            elif frame.module in livepatch_modules:
                found.append(f"{frame.func} [{frame.module}]")
    return tuple(dict.fromkeys(found))


# One short label per reason, for tables (the CLI's and the console's).
SHORT_REASON = {
    Reason.STACK_UNREADABLE: "stack unreadable",
    Reason.UNRELIABLE_STACK: "unreliable stack (BPF)",
    Reason.UNINTERRUPTIBLE: "D-state sleep",
    Reason.KTHREAD_IN_PATCHED: "kthread in patched fn",
    Reason.SLEEPING_IN_PATCHED: "sleeping in patched fn",
    Reason.RUNNING: "running",
    Reason.KTHREAD: "kernel thread",
    Reason.WAITING: "waiting for retry",
    Reason.NOT_PENDING: "",
    Reason.UNKNOWN_STATE: "state unreadable",
    Reason.KGRAFT_IN_KERNEL: "not back to user yet",
    Reason.KGRAFT_KTHREAD: "kthread off safe point",
    Reason.KSPLICE_CONFLICT: "used changed code",
}


# Frames of BPF-generated code: kallsyms names trampolines "bpf_trampoline_%llu" (the key,
# bpf_tramp_image_alloc in kernel/bpf/trampoline.c) and programs "bpf_prog_<tag>_<name>"; a frame of
# either is in the "[bpf]" module.
_BPF_FRAME = re.compile(r"^(?:bpf_trampoline_\d+|bpf_prog_[0-9a-f]{16}(?:_\S*)?)$")


@dataclass(frozen=True)
class BpfFacts:
    """What lptui read of the BPF frames on pending stacks (lptui/core/livepatch/bpfstall.py)."""

    reliable: bool | None  # the kernel unwinds BPF frames reliably; None: kallsyms unreadable
    targets: dict[str, str] = field(default_factory=dict)  # trampoline -> traced function
    attached: dict[str, bool] | None = None  # trampoline -> still attached; None: enabled_functions unread
    programs: dict[str, str] = field(default_factory=dict)  # trampoline -> bpftool's word on its programs


def bpf_frames(stack: tuple[str, ...] | None) -> tuple[str, ...]:
    """The stack's frames of BPF trampolines and programs, top first."""
    found = []
    for line in stack or ():
        frame = parse_frame(line)
        if frame is not None and (_BPF_FRAME.match(frame.func) or frame.module == "bpf"):
            found.append(frame.func)
    return tuple(found)


def trampoline_target(func: str) -> tuple[int, int] | None:
    """(BTF object id, BTF type id) of the function a trampoline is attached to, from its key
    (bpf_trampoline_compute_key: obj_id << 32 | 0x80000000 | btf_id for a kernel or module target;
    object 1 is vmlinux). None for a trampoline on a BPF program (bit 31 clear) or another name."""
    if not func.startswith("bpf_trampoline_") or not func[15:].isdecimal():
        return None
    key = int(func[15:])
    if not key & 0x80000000 or key >> 32 == 0:
        return None
    return key >> 32, key & 0x7FFFFFFF


def unreliable_text(
    frames: tuple[str, ...], kthread: bool | None, state: str | None, facts: BpfFacts | None = None
) -> str:
    """Why the kernel cannot check this stack, and how the stall ends (x86 without 6.19's
    "x86/unwind/orc: Support reliable unwinding through BPF stack frames"). `facts`: a
    bpfstall.BpfFacts naming the traced function, whether a program is still attached there, and its
    holders; without them, what the frame itself says."""
    first = frames[0]
    target = next((t for t in map(trampoline_target, frames) if t is not None), None)
    tramp = next((f for f in frames if f.startswith("bpf_trampoline_")), None)
    traced = facts.targets.get(tramp) if facts is not None and tramp else None
    if traced is not None:
        first = f"the BPF trampoline on {traced} ({first})"
    elif target is not None:
        where = "vmlinux" if target[0] == 1 else f"BTF object {target[0]}"
        first += f" (traced function: BTF id {target[1]} in {where})"
    attached = (
        facts.attached.get(tramp) if facts is not None and facts.attached is not None and tramp else None
    )
    why = (
        f"{first} is on its stack: the ORC unwinder has no data for BPF code, so the kernel's stack check "
        "fails (arch_stack_walk_reliable, klp_check_stack: -EINVAL) whatever else is on the stack"
    )
    held = facts.programs.get(tramp or "") if facts is not None else None
    if attached:
        why += f"; {held}" if held else "; a program is still attached there (enabled_functions)"
    elif attached is False:
        why += "; no program is attached there any more (not in enabled_functions): a stale frame"
    if attached is False:
        end = "it switches only when the sleep that went through the old trampoline ends"
    elif kthread:
        end = "a kernel thread: it switches only after the program is detached and the thread has returned "
        end += "through the trampoline"
    elif state == "D":
        end = "in uninterruptible sleep (D): it switches when that sleep ends after the program is detached"
    else:
        end = "a user task: the kernel's fake signal (about 15 s in) should move it"
    return f"{why}; {end}"


def explain(
    raw: RawTask | TaskInfo,
    blockers: tuple[str, ...],
    transition: TransitionInfo,
    bpf_unreliable: bool = True,
    switches_per_s: float | None = None,
) -> tuple[Reason, str]:
    """The decision table's reason (lptui/core/livepatch/decisions.py). `bpf_unreliable`: False on a
    kernel that walks BPF frames (bpfstall.probe_reliable); `switches_per_s`: psutil's measurement."""
    from lptui.core.livepatch.decisions import Case, decide  # only during a transition: not at start

    frames = bpf_frames(raw.stack) if bpf_unreliable else ()
    case = Case(
        stack_read=raw.stack is not None,
        stack_error=getattr(raw, "stack_error", None),
        bpf_frames=frames,
        blockers=blockers,
        kthread=raw.kthread,
        state=raw.state,
        direction=transition.direction,
        switches_per_s=switches_per_s,
    )
    row, text = decide(case)
    if row.reason is Reason.UNRELIABLE_STACK:
        text = unreliable_text(frames, raw.kthread, raw.state)
    return row.reason, text


def analyse(
    raw: RawTask,
    transition: TransitionInfo | None,
    patch: PatchInfo | None,
    livepatch_modules: frozenset[str],
) -> TaskInfo:
    target = transition.target if transition else None
    state = raw.patch_state
    pending = state is not None and state != -1 and target is not None and state != target
    blockers: tuple[str, ...] = ()
    if raw.patch_state is None and transition is not None:
        code, reason = Reason.UNKNOWN_STATE, "patch_state unreadable: cannot tell whether it has switched"
    elif pending and transition is not None:
        blockers = blocking_functions(raw.stack or (), transition, patch, livepatch_modules)
        code, reason = explain(raw, blockers, transition)
    else:
        code, reason = Reason.NOT_PENDING, ""
    return task_info(raw, pending, blockers, code, reason)


def task_info(raw: RawTask, pending: bool, blockers: tuple[str, ...], code: Reason, reason: str) -> TaskInfo:
    """The record of one task as read, with the verdict on it (the core's or an older system's)."""
    return TaskInfo(
        pid=raw.pid,
        tid=raw.tid,
        comm=raw.comm,
        state=raw.state,
        kthread=raw.kthread,
        patch_state=raw.patch_state,
        pending=pending,
        stack=raw.stack,
        blocking_functions=blockers,
        reason_code=code,
        reason=reason,
        problems=raw.problems + ((f"stack: {raw.stack_error}",) if raw.stack_error else ()),
    )


def with_progress(task: TaskInfo, transition: TransitionInfo, switches_per_s: float | None) -> TaskInfo:
    """The task re-explained with what psutil measured: a D-state task seen switching is in short waits
    that end, never "signals cannot help" (decisions.SHORT_SLEEPS)."""
    if task.reason_code is not Reason.UNINTERRUPTIBLE or not switches_per_s or task.own_reason is not None:
        return task
    code, reason = explain(task, task.blocking_functions, transition, switches_per_s=switches_per_s)
    return replace(task, reason_code=code, reason=reason)
