"""Whether an enabled patch is in effect: sysfs's `enabled 1` says the patch is registered; the new code
runs only through the livepatch's ftrace handler on each patched function (klp_patch_func() in
kernel/livepatch/patch.c registers klp_ftrace_handler with FTRACE_OPS_FL_IPMODIFY). ftrace's own table,
tracefs `enabled_functions` (t_show() in kernel/trace/ftrace.c, parsed in ftrace.py), says who is on
each function. Checked for every function of an enabled livepatch whose transition has finished and
whose object is loaded:

- no record, or a record that is not IPMODIFY and names no klp_ftrace_handler: "enabled, but not in
  effect on FUNC". With one user the record names its handler ("tramp: … (klp_ftrace_handler…)"); with
  several it names none, and the I flag is the livepatch's (ftrace admits one IPMODIFY user a function,
  and the livepatch's registration succeeded);
- a function a BPF program may override (error_injection/list, or security_* for fmod_ret:
  check_attach_modify_return() in kernel/bpf/verifier.c) with a kprobe or a BPF trampoline on it:
  "may be overridden by …" (bpf_override_return and fmod_ret return before the patched code runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lptui.core.livepatch.ftrace import FtraceRecord, FtraceTables
from lptui.core.model import Mechanism, Snapshot
from lptui.core.tree import Tree

NOT_IN_EFFECT = "not_in_effect"
OVERRIDABLE = "overridable"


@dataclass(frozen=True, slots=True)
class EffectFinding:
    """One function of an enabled patch whose new code may not run."""

    patch: str
    object: str  # "vmlinux" or a module
    function: str
    kind: str  # NOT_IN_EFFECT or OVERRIDABLE
    text: str  # the sentence lptui says, naming the function and the other user


@dataclass(frozen=True, slots=True)
class Effect:
    """The in-effect check of every settled livepatch. `why` (then nothing was checked): ftrace's
    table is unreadable (not root, tracefs not mounted), so lptui cannot tell."""

    checked: tuple[str, ...]  # the patches checked
    findings: tuple[EffectFinding, ...] = ()
    why: str | None = None

    def of(self, patch: str) -> tuple[EffectFinding, ...]:
        return tuple(f for f in self.findings if f.patch == patch)

    def in_effect(self, patch: str) -> bool | None:
        """False: a function of it is not in effect; None: not checked (transition, unreadable)."""
        if patch not in self.checked:
            return None
        return not any(f.kind == NOT_IN_EFFECT for f in self.of(patch))


def _handler_there(rec: FtraceRecord | None) -> bool:
    """The livepatch's handler named, or the I flag with no single owner named: with one user t_show
    names its handler ("tramp: ADDR (HANDLER…)"), and one that is not klp_ftrace_handler owns it."""
    if rec is None or rec.livepatch:
        return rec is not None
    return "I" in rec.flags and re.search(r"tramp: \S+ \(", rec.owner) is None


def _owner(rec: FtraceRecord | None) -> str:
    if rec is None:
        return "ftrace has no handler on it (enabled_functions has no record)"
    flags = " ".join(sorted(rec.flags)) or "no flags"
    return f"ftrace's record ({flags}; {rec.owner or 'no handler named'}) is not the livepatch's"


def _overriders(rec: FtraceRecord | None, probes: list[str]) -> list[str]:
    found = [f"a {p}" for p in probes]
    if rec is not None and rec.direct:
        found.append(f"a BPF trampoline ({rec.direct})")
    return found


def settled(snap: Snapshot) -> list[str]:
    """The enabled livepatches whose transition has finished: the ones the check applies to."""
    moving = snap.transition.patch if snap.transition is not None else None
    return [
        p.name
        for p in snap.patches
        if p.mechanism == Mechanism.LIVEPATCH and p.enabled and not p.transition and p.name != moving
    ]


def check_effect(snap: Snapshot, tables: FtraceTables) -> Effect:
    names = settled(snap)
    if not names:
        return Effect(())
    if tables.enabled is None:
        return Effect((), why=f"cannot tell whether the patches are in effect ({tables.why})")
    found: list[EffectFinding] = []
    for p in snap.patches:
        if p.name not in names:
            continue
        for obj in p.objects:
            if not obj.loaded or obj.patched is False:
                continue  # patched when its module loads: nothing of it runs yet
            for fn in obj.functions:
                key = (None if obj.name == "vmlinux" else obj.name, fn.name)
                where = fn.name if obj.name == "vmlinux" else f"{obj.name}:{fn.name}"
                rec = tables.enabled.get(key)
                if not _handler_there(rec):
                    text = f"{p.name} is enabled, but not in effect on {where}: {_owner(rec)}"
                    found.append(EffectFinding(p.name, obj.name, fn.name, NOT_IN_EFFECT, text))
                    continue
                injectable = tables.error_injection is not None and key in tables.error_injection
                if not (injectable or fn.name.startswith("security_")):
                    continue
                others = _overriders(rec, (tables.kprobes or {}).get(key, []))
                if others:
                    text = f"{p.name} on {where} may be overridden by {', '.join(others)}: a BPF program may "
                    text += "return before the patched code runs (the function is error-injectable)"
                    found.append(EffectFinding(p.name, obj.name, fn.name, OVERRIDABLE, text))
    return Effect(tuple(names), tuple(found))


def read_effect(snap: Snapshot, tree: Tree) -> Effect:
    """Read ftrace's tables (only when a settled livepatch is there to check) and check them."""
    if not settled(snap):
        return Effect(())
    from lptui.core.livepatch.ftrace import read_tables

    names = set(settled(snap))
    wanted = frozenset(
        f.name for p in snap.patches if p.name in names for o in p.objects for f in o.functions
    )
    return check_effect(snap, read_tables(tree, wanted))


def effect_key(snap: Snapshot) -> tuple[object, ...]:
    """What the in-effect answer depends on in sysfs: a poll re-reads ftrace's table only when this
    changes (a load, an unload, a transition's end, a target module coming) or at the slow re-check."""
    return tuple(
        (p.name, p.enabled, p.transition, tuple((o.name, o.loaded, o.patched) for o in p.objects))
        for p in snap.patches
    )


class EffectCache:
    """The poller's in-effect answer: ftrace's table re-read when `effect_key` changes, or every
    `every` seconds while no transition runs; `reads` counts the reads (the benchmark states it)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.reads = 0
        self._key: tuple[object, ...] | None = None
        self._at = float("-inf")
        self._last: Effect | None = None

    def get(self, snap: Snapshot, tree: Tree, now: float) -> Effect:
        key = effect_key(snap)
        stale = now - self._at >= self.every and snap.transition is None
        if self._last is None or key != self._key or stale:
            self._key, self._at = key, now
            self._last = read_effect(snap, tree)
            self.reads += 1
        return self._last
