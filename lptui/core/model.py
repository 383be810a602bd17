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


# A CVE id as MITRE writes it (four or more digits after the year since 2014): the one pattern `status
# --cve`, the life cycle's reading of module descriptions and the fleet's `cve` question match.
CVE_PATTERN = r"CVE-\d{4}-\d{4,}"


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
    """One set bit of /proc/sys/kernel/tainted, as the kernel's taint_flags table names it (kernel/panic.c):
    `letter` is what an oops line prints ("K" for a live patch, bit 15, since 4.0)."""

    bit: int
    letter: str
    meaning: str


@dataclass(frozen=True, slots=True)
class KernelInfo:
    """The running kernel, from /proc/sys/kernel and /sys/devices/system/cpu. Every field that can be None
    is None when its file is unreadable or holds garbage, and `problems` says which and why.

    `release` and `version` mirror `uname -r` / `uname -v` (kernel/sys.c's utsname); `machine` is
    /proc/sys/kernel/arch where the kernel has that sysctl (else None on a saved tree, os.uname() on the
    live one). `livepatch_supported`: /sys/kernel/livepatch exists (CONFIG_LIVEPATCH, since 4.0).
    `ftrace_enabled` is kernel.ftrace_enabled (livepatch needs it: klp_patch_func fails with EBUSY when
    0). `possible_cpus` counts /sys/devices/system/cpu/possible (the idle tasks, one per CPU, are absent
    from /proc)."""

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
    """A patched function: the directory /sys/kernel/livepatch/<patch>/<object>/<function,sympos>
    (struct klp_func). `sympos` is the symbol's position among same-named ones in its object, 0 when it is
    unique (kernel/livepatch/core.c klp_find_object_symbol)."""

    name: str
    sympos: int
    state: str | None = None  # kGraft's per-function state ("applied", "patching", ...)


@dataclass(frozen=True, slots=True)
class ObjectInfo(_Named):
    """What a patch changes in one object: vmlinux or a module (struct klp_object), the directory
    /sys/kernel/livepatch/<patch>/<object>. `loaded`: the module is loaded (vmlinux always is); a patch
    for a module not loaded waits for it (klp_module_coming). `patched` is the object's `patched`
    attribute: None before 6.1, where the kernel does not show it, or when it is unreadable."""

    name: str
    loaded: bool
    patched: bool | None
    functions: tuple[FunctionInfo, ...]


@dataclass(frozen=True, slots=True)
class ModuleInfo(_Named):
    """A kernel module as /sys/module/<name> shows it (struct module). `refcnt`, `taint`: None when the
    module is not loaded or the file is unreadable; a livepatch module's taint holds "K"
    (TAINT_LIVEPATCH). `srcversion` is present only for modules built with MODULE_VERSION or
    CONFIG_MODULE_SRCVERSION_ALL (None otherwise), `version` only with MODULE_VERSION."""

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
    """A loaded live patch: /sys/kernel/livepatch/<patch> (struct klp_patch), or an older system's patch
    (`mechanism`: kGraft, the kpatch core, Ksplice) as that system shows it.

    Each optional attribute is None where this kernel does not have the file, or it is unreadable (the
    reason is in `problems`): `transition` since 4.12 (None before: no consistency model), `replace` since
    6.11 (the cumulative flag, klp_patch.replace, since 5.1; not shown before 6.11), `stack_order` since
    6.14. `enabled` is None only when unreadable. Since 5.1 a disabled patch is freed and its directory
    goes: it then appears as an inactive module (Snapshot.inactive_modules), not here."""

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
    """Which way a transition goes: the patch's `enabled` is the target (kernel/livepatch/transition.c
    klp_init_transition: KLP_TRANSITION_PATCHED or _UNPATCHED; KLP_PATCHED / KLP_UNPATCHED before 6.10)."""

    PATCHING = "patching"
    UNPATCHING = "unpatching"


@dataclass(frozen=True, slots=True)
class TransitionInfo:
    """The transition in progress: the patch whose `transition` reads 1 (since 4.12; one at a time,
    klp_transition_patch), or an older system's. `target` is the patch_state every task must reach (1
    patching, 0 unpatching). `tasks_total`, `tasks_pending`: None until the tasks are scanned, or when
    /proc cannot be listed; `tasks_unknown` counts threads whose patch_state could not be read (another
    user's, without root)."""

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
    """One thread: /proc/<pid>/task/<tid> (a task_struct), with lptui's judgement of why it has not
    switched. `patch_state` is the thread's /proc file (since 4.12; -1 when no transition runs; None when
    unreadable, `problems` saying why). `comm`, `state` (stat field 3) and `kthread` (PF_KTHREAD in stat's
    flags) are None when unreadable or when the thread exited mid-read. `stack` is /proc/.../stack (root
    only, CONFIG_STACKTRACE): None when it was not read (not pending) or could not be; `cpu` is set only
    for running blockers."""

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
    """One consistent-as-possible reading of the whole livepatch state: what lptui.core.snapshot assembles
    from one pass over /sys and /proc. `transition` is None when none is in progress (the core's, or an
    older system's); `threads_total` is None when neither /proc/loadavg nor /proc could be read.
    `inactive_modules`: livepatch modules loaded with no patch in /sys/kernel/livepatch (disabled: since
    5.1 the kernel frees a disabled patch, and its module stays until unloaded)."""

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
