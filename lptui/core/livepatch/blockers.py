"""Why a pending task has not switched: patched functions on its stack, and a plain reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def unreliable_text(frames: tuple[str, ...], raw: RawTask) -> str:
    """Why the kernel cannot check this stack, and how the stall ends (x86 without 6.19's
    "x86/unwind/orc: Support reliable unwinding through BPF stack frames")."""
    first = frames[0]
    target = next((t for t in map(trampoline_target, frames) if t is not None), None)
    if target is not None:
        where = "vmlinux" if target[0] == 1 else f"BTF object {target[0]}"
        first += f" (traced function: BTF id {target[1]} in {where})"
    why = (
        f"{first} on its stack: the ORC unwinder has no data for BPF code, so the kernel's stack check "
        "fails (arch_stack_walk_reliable, klp_check_stack: -EINVAL) whatever else is on the stack"
    )
    if raw.kthread:
        end = "a kernel thread: it switches only after the program is detached and the thread has returned "
        end += "through the trampoline"
    elif raw.state == "D":
        end = "in uninterruptible sleep (D): it switches when that sleep ends after the program is detached"
    else:
        end = "a user task: the kernel's fake signal (about 15 s in) should move it"
    return f"{why}; {end}"


def explain(raw: RawTask, blockers: tuple[str, ...], transition: TransitionInfo) -> tuple[Reason, str]:
    if raw.stack is None and raw.stack_error is not None:
        hint = "; run lptui as root to see it" if raw.stack_error == "permission denied" else ""
        return Reason.STACK_UNREADABLE, f"stack unreadable ({raw.stack_error}){hint}"
    frames = bpf_frames(raw.stack)
    if frames:
        return Reason.UNRELIABLE_STACK, unreliable_text(frames, raw)
    what = "patched function" if transition.direction is Direction.PATCHING else "the patch's code"
    if blockers:
        where = blockers[0]
        if raw.kthread:
            how = "in uninterruptible sleep (D)" if raw.state == "D" else "sleeping"
            return (
                Reason.KTHREAD_IN_PATCHED,
                f"kernel thread {how} inside {what} {where}: it never returns to user space and "
                f"signals cannot move it, so it switches only once it leaves {where}",
            )
        if raw.state == "D":
            return (
                Reason.UNINTERRUPTIBLE,
                f"uninterruptible sleep (D) inside {what} {where}: signals cannot help; "
                "it switches only when that wait ends",
            )
        return (
            Reason.SLEEPING_IN_PATCHED,
            f"sleeping inside {what} {where}: switches when it returns; "
            "the kernel's fake signal (about 15 s in) can wake it",
        )
    if raw.state == "R":
        return Reason.RUNNING, "running on a CPU: switches at its next return to user space or stack check"
    if raw.state == "D":
        return Reason.UNINTERRUPTIBLE, "uninterruptible sleep (D): signals cannot help"
    if raw.kthread:
        return Reason.KTHREAD, "kernel thread: switches only when a stack check finds it clean"
    return Reason.WAITING, "no patched function on its stack: should switch at the kernel's next retry (~1 s)"


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
