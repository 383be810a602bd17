"""Mutable records the simulated kernel keeps (the kernel's own structures, simplified)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lptui.core.declared import PlannedObject, PlannedState


@dataclass(frozen=True)
class PatchSpec:
    """A livepatch module as built: what `klp_enable_patch` gets from its `module_init`."""

    name: str
    objects: tuple[PlannedObject, ...]
    replace: bool = False
    srcversion: str = "0123456789ABCDEF0123456"
    version: str | None = None
    states: tuple[PlannedState, ...] = ()
    description: str | None = None  # in the module file's .modinfo (sysfs does not show it)


@dataclass(frozen=True)
class InstalledFile:
    """A module file on the simulated disk, where provenance looks (kpatch's and distributions'
    directories); not the kernel's business: loading it is a separate step."""

    directory: str  # under the root; "{r}" stands for the release
    spec: PatchSpec
    release: str | None = None  # built for another release; None: the running one


@dataclass
class SimFunc:
    name: str
    sympos: int
    new_name: str
    nop: bool = False  # atomic replace adds nops for functions only older patches touched


@dataclass
class SimObject:
    name: str
    funcs: list[SimFunc]
    dynamic: bool = False
    patched: bool = False


@dataclass
class SimPatch:
    name: str
    objects: list[SimObject]
    replace: bool
    enabled: bool = False
    forced: bool = False
    states: dict[int, int] = field(default_factory=dict)  # klp_state id -> version

    def functions(self) -> list[tuple[str, SimFunc]]:
        return [(o.name, f) for o in self.objects for f in o.funcs]


@dataclass
class SimModule:
    name: str
    refcnt: int = 0
    taint: str = ""
    srcversion: str | None = None
    version: str | None = None
    livepatch: bool = False
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class SimTask:
    """A thread. `stack` holds (function, module-or-None) frames, innermost first."""

    pid: int
    tid: int
    comm: str
    state: str = "S"
    kthread: bool = False
    ppid: int = 1
    patch_state: int = -1
    stack: list[tuple[str, str | None]] = field(default_factory=list)
    stack_readable: bool = True
    # When a running or busy task reaches kernel exit / a clean stack check, relative to the
    # transition start. None: it only switches when its stack is clean at a retry.
    switch_after: float | None = None
    # A fake signal makes an interruptible user task return to user space, leaving these frames.
    wakes_on_signal: bool = False
    dirty: bool = True


@dataclass
class Transition:
    patch: str
    target: int
    started_at: float
    next_try: float
    signals_cnt: int = 0
