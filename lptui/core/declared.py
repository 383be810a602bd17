"""What a livepatch module declares: its objects, their functions, its system states, whether it
replaces. One model for both sides: read from a module file (`klpelf`) and loaded into the
simulated kernel (`sim`), so what inspect shows is what the simulator patches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class PlannedFunction:
    name: str
    sympos: int = 1  # as sysfs shows it: 0 ("unique") reads as 1
    new_func: str | None = None  # the replacement's symbol in the patch module
    declared_sympos: int | None = (
        None  # as the module declares it (0: the name must be unique); None: unknown
    )

    @property
    def wanted_sympos(self) -> int:
        return self.sympos if self.declared_sympos is None else self.declared_sympos


@dataclass(frozen=True)
class PlannedObject:
    name: str  # "vmlinux" or a module name
    functions: tuple[PlannedFunction, ...] = ()  # empty: an object with callbacks only
    callbacks: tuple[tuple[str, str], ...] = ()  # (hook, function), e.g. ("pre_patch", "my_pre"); klp-build


@dataclass(frozen=True)
class PlannedState:
    """A system state the patch declares (include/linux/livepatch.h `struct klp_state`)."""

    id: int
    version: int


class PlanSource(StrEnum):
    """Where the plan was read: the upstream `struct klp_patch` (include/linux/livepatch.h), kpatch-build's
    `.kpatch.funcs` table, klp-build's `.init.klp_objects` (scripts/livepatch), or none of them."""

    KLP_PATCH = "klp_patch"
    KPATCH_FUNCS = "kpatch.funcs"
    KLP_BUILD = "klp-build"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PatchPlan:
    source: PlanSource
    objects: tuple[PlannedObject, ...] = ()
    replace: bool | None = None
    notes: tuple[str, ...] = field(default=())
    states: tuple[PlannedState, ...] | None = None  # None: not known (kpatch-build, pre-5.5 layouts)
    # replace is the builder's default, compiled into init code (kpatch-build, klp-build), not read
    replace_by_default: bool = False

    @property
    def function_count(self) -> int:
        return sum(len(o.functions) for o in self.objects)
