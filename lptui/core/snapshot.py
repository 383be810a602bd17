"""Assemble a whole `Snapshot` from a root: kernel, patches, transition, pending tasks."""

from __future__ import annotations

from lptui.core.livepatch.kernel import LIVEPATCH_DIR, probe_features, read_kernel
from lptui.core.livepatch.patches import livepatch_modules, read_inactive_modules, read_patches
from lptui.core.livepatch.scan import ScanResult, TaskScanner, read_all_tasks
from lptui.core.model import (
    Direction,
    KernelInfo,
    Mechanism,
    ModuleInfo,
    PatchInfo,
    Reason,
    Snapshot,
    SystemInfo,
    TaskInfo,
    TransitionInfo,
)
from lptui.core.tree import Tree, parse_bool01

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.legacy.kgraft import KgraftMemo
    from lptui.core.legacy.systems import OtherSystems
    from lptui.core.livepatch.bpfstall import BpfReader


def find_transition(patches: tuple[PatchInfo, ...]) -> TransitionInfo | None:
    """The patch whose `transition` reads 1; its `enabled` already holds the target."""
    for patch in patches:
        if patch.transition and patch.enabled is not None:
            target = 1 if patch.enabled else 0
            direction = Direction.PATCHING if target == 1 else Direction.UNPATCHING
            return TransitionInfo(patch=patch.name, direction=direction, target=target)
    return None


def livepatch_module_names(
    snapshot_patches: tuple[PatchInfo, ...], inactive: tuple[ModuleInfo, ...]
) -> frozenset[str]:
    return frozenset([p.name for p in snapshot_patches] + [m.name for m in inactive])


def idle_note(possible_cpus: int | None) -> str:
    span = f"swapper/0..{possible_cpus - 1}" if possible_cpus else "swapper/N"
    return (
        f"No visible task is pending: the idle tasks ({span}) are not in /proc and may be the holdouts "
        "(or tasks hidden from this user)."
    )


# Where the older systems show themselves (lptui/core/legacy/systems.py reads them): three stat calls a poll,
# and their readers are imported only on a host that has one.
OTHER_SYSTEM_DIRS = ("sys/kernel/kgraft", "sys/kernel/kpatch", "sys/kernel/ksplice")


class NoOthers:
    """A host with none of the older systems (a plain class: a dataclass costs every start ~0.5 ms)."""

    systems: tuple[SystemInfo, ...] = ()
    patches: tuple[PatchInfo, ...] = ()
    transition: TransitionInfo | None = None
    pending: tuple[TaskInfo, ...] = ()
    owned_modules: frozenset[str] = frozenset()


NO_OTHERS = NoOthers()


def other_systems_present(tree: Tree, modules: list[str]) -> bool:
    return any(tree.is_dir(d) for d in OTHER_SYSTEM_DIRS) or any(m.startswith("ksplice") for m in modules)


class SnapshotReader:
    """Reads snapshots from one root, remembering task-scan state between calls."""

    def __init__(self, tree: Tree, *, relist_every: float = 0.0, relist_share: float | None = None) -> None:
        self.tree = tree
        self.scanner = TaskScanner(relist_every, relist_share=relist_share)
        # Which modules are livepatch modules changes only when modules come or go: re-read the
        # taint of every module only when the listing of /sys/module changes.
        self._module_listing: list[str] | None = None
        self._livepatch_modules: frozenset[str] = frozenset()
        self._kgr: KgraftMemo | None = None  # made when an older system is first seen
        self._bpf: BpfReader | None = None  # made when a BPF frame first stalls a task

    def _livepatch_module_candidates(self) -> frozenset[str]:
        listing = self.tree.listdir("sys/module")
        if listing != self._module_listing:
            self._module_listing = listing
            self._livepatch_modules = livepatch_modules(self.tree)
        return self._livepatch_modules

    def _read_others(self, modules: list[str], *, with_tasks: bool) -> OtherSystems | NoOthers:
        if not other_systems_present(self.tree, modules):
            return NO_OTHERS
        from lptui.core.legacy.kgraft import KgraftMemo
        from lptui.core.legacy.systems import read_other_systems

        if self._kgr is None:
            self._kgr = KgraftMemo()
        return read_other_systems(self.tree, modules, with_tasks=with_tasks, memo=self._kgr)

    def read(self) -> Snapshot:
        snap = self._read_once()
        # A scan that straddles completion mixes values: re-check the transition and retry once.
        if snap.transition is not None and snap.transition.mechanism is Mechanism.LIVEPATCH:
            still = parse_bool01(self.tree.read(f"{LIVEPATCH_DIR}/{snap.transition.patch}/transition"))
            if still.value is not True:
                snap = self._read_once()
        return snap

    def _core_transition(
        self, found: TransitionInfo, result: ScanResult, kernel: KernelInfo, notes: list[str]
    ) -> tuple[TransitionInfo, tuple[TaskInfo, ...]]:
        """The core's transition with the scan's counts, and its pending tasks with any BPF stall named."""
        transition = TransitionInfo(
            patch=found.patch,
            direction=found.direction,
            target=found.target,
            tasks_total=result.threads_total,
            tasks_pending=len(result.pending),
            tasks_unknown=result.unknown,
        )
        pending = result.pending
        if any(t.reason_code is Reason.UNRELIABLE_STACK for t in pending):
            from lptui.core.livepatch.bpfstall import BpfReader, name_bpf_stalls

            self._bpf = self._bpf or BpfReader()
            pending = name_bpf_stalls(self.tree, pending, transition, self._bpf, kernel.machine)
        if any(t.reason_code is Reason.RUNNING for t in pending):
            from lptui.core.livepatch.cpus import note_cpus

            pending = note_cpus(self.tree, pending)
        if not result.pending:
            notes.append(idle_note(kernel.possible_cpus))
        if result.unknown:
            notes.append(
                f"{result.unknown} thread(s) have an unreadable patch_state (run as root to see them)."
            )
        return transition, pending

    def _read_once(self) -> Snapshot:
        tree = self.tree
        kernel = read_kernel(tree)
        patches = read_patches(tree)
        candidates = self._livepatch_module_candidates()
        transition = find_transition(patches)
        # the older systems' tasks are read only when the core has no transition of its own
        others = self._read_others(self._module_listing or [], with_tasks=transition is None)
        inactive = read_inactive_modules(tree, {p.name for p in patches} | others.owned_modules, candidates)
        features = probe_features(tree, patches)
        patch = next((p for p in patches if transition and p.name == transition.patch), None)
        result = self.scanner.scan(tree, transition, patch, livepatch_module_names(patches, inactive))
        systems, notes = _systems(kernel, others)
        transition, pending = self._transition(transition, others, result, kernel, notes)
        return Snapshot(
            kernel=kernel,
            features=features,
            patches=patches + others.patches,
            inactive_modules=inactive,
            transition=transition,
            pending_tasks=pending,
            threads_total=result.threads_total,
            notes=tuple(notes),
            systems=tuple(systems),
        )

    def _transition(
        self,
        transition: TransitionInfo | None,
        others: OtherSystems | NoOthers,
        result: ScanResult,
        kernel: KernelInfo,
        notes: list[str],
    ) -> tuple[TransitionInfo | None, tuple[TaskInfo, ...]]:
        """The transition shown and its pending tasks: the core's, else the older systems' (each with
        its notes)."""
        pending = result.pending
        if transition is None and others.transition is not None:
            # the core is idle (or absent): a kGraft transition or a stopped Ksplice update is the one
            transition, pending = others.transition, others.pending
            if transition.mechanism is Mechanism.KGRAFT and not pending and not transition.tasks_unknown:
                notes.append(KGRAFT_NONE_PENDING)
            if transition.tasks_unknown:
                notes.append(
                    f"{transition.tasks_unknown} process(es) have an unreadable kgr_in_progress "
                    "(run as root to see them)."
                )
        elif transition is not None:
            transition, pending = self._core_transition(transition, result, kernel, notes)
        if others.transition is not None and transition is not others.transition:
            notes.append(
                f"{others.transition.mechanism} also shows {others.transition.patch!r} "
                "in progress; its tasks are listed once the core's transition ends."
            )
        return transition, pending


def _systems(kernel: KernelInfo, others: OtherSystems | NoOthers) -> tuple[list[SystemInfo], list[str]]:
    """The live patching systems present, and the note when the upstream core is not among them."""
    systems: list[SystemInfo] = []
    if kernel.livepatch_supported:
        systems.append(SystemInfo(Mechanism.LIVEPATCH, LIVEPATCH_DIR))
    systems += others.systems
    notes: list[str] = []
    if not systems:
        notes.append(NO_LIVEPATCH_NOTE)
    elif not kernel.livepatch_supported:
        notes.append(no_core_note(others.systems))
    return systems, notes


def read_all_tasks_of(tree: Tree, snap: Snapshot) -> tuple[TaskInfo, ...]:
    """Every thread, analysed against the snapshot's transition (`tasks --all`, the all-tasks screen)."""
    t = snap.transition
    if t is not None and t.mechanism is not Mechanism.LIVEPATCH:
        # kGraft's state is per process and Ksplice's conflicts name processes: every thread as the
        # core sees it (no transition there), the main threads of those processes as they were found
        pending = {task.pid: task for task in snap.pending_tasks}
        threads = read_all_tasks(
            tree, None, None, frozenset(), has_patch_state=snap.kernel.livepatch_supported
        )
        return tuple(pending.get(task.pid, task) if task.pid == task.tid else task for task in threads)
    patch = snap.patch(snap.transition.patch) if snap.transition else None
    return read_all_tasks(
        tree,
        snap.transition,
        patch,
        livepatch_module_names(snap.patches, snap.inactive_modules),
        has_patch_state=snap.kernel.livepatch_supported,
    )


NO_LIVEPATCH_NOTE = (
    "This kernel has no live patching (no /sys/kernel/livepatch: built without CONFIG_LIVEPATCH), "
    "so no thread has a patch_state."
)


KGRAFT_NONE_PENDING = (
    "kGraft is in progress but no process has kgr_in_progress set: it should finish at its next check "
    "(the idle tasks, swapper/N, are not in /proc)"
)


def no_core_note(others: tuple[SystemInfo, ...]) -> str:
    names = ", ".join(str(s.mechanism) for s in others)
    return (
        f"No upstream livepatch core here (no /sys/kernel/livepatch); live patching runs through {names}, "
        "read from its own interface: threads have no patch_state."
    )


def read_snapshot(tree: Tree) -> Snapshot:
    return SnapshotReader(tree).read()
