"""Before a load: what a module file is, what it will patch, and whether this kernel would take it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lptui.core.actions.kernel_checks import (
    Check,
    ReplacePreview,
    ftrace_user_checks,
    replace_preview,
    signature_checks,
    symbol_checks,
    trace_checks,
)
from lptui.core.declared import PatchPlan, PlannedState, PlanSource
from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import ModuleFile, ModuleFileError, open_module
from lptui.core.livepatch.patches import module_loaded
from lptui.core.model import Mechanism, Snapshot
from lptui.core.oncall.history import FORCED_ADVICE, ForceEvidence
from lptui.core.tree import Tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.lifecycle.provenance import LifeCycle

MODINFO_KEYS = (
    "name",
    "vermagic",
    "livepatch",
    "license",
    "srcversion",
    "depends",
    "retpoline",
    "intree",
    "version",
    "description",
)


@dataclass(frozen=True)
class Inspection:
    path: str
    module: ModuleFile
    plan: PatchPlan
    checks: tuple[Check, ...]
    preview: ReplacePreview | None = None  # a cumulative patch's effect on what is patched now

    @property
    def loadable(self) -> bool:
        return not any(c.level == "error" for c in self.checks)

    @property
    def version_unknown(self) -> bool:
        """The kernel's version check (vermagic, CRCs) is one lptui could not make: `inspect` exits 6."""
        return any(c.key == "version" and c.level == "unknown" for c in self.checks)

    @property
    def certain(self) -> bool:
        """False when a check could not be made (a "cannot tell" warning): no promise then."""
        return not any(c.level == "unknown" for c in self.checks)

    @property
    def verdict(self) -> str:
        if not self.loadable:
            return "Not loadable: lptui load refuses it."
        if not self.certain:
            return "No problem found, but lptui cannot tell whether the kernel accepts it (see above)."
        return "Loadable: no problem found."

    @property
    def errors(self) -> list[str]:
        return [c.text for c in self.checks if c.level == "error"]


def _verdict(
    mod: ModuleFile,
    plan: PatchPlan,
    snap: Snapshot | None,
    tree: Tree | None,
    full: Snapshot | None = None,
    life: LifeCycle | None = None,
) -> list[Check]:
    """`snap`: the upstream core's side only (what a livepatch module meets); `full`: every system's."""
    checks = _marking_checks(mod)
    if snap is None:
        return checks
    checks += _kernel_fit_checks(mod, snap, tree)
    full = full or snap
    if mod.name and full is not None and full.patch(mod.name) is not None:
        checks.append(Check("error", f"patch {mod.name!r} is already loaded"))
    elif mod.name and any(m.name == mod.name for m in snap.inactive_modules):
        checks.append(Check("error", f"module {mod.name!r} is still loaded (inactive): unload it first"))
    checks += _overlap_checks(plan, snap, tree)
    if tree is not None and snap.kernel.livepatch_supported:
        checks.extend(symbol_checks(plan, tree))
        checks.extend(trace_checks(plan, tree))
        checks.extend(ftrace_user_checks(plan, tree, snap))
        checks.extend(signature_checks(mod.signed, tree))
    checks.extend(_states_check(plan, snap, tree, life))
    if snap.transition is not None:
        busy = snap.transition.patch
        checks.append(Check("error", f"patch {busy!r} is in transition: the kernel would refuse it (EBUSY)"))
    return checks


def _marking_checks(mod: ModuleFile) -> list[Check]:
    """klp_enable_patch() refuses a module without MODULE_INFO(livepatch, "Y") (is_livepatch_module)."""
    if mod.is_livepatch:
        return [Check("ok", "marked as a livepatch module (livepatch=Y)")]
    checks = [Check("error", "not marked as a livepatch module (no livepatch=Y in .modinfo)")]
    other = other_system_module(mod)
    if other:
        checks.append(Check("error", other))
    return checks


def _vermagic_check(mod: ModuleFile, snap: Snapshot, tree: Tree | None) -> Check:
    """check_modinfo()'s same_magic(), against the running kernel's vermagic (kofile/vermagic.py)."""
    from lptui.core.kofile.vermagic import has_crcs, kernel_vermagic, same_magic, word_differences

    release = snap.kernel.release
    magic = mod.info("vermagic")
    if not magic:
        return Check("error", "no vermagic in .modinfo: the kernel will refuse it")
    if release is None:
        return Check("warn", "the running kernel's release is unknown: cannot compare vermagic")
    built_for, crcs = magic.split()[0], has_crcs(mod)
    ref = kernel_vermagic(str(tree.root), release) if tree is not None else kernel_vermagic("", "")
    if ref.vermagic is None:
        if built_for != release and not crcs:  # the whole string must match: the release alone refutes it
            return Check(
                "error",
                f"built for {built_for}, but this kernel is {release} (no symbol CRCs: the "
                "kernel compares the whole vermagic)",
            )
        return Check(
            "unknown", f"cannot tell whether this kernel accepts its vermagic {magic.strip()!r}: {ref.source}"
        )
    if same_magic(magic, ref.vermagic, crcs):
        if built_for == release:
            return Check("ok", f"built for this kernel ({release})")
        # with symbol CRCs the kernel skips the release and checks each imported symbol's CRC
        # (check_version): compared here with the running release's own (kofile/crcs.py)
        from lptui.core.kofile.crcs import crc_verdict

        level, said = crc_verdict(mod, str(tree.root) if tree is not None else "", release)
        return Check(level, f"built for {built_for}, this kernel is {release}: {said}", key="version")
    differences = word_differences(magic, ref.vermagic)
    if not differences:  # the flags agree: the release is what differs, and without CRCs it counts
        return Check(
            "error",
            f"built for {built_for}, but this kernel is {release} (no symbol CRCs: the "
            "kernel compares the whole vermagic)",
        )
    return Check(
        "error",
        f"vermagic differs from this kernel's: {'; '.join(differences)} (the kernel "
        'refuses it: ENOEXEC, "version magic ... should be ...")',
    )


def _kernel_fit_checks(mod: ModuleFile, snap: Snapshot, tree: Tree | None = None) -> list[Check]:
    """Built for this kernel, and the kernel has the upstream core to load it into."""
    checks: list[Check] = [_vermagic_check(mod, snap, tree)]
    if not snap.kernel.livepatch_supported:
        others = [x.mechanism for x in snap.systems]
        if others:
            from lptui.core.legacy.systems import tool_for

            names = ", ".join(f"{m} (load its patches with {tool_for(m)})" for m in others)
            text = f"this kernel has no upstream livepatch core (no /sys/kernel/livepatch); it has {names}"
            checks.append(Check("error", text))
        else:
            checks.append(
                Check("error", "this kernel has no livepatch support (/sys/kernel/livepatch is missing)")
            )
    return checks


def _overlap_checks(plan: PatchPlan, snap: Snapshot, tree: Tree | None) -> list[Check]:
    """The target modules present, and the functions other patches already change."""
    checks: list[Check] = []
    for obj in plan.objects:
        if obj.name == "vmlinux":
            continue
        loaded = tree is not None and module_loaded(tree, obj.name)
        checks.append(
            Check("ok", f"target module {obj.name} is loaded")
            if loaded
            else Check("warn", f"target module {obj.name} is not loaded: it is patched when it loads")
        )
    for obj in plan.objects:
        for fn in obj.functions:
            owners = [
                p.name
                for p in snap.patches
                for o in p.objects
                if o.name == obj.name
                and any(f.name == fn.name and f.sympos == fn.sympos for f in o.functions)
            ]
            if owners:
                how = "replaces them (cumulative)" if plan.replace else "stacks on top of them"
                owners_text = ", ".join(owners)
                checks.append(
                    Check("warn", f"{obj.name}:{fn.name} is already changed by {owners_text}: {how}")
                )
    if plan.replace and snap.patches:
        names = ", ".join(p.name for p in snap.patches)
        unless = " unless built as a non-replace patch" if plan.replace_by_default else ""
        checks.append(Check("warn", f"cumulative patch: replaces every loaded patch ({names}){unless}"))
    return checks


def _states_check(plan: PatchPlan, snap: Snapshot, tree: Tree | None, life: LifeCycle | None) -> list[Check]:
    """klp_is_patch_compatible() (kernel/livepatch/state.c): every system state an installed patch
    carries must be carried by the new patch at the same or a higher version; a non-cumulative patch
    may leave a state out. sysfs does not show the installed patches' states: they are read from the
    files the patches came from (provenance), or lptui says it cannot tell."""
    declared = ", ".join(f"id {st.id} version {st.version}" for st in plan.states or ())
    if not snap.patches:
        return (
            [Check("ok", f"system states ({declared}): no patch is installed to conflict")]
            if declared
            else []
        )
    if not plan.replace and not plan.states:
        return []
    installed, unreadable = _installed_states(snap, tree, life)
    if not unreadable and plan.states is not None:
        refusal = _incompatible(plan, installed)
        if refusal and plan.replace_by_default:  # the refusal rests on replace, which the file hides
            why = "the kernel refuses it (EINVAL) if it was built cumulative, the builder's default"
            return [Check("unknown", f"{refusal}: {why}")]
        if refusal:
            text = f"{refusal}: the kernel refuses it (EINVAL"
            return [Check("error", f"{text}, not compatible with the already installed livepatches)")]
        return [Check("ok", "system states: compatible with those of the installed patches (their files)")]
    why = "it is cumulative" if plan.replace else f"it declares system states ({declared})"
    if plan.replace and declared:
        why += f" and declares system states ({declared})"
    missing = ", ".join(unreadable) or "the new patch's"
    return [
        Check(
            "unknown",
            f"{why}: the kernel refuses it (EINVAL) if an installed patch carries a system state it does "
            f"not carry at the same or a higher version; lptui cannot read the states of {missing}",
        )
    ]


def _incompatible(plan: PatchPlan, installed: dict[str, tuple[PlannedState, ...]]) -> str | None:
    mine = {st.id: st.version for st in plan.states or ()}
    for patch, states in installed.items():
        for st in states:
            if st.id not in mine and plan.replace:
                return f"{patch} carries system state {st.id} (version {st.version}); this cumulative one not"
            if st.id in mine and mine[st.id] < st.version:
                return (
                    f"{patch} carries system state {st.id} at version {st.version}, this patch {mine[st.id]}"
                )
    return None


def _installed_states(
    snap: Snapshot, tree: Tree | None, life: LifeCycle | None
) -> tuple[dict[str, tuple[PlannedState, ...]], list[str]]:
    """Each loaded patch's declared states, from the file provenance finds; the patches it cannot read.
    `life`: the life cycle the caller already holds (the console's View); read again only when it
    does not cover every patch loaded now."""
    if tree is None:
        return {}, [p.name for p in snap.patches]
    if life is None or any(p.name not in life.provenance for p in snap.patches):
        from lptui.core.lifecycle.provenance import read_life_cycle

        life = read_life_cycle(tree, snap)
    states: dict[str, tuple[PlannedState, ...]] = {}
    unreadable: list[str] = []
    for patch in snap.patches:
        prov = life.provenance.get(patch.name)
        plan = None
        if prov is not None and prov.file is not None:
            try:
                plan = plan_patch(open_module(str(Path(tree.root) / prov.file.path.lstrip("/"))))
            except ModuleFileError:
                plan = None
        if plan is None or plan.states is None:
            unreadable.append(patch.name)
        else:
            states[patch.name] = plan.states
    return states, unreadable


def other_system_module(mod: ModuleFile) -> str | None:
    """A patch module of an older system: its own tool loads it (lptui loads livepatch modules only)."""
    depends = (mod.info("depends") or "").split(",")
    if "kpatch" in depends:  # kpatch-build's core-module patches link against kpatch.ko
        return "a kpatch core patch module (it depends on kpatch.ko): load it with `kpatch load`"
    if (mod.name or "").startswith("ksplice"):
        return "a Ksplice update module: apply it with ksplice-apply (or uptrack-install)"
    return None


def core_side(snap: Snapshot) -> Snapshot:
    """What a livepatch module meets: the upstream core's patches and transition only (a cumulative patch
    replaces the core's patches, never kGraft's, the kpatch core's or Ksplice's)."""
    if all(p.mechanism is Mechanism.LIVEPATCH for p in snap.patches) and (
        snap.transition is None or snap.transition.mechanism is Mechanism.LIVEPATCH
    ):
        return snap
    core_moving = snap.transition is not None and snap.transition.mechanism is Mechanism.LIVEPATCH
    return replace(
        snap,
        patches=tuple(p for p in snap.patches if p.mechanism is Mechanism.LIVEPATCH),
        transition=snap.transition if core_moving else None,
        pending_tasks=snap.pending_tasks if core_moving else (),
    )


def inspect_file(
    path: str,
    snap: Snapshot | None,
    tree: Tree | None = None,
    forced: tuple[ForceEvidence, ...] = (),
    life: LifeCycle | None = None,
) -> Inspection:
    """Raises ModuleFileError for files that cannot be a module at all. `forced`: evidence of a
    transition forced this boot (it adds a warning: the kernel's documentation asks for a reboot).
    `life`: the patches' life cycle if the caller holds it (their files carry their system states)."""
    mod = open_module(path)
    machine = snap.kernel.machine if snap is not None else None
    if machine and mod.machine != machine:  # not for this machine at all: as malformed as a 32-bit ELF
        raise ModuleFileError(f"{path}: built for {mod.machine}, but this machine is {machine}")
    plan = (
        plan_patch(mod)
        if mod.is_livepatch
        else PatchPlan(PlanSource.UNKNOWN, notes=("not a livepatch module",))
    )
    core = core_side(snap) if snap is not None else None
    checks = _verdict(mod, plan, core, tree, snap, life)
    preview = replace_preview(plan, core) if core is not None else None
    if forced:
        names = ", ".join(sorted({e.patch for e in forced if e.patch})) or "a patch"
        checks.append(Check("warn", f"{FORCED_ADVICE} (forced: {names})"))
    return Inspection(path, mod, plan, tuple(checks), preview)


def inspection_json(ins: Inspection) -> dict[str, Any]:
    mod = ins.module
    return {
        "path": ins.path,
        "modinfo": {k: mod.info(k) for k in MODINFO_KEYS},
        "signed": mod.signed,
        "signature_bytes": mod.signature_len,
        "compressed": mod.compressed,
        "machine": mod.machine,
        "livepatch": mod.is_livepatch,
        "patches": {
            "source": ins.plan.source,
            "replace": ins.plan.replace,
            "replace_by_default": ins.plan.replace_by_default,
            "states": None
            if ins.plan.states is None
            else [{"id": st.id, "version": st.version} for st in ins.plan.states],
            "objects": [
                {
                    "name": o.name,
                    "functions": [
                        {"name": f.name, "sympos": f.sympos, "new_func": f.new_func} for f in o.functions
                    ],
                    "callbacks": dict(o.callbacks),
                }
                for o in ins.plan.objects
            ],
            "notes": list(ins.plan.notes),
        },
        "checks": [{"level": c.level, "text": c.text} for c in ins.checks],
        "replace_preview": None
        if ins.preview is None
        else {
            "repatched": list(ins.preview.repatched),
            "reverted": [{"function": f, "from": p} for f, p in ins.preview.reverted],
            "new": list(ins.preview.new),
        },
        "loadable": ins.loadable,
        "certain": ins.certain,
        "verdict": ins.verdict,
    }
