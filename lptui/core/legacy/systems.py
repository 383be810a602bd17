"""The live-patching systems other than the upstream core (kGraft, the kpatch core module, Ksplice),
read together; a host can have several, and the core besides. Each reader cites its own sources."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lptui.core.legacy.kgraft import KgraftMemo, kgraft_pending, read_kgraft
from lptui.core.legacy.kpatch_core import CORE_MODULE, read_kpatch_core
from lptui.core.legacy.ksplice import conflict_tasks, ksplice_transition, read_ksplice, update_transition
from lptui.core.model import Mechanism, PatchInfo, SystemInfo, TaskInfo, TransitionInfo
from lptui.core.tree import Tree

# One line per system when an action cannot be done by lptui: the system's own tool does it.
TOOLS = {
    Mechanism.KGRAFT: "SUSE's kgr tool (and zypper for the kgraft-patch package)",
    Mechanism.KPATCH_CORE: "kpatch (kpatch load/unload)",
    Mechanism.KSPLICE: "ksplice-apply/ksplice-undo (uptrack-install/uptrack-remove with Uptrack)",
}


@dataclass(frozen=True, slots=True)
class OtherSystems:
    systems: tuple[SystemInfo, ...] = ()
    patches: tuple[PatchInfo, ...] = ()
    transition: TransitionInfo | None = None
    pending: tuple[TaskInfo, ...] = ()
    processes: int | None = None  # processes whose flag was read (kGraft)
    unknown: int = 0
    owned_modules: frozenset[str] = frozenset()  # modules these systems account for


def read_other_systems(
    tree: Tree, modules: list[str], *, with_tasks: bool = True, memo: KgraftMemo | None = None
) -> OtherSystems:
    """Three directory checks when none is present: cheap enough for every poll."""
    systems: list[SystemInfo] = []
    patches: list[PatchInfo] = []
    transition: TransitionInfo | None = None
    pending: tuple[TaskInfo, ...] = ()
    processes: int | None = None
    unknown = 0
    owned: set[str] = set()

    kgraft = read_kgraft(tree)
    if kgraft is not None:
        systems.append(kgraft.system)
        patches += kgraft.patches
        if kgraft.transition is not None:
            transition = kgraft.transition
            if with_tasks:
                patch = next(p for p in kgraft.patches if p.name == transition.patch)
                pending, processes, unknown = kgraft_pending(tree, patch, memo)
                transition = replace(
                    transition, tasks_total=processes, tasks_pending=len(pending), tasks_unknown=unknown
                )

    kpatch = read_kpatch_core(tree)
    if kpatch is not None:
        systems.append(kpatch[0])
        patches += kpatch[1]
        owned.add(CORE_MODULE)

    ksplice = read_ksplice(tree, modules)
    if ksplice is not None:
        systems.append(ksplice[0])
        patches += [u.patch for u in ksplice[1]]
        stopped = ksplice_transition(ksplice[1])
        if stopped is not None and transition is None:
            transition = update_transition(stopped)
            if with_tasks:
                pending = conflict_tasks(tree, stopped)
        owned.update(m for m in modules if m.startswith("ksplice"))

    owned.update(p.module.name for p in patches)
    return OtherSystems(
        tuple(systems), tuple(patches), transition, pending, processes, unknown, frozenset(owned)
    )


def tool_for(mechanism: Mechanism) -> str:
    return TOOLS.get(mechanism, "its own tool")
