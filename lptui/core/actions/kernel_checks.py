"""Pre-flight checks against the running kernel's own tables: does every target function exist and
resolve to one symbol, can ftrace patch it, will the module's signature be accepted, and what a
cumulative patch does to what is patched now. Each returns `Check`s for `inspect` and `load`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lptui.core.declared import PatchPlan
from lptui.core.livepatch.patches import module_loaded
from lptui.core.model import Snapshot
from lptui.core.tree import Tree

TRACEFS = ("sys/kernel/tracing", "sys/kernel/debug/tracing")  # tracefs, or through debugfs (before 4.1)


@dataclass(frozen=True)
class Check:
    level: str  # "ok", "warn", "error", or "unknown" (lptui cannot tell)
    text: str


def _targets(plan: PatchPlan, tree: Tree) -> list[tuple[str, str, int]]:
    """(object, function, sympos as declared) for the objects present now: vmlinux and loaded modules
    (a module that is not loaded is resolved by the kernel when it loads: klp_module_coming)."""
    return [
        (obj.name, fn.name, fn.wanted_sympos)
        for obj in plan.objects
        if obj.name == "vmlinux" or module_loaded(tree, obj.name)
        for fn in obj.functions
    ]


def symbol_checks(plan: PatchPlan, tree: Tree) -> list[Check]:
    """klp_find_object_symbol() (kernel/livepatch/core.c) counts the symbols of that name in the object:
    none is "symbol '%s' not found in symbol table"; several with sympos 0 is "unresolvable ambiguity";
    fewer than a nonzero sympos is "symbol position %lu ... not found". Each fails the load with EINVAL."""
    targets = _targets(plan, tree)
    if not targets:
        return []
    read = tree.read_whole("proc/kallsyms")
    if not read.ok or not read.text:
        return [
            Check("unknown", f"cannot check the target functions: /proc/kallsyms {read.error or 'is empty'}")
        ]
    wanted = {name for _, name, _ in targets}
    counts: Counter[tuple[str, str]] = Counter()
    for line in read.text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] in wanted:
            owner = parts[3].strip("[]") if len(parts) > 3 else "vmlinux"
            counts[(owner, parts[2])] += 1
    checks: list[Check] = []
    for obj, name, sympos in targets:
        n = counts[(obj, name)]
        where = f"{obj}:{name}"
        if n == 0:
            text = f"{where} is not in the running kernel (/proc/kallsyms)"
            checks.append(
                Check("error", f'{text}: the kernel refuses the patch (EINVAL, "not found in symbol table")')
            )
        elif sympos == 0 and n > 1:
            text = f"{where} names {n} symbols and the patch gives no position (sympos 0)"
            checks.append(Check("error", f'{text}: the kernel refuses it (EINVAL, "unresolvable ambiguity")'))
        elif sympos > n:
            text = f"{where} asks for symbol position {sympos}, the kernel has {n}"
            checks.append(Check("error", f"{text}: it refuses the patch (EINVAL)"))
    if not checks:
        checks.append(Check("ok", f"every target function found once where it is looked for ({len(targets)} "
                                  "in /proc/kallsyms)"))  # fmt: skip
    return checks


def _tracefs_dirs(tree: Tree) -> list[str]:
    """Where tracefs is mounted (/proc/mounts), then its usual places."""
    found = []
    for line in (tree.read("proc/mounts").text or "").splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[2] == "tracefs":
            found.append(parts[1].lstrip("/"))
        elif len(parts) > 2 and parts[2] == "debugfs":
            found.append(parts[1].lstrip("/") + "/tracing")
    return list(dict.fromkeys([*found, *TRACEFS]))


def trace_checks(plan: PatchPlan, tree: Tree) -> list[Check]:
    """klp_patch_func() registers an ftrace handler on each target: a function ftrace cannot trace
    (notrace, inlined, not in available_filter_functions) fails the load."""
    targets = _targets(plan, tree)
    if not targets:
        return []
    for base in _tracefs_dirs(tree):
        read = tree.read_whole(f"{base}/available_filter_functions")
        if read.ok and read.text:
            break
    else:
        return [Check("unknown", "cannot check that ftrace can patch the targets: available_filter_functions "
                                 "is not readable (tracefs not mounted, or not root)")]  # fmt: skip
    traceable: set[tuple[str, str]] = set()
    for line in read.text.splitlines():
        parts = line.split()
        if parts:
            traceable.add((parts[1].strip("[]") if len(parts) > 1 else "vmlinux", parts[0]))
    missing = [f"{obj}:{name}" for obj, name, _ in targets if (obj, name) not in traceable]
    if missing:
        text = f"ftrace cannot patch {', '.join(missing)} (not in available_filter_functions)"
        return [Check("error", f"{text}: the kernel refuses the patch")]
    return [Check("ok", "ftrace can patch every target (available_filter_functions)")]


def signature_checks(signed: bool, tree: Tree) -> list[Check]:
    """module_sig_check() (kernel/module/signing.c): an unsigned module is refused when signatures are
    enforced (module.sig_enforce) or the kernel is locked down; otherwise it loads and taints (E)."""
    enforce = tree.read("sys/module/module/parameters/sig_enforce")
    lockdown = tree.read("sys/kernel/security/lockdown")  # "none [integrity] confidentiality"
    mode = None
    if lockdown.ok and lockdown.text and "[" in lockdown.text:
        mode = lockdown.text.split("[", 1)[1].split("]", 1)[0]
    enforced = enforce.ok and (enforce.text or "").strip() == "Y"
    locked = mode not in (None, "none")
    why = " and ".join(
        w for w, on in (("module.sig_enforce=Y", enforced), (f"lockdown={mode}", locked)) if on
    )
    if not enforce.ok and mode is None:
        return [Check("warn" if signed else "unknown",
                      "cannot read the signature policy (sig_enforce, lockdown)")]  # fmt: skip
    if not (enforced or locked):
        if signed:
            return [Check("ok", "signed; this kernel does not enforce module signatures")]
        return [
            Check("warn", "unsigned: this kernel does not enforce signatures, it loads it and taints (E)")
        ]
    if not signed:
        return [Check("error", f"unsigned, and this kernel requires signed modules ({why}): it refuses it "
                               "(EKEYREJECTED)")]  # fmt: skip
    return [Check("unknown", f"signed, and signatures are enforced ({why}): the kernel accepts it only if "
                             "the key is in its keyrings, which lptui cannot check")]  # fmt: skip


@dataclass(frozen=True)
class ReplacePreview:
    """What a cumulative (replace) patch does to what is patched now (klp_add_nops and the replace in
    klp_init_patch): functions it patches again, functions that go back to the original code, new ones."""

    repatched: tuple[str, ...]
    reverted: tuple[tuple[str, str], ...]  # (object:function, the patch that changes it now)
    new: tuple[str, ...]


def replace_preview(plan: PatchPlan, snap: Snapshot) -> ReplacePreview | None:
    if not plan.replace:
        return None
    now: dict[str, str] = {}
    for patch in snap.patches:
        for obj in patch.objects:
            for fn in obj.functions:
                now[f"{obj.name}:{fn.name}"] = patch.name  # the newest patch wins (the func stack top)
    planned = [f"{obj.name}:{fn.name}" for obj in plan.objects for fn in obj.functions]
    return ReplacePreview(
        repatched=tuple(f for f in planned if f in now),
        reverted=tuple(sorted((f, p) for f, p in now.items() if f not in planned)),
        new=tuple(f for f in planned if f not in now),
    )


def preview_lines(p: ReplacePreview | None) -> list[str]:
    """A cumulative patch's effect in plain lines, for `inspect` and the console's load dialog."""
    if p is None:
        return []
    out = ["This cumulative patch replaces every loaded patch:"]
    out += [f"  patched again:             {f}" for f in p.repatched]
    out += [f"  back to the original code: {f} (now changed by {by})" for f, by in p.reverted]
    out += [f"  newly patched:             {f}" for f in p.new]
    if len(out) == 1:
        out.append("  nothing is patched now, and it patches no function")
    return out
