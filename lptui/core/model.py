"""Frozen, comparable records of what the kernel shows. No I/O here.

`None` in a field means unknown; the reason is kept in the record's `problems`.
Equal states compare equal, so a refresh that finds nothing new changes nothing downstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lptui.core.shown import shown


class _Named:
    """A record named by a directory listing: any tree (a saved one, a stranger's bundle) controls it,
    and a terminal must never receive it raw (an escape sequence, a bidirectional override)."""

    __slots__ = ()
    name: str

    def __post_init__(self) -> None:
        if not self.name.isprintable():
            object.__setattr__(self, "name", shown(self.name))


class Mechanism(StrEnum):
    """Which live-patching system a patch belongs to (each has its own kernel interface)."""

    LIVEPATCH = "livepatch"  # the upstream core: /sys/kernel/livepatch (4.0+)
    KGRAFT = "kgraft"  # SUSE's kGraft: /sys/kernel/kgraft (SLE 12 kernels before the core took over)
    KPATCH_CORE = "kpatch-core"  # kpatch.ko, Red Hat's pre-core module: /sys/kernel/kpatch
    KSPLICE = "ksplice"  # Ksplice (GPL release): /sys/kernel/ksplice, /sys/module/ksplice_*/ksplice


MECHANISM_TITLES = {
    Mechanism.LIVEPATCH: "upstream livepatch core",
    Mechanism.KGRAFT: "kGraft",
    Mechanism.KPATCH_CORE: "kpatch core module",
    Mechanism.KSPLICE: "Ksplice",
}


# The object name of functions an older system lists without their object (kGraft's early `state`
# tables, the kpatch core's "patches" layout).
OBJECT_NOT_SHOWN = "(object not shown)"


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """One live-patching system present on this kernel, with what lptui could read of it."""

    mechanism: Mechanism
    where: str  # the directory it was found at
    detail: str = ""  # e.g. the kpatch core module's version, kGraft's in_progress flag
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaintFlag:
    bit: int
    letter: str
    meaning: str


@dataclass(frozen=True, slots=True)
class KernelInfo:
    release: str | None
    version: str | None
    machine: str | None
    livepatch_supported: bool
    tainted: int | None
    taint_flags: tuple[TaintFlag, ...]
    ftrace_enabled: bool | None
    possible_cpus: int | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Features:
    """Attributes this kernel's livepatch sysfs has, probed from a loaded patch.

    `None` means unknown: with no patch loaded there is nothing to probe.
    """

    transition: bool | None = None
    force: bool | None = None
    signal: bool | None = None
    replace: bool | None = None
    stack_order: bool | None = None
    object_patched: bool | None = None
    probed_from: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionInfo(_Named):
    name: str
    sympos: int
    state: str | None = None  # kGraft's per-function state ("applied", "patching", ...)


@dataclass(frozen=True, slots=True)
class ObjectInfo(_Named):
    name: str
    loaded: bool
    patched: bool | None
    functions: tuple[FunctionInfo, ...]


@dataclass(frozen=True, slots=True)
class ModuleInfo(_Named):
    name: str
    loaded: bool
    refcnt: int | None = None
    taint: str | None = None
    srcversion: str | None = None
    version: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def is_livepatch(self) -> bool:
        return self.taint is not None and "K" in self.taint


@dataclass(frozen=True, slots=True)
class PatchInfo(_Named):
    name: str
    enabled: bool | None
    transition: bool | None
    replace: bool | None
    stack_order: int | None
    module: ModuleInfo
    objects: tuple[ObjectInfo, ...]
    problems: tuple[str, ...] = ()
    mechanism: Mechanism = Mechanism.LIVEPATCH
    stage: str | None = None  # the system's own word for the patch's state (Ksplice's stage, ...)
    details: tuple[tuple[str, str], ...] = ()  # other attributes the system shows, as read

    @property
    def function_count(self) -> int:
        return sum(len(o.functions) for o in self.objects)


class Direction(StrEnum):
    PATCHING = "patching"
    UNPATCHING = "unpatching"


@dataclass(frozen=True, slots=True)
class TransitionInfo:
    patch: str
    direction: Direction
    target: int
    tasks_total: int | None = None
    tasks_pending: int | None = None
    tasks_unknown: int = 0
    mechanism: Mechanism = Mechanism.LIVEPATCH
    aborted: str | None = None  # Ksplice: the update stopped with this abort_cause


class Reason(StrEnum):
    """Why a pending task has not switched yet, from most to least specific."""

    STACK_UNREADABLE = "stack_unreadable"
    UNRELIABLE_STACK = "unreliable_stack"
    UNINTERRUPTIBLE = "uninterruptible"
    KTHREAD_IN_PATCHED = "kthread_in_patched_function"
    SLEEPING_IN_PATCHED = "sleeping_in_patched_function"
    RUNNING = "running"
    KTHREAD = "kthread"
    WAITING = "waiting"
    NOT_PENDING = "not_pending"
    UNKNOWN_STATE = "unknown_patch_state"
    KGRAFT_IN_KERNEL = "kgraft_not_back_to_user"
    KGRAFT_KTHREAD = "kgraft_kthread_not_at_safe_point"
    KSPLICE_CONFLICT = "ksplice_conflict"


class VerdictKind(StrEnum):
    """The four lines klp_try_switch_task() prints for a task it could not switch."""

    RUNNING = "running"  # -EBUSY: on a CPU at the check
    UNRELIABLE_STACK = "unreliable_stack"  # -EINVAL: stack_trace_save_tsk_reliable() failed
    SLEEPING_ON = "sleeping_on"  # -EADDRINUSE: a checked function is on its stack
    UNKNOWN_ERROR = "unknown_error"  # any other error


@dataclass(frozen=True, slots=True)
class KernelVerdict:
    """The kernel's own word on one task at one retry, from its dynamic-debug line."""

    pid: int  # task->pid: the thread's tid
    comm: str  # as the line gave it (/dev/kmsg-escaped): compared with /proc, never trusted
    kind: VerdictKind
    usec: int  # the log record's time since boot (CLOCK_MONOTONIC)
    function: str | None = None  # SLEEPING_ON only: the function on the stack
    code: int | None = None  # UNKNOWN_ERROR only: the error

    def text(self) -> str:
        if self.kind is VerdictKind.SLEEPING_ON:
            return f"is sleeping on function {self.function}"
        if self.kind is VerdictKind.UNKNOWN_ERROR:
            return f"unknown error code ({self.code})"
        return "is running" if self.kind is VerdictKind.RUNNING else "has an unreliable stack"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    pid: int
    tid: int
    comm: str | None
    state: str | None
    kthread: bool | None
    patch_state: int | None
    pending: bool
    stack: tuple[str, ...] | None = None
    blocking_functions: tuple[str, ...] = ()
    reason_code: Reason = Reason.NOT_PENDING
    reason: str = ""
    problems: tuple[str, ...] = ()
    verdict: KernelVerdict | None = None  # None: no verdict line for this thread this transition
    own_reason: Reason | None = None  # set when the kernel's verdict overruled lptui's own reason
    cpu: int | None = None  # running blockers only: the CPU it was last on (stat field 39)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent-as-possible reading of the whole livepatch state."""

    kernel: KernelInfo
    features: Features
    patches: tuple[PatchInfo, ...]
    inactive_modules: tuple[ModuleInfo, ...]
    transition: TransitionInfo | None
    pending_tasks: tuple[TaskInfo, ...] = ()
    threads_total: int | None = None
    notes: tuple[str, ...] = field(default=())
    systems: tuple[SystemInfo, ...] = ()  # every live-patching system found, the core included

    def patch(self, name: str) -> PatchInfo | None:
        for p in self.patches:
            if p.name == name:
                return p
        return None
