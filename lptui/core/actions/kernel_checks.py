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

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Literal

    from lptui.core.livepatch.ftrace import FtraceRecord

    Level = Literal["ok", "warn", "error", "unknown"]  # "unknown": lptui cannot tell


@dataclass(frozen=True)
class Check:
    level: Level
    text: str
    key: str = ""  # "version": the vermagic and CRC check, whose "unknown" `inspect` exits 6 on


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
        checks.append(
            Check(
                "ok",
                f"every target function found once where it is looked for ({len(targets)} in /proc/kallsyms)",
            )
        )
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
        return [
            Check(
                "unknown",
                "cannot check that ftrace can patch the targets: available_filter_functions "
                "is not readable (tracefs not mounted, or not root)",
            )
        ]
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
        return [
            Check("warn" if signed else "unknown", "cannot read the signature policy (sig_enforce, lockdown)")
        ]
    if not (enforced or locked):
        if signed:
            return [Check("ok", "signed; this kernel does not enforce module signatures")]
        return [
            Check("warn", "unsigned: this kernel does not enforce signatures, it loads it and taints (E)")
        ]
    if not signed:
        return [
            Check(
                "error",
                f"unsigned, and this kernel requires signed modules ({why}): it refuses it (EKEYREJECTED)",
            )
        ]
    return [
        Check(
            "unknown",
            f"signed, and signatures are enforced ({why}): the kernel accepts it only if "
            "the key is in its keyrings, which lptui cannot check",
        )
    ]


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


EBUSY = "the kernel refuses the patch (EBUSY, failed to register ftrace handler)"


def _user_check(
    where: str, rec: FtraceRecord | None, probes: list[str], injected: bool, livepatched: bool
) -> Check | None:
    """One target's other ftrace users: refused, co-users, or nothing to say."""
    if injected:
        return Check("error", f"{where} has a fail_function injection (an IPMODIFY ftrace user): {EBUSY}")
    if rec is not None and "I" in rec.flags and not livepatched and not rec.livepatch:
        other = f"a kprobe with a post_handler ({', '.join(probes)})" if probes else "another IPMODIFY user"
        return Check("error", f"{where} is owned by {other} ({rec.owner or 'enabled_functions: I'}): {EBUSY}")
    if (rec is None or (rec.livepatch and not rec.direct)) and not probes:
        return None  # nobody, or only a livepatch: the overlap check says what stacking on it means
    users = list(probes)
    if rec is not None and rec.direct:
        users.append(f"a BPF trampoline ({rec.direct})")
    if rec is not None and not users:
        users.append(f"{rec.users} ftrace user(s)")
    return Check("ok", f"{where} also traced by {', '.join(users)}: they do not block the load")


def ftrace_user_checks(plan: PatchPlan, tree: Tree, snap: Snapshot) -> list[Check]:
    """Ftrace's other users of each target (lptui.core.livepatch.ftrace.py): another IPMODIFY user
    refuses the load (-EBUSY); other users are co-users; a function a BPF program could override is a
    warning. An unreadable table is "cannot tell", never a tick."""
    from lptui.core.livepatch.ftrace import read_tables

    targets = _targets(plan, tree)
    if not targets:
        return []
    t = read_tables(tree, frozenset(name for _, name, _ in targets))
    patched = {(o.name, f.name) for p in snap.patches for o in p.objects for f in o.functions}
    checks: list[Check] = []
    for obj, name, _ in targets:
        key = (None if obj == "vmlinux" else obj, name)
        where = name if obj == "vmlinux" else f"{obj}:{name}"
        rec = t.enabled.get(key) if t.enabled is not None else None
        probes = t.kprobes.get(key, []) if t.kprobes is not None else []
        injected = t.fail_function is not None and key in t.fail_function
        found = _user_check(where, rec, probes, injected, (obj, name) in patched)
        if found is not None:
            checks.append(found)
        if t.error_injection is not None and (key in t.error_injection or name.startswith("security_")):
            how = "error-injectable or security_*" if name.startswith("security_") else "error-injectable"
            text = f"{where} can be overridden by a BPF program ({how}): the patched code may not run while "
            checks.append(Check("warn", text + "one is attached"))
    if t.enabled is None or t.kprobes is None or t.fail_function is None:
        checks.append(
            Check("unknown", f"cannot tell whether another ftrace user holds the targets ({t.why})")
        )
    elif not checks:
        checks.append(
            Check("ok", "no other ftrace user on the targets (enabled_functions, kprobes, fail_function)")
        )
    return checks
