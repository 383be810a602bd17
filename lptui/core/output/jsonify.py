"""The `--json` contract: plain dicts from snapshot records (keys documented in README)."""

from __future__ import annotations

from enum import Enum

from lptui.core.model import (
    Features,
    KernelInfo,
    KernelVerdict,
    ModuleInfo,
    PatchInfo,
    Snapshot,
    SystemInfo,
    TaskInfo,
    TransitionInfo,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from lptui.core.lifecycle.provenance import Installed, LifeCycle, ModuleFacts, Provenance
    from lptui.core.oncall.facts import OnCall
    from lptui.core.oncall.history import TransitionAge

SCHEMA_VERSION = 3  # 2: the live-patching systems (`systems`, each patch's `mechanism`, ...);
# 3: each task's `verdict` (the kernel's own), `own_reason_code` and `cpu`, and `verdicts_seen`


def pick(record: object, keys: str, **values: Any) -> dict[str, Any]:
    """The record's fields named in `keys`, in that order (the key order is part of the contract), as
    JSON has them: an enum as its string, a tuple as a list; `values` gives a key's value where it is
    not the field itself."""
    out: dict[str, Any] = {}
    for key in keys.split():
        value = values[key] if key in values else getattr(record, key)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Enum):
            value = str(value)
        out[key] = value
    return out


def kernel_json(k: KernelInfo) -> dict[str, Any]:
    return pick(
        k,
        "release version machine livepatch_supported tainted taint_flags taint_meanings "
        "ftrace_enabled possible_cpus problems",
        taint_flags=[f.letter for f in k.taint_flags],
        taint_meanings={f.letter: f.meaning for f in k.taint_flags},
    )


def features_json(f: Features) -> dict[str, Any]:
    return pick(f, "transition force signal replace stack_order object_patched probed_from")


def transition_json(t: TransitionInfo | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return pick(t, "patch direction target tasks_total tasks_pending tasks_unknown mechanism aborted")


def system_json(s: SystemInfo) -> dict[str, Any]:
    return pick(s, "mechanism where detail problems")


def module_json(m: ModuleInfo) -> dict[str, Any]:
    return pick(m, "name loaded refcnt taint srcversion version problems")


def patch_json(p: PatchInfo) -> dict[str, Any]:
    return {
        "name": p.name,
        "mechanism": str(p.mechanism),
        "stage": p.stage,
        "details": dict(p.details),
        "enabled": p.enabled,
        "transition": p.transition,
        "replace": p.replace,
        "stack_order": p.stack_order,
        "module": module_json(p.module),
        "objects": [
            {
                "name": o.name,
                "loaded": o.loaded,
                "patched": o.patched,
                "functions": [{"name": f.name, "sympos": f.sympos, "state": f.state} for f in o.functions],
            }
            for o in p.objects
        ],
        "problems": list(p.problems),
    }


_TASK_KEYS = (
    "pid tid comm state kthread patch_state pending stack blocking_functions reason_code reason problems "
    "verdict own_reason_code cpu"
)


def verdict_json(v: KernelVerdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return pick(v, "kind text function code usec comm", text=v.text())


def task_json(t: TaskInfo) -> dict[str, Any]:
    own = None if t.own_reason is None else t.own_reason.value
    return pick(t, _TASK_KEYS, verdict=verdict_json(t.verdict), own_reason_code=own)


def age_json(transition: dict[str, Any] | None, age: TransitionAge | None) -> dict[str, Any] | None:
    if transition is None or age is None:
        return transition
    return transition | {
        "started_at": age.started_iso(),
        "age_seconds": None if age.age_seconds is None else round(age.age_seconds, 1),
        "age_source": age.source,
    }


def forced_json(oncall: OnCall) -> dict[str, Any]:
    return {
        "forced": oncall.forced_this_boot,
        "evidence": [
            {
                "source": e.source,
                "patch": e.patch,
                "text": e.text,
                "log_seconds": None if e.usec is None else round(e.usec / 1e6, 3),
            }
            for e in oncall.forced
        ],
        "log_problem": oncall.log_problem,
    }


def facts_json(f: ModuleFacts) -> dict[str, Any]:
    return pick(f, "path name srcversion description version vermagic signed cves")


def provenance_json(p: Provenance) -> dict[str, Any] | None:
    if p.file is None:
        return None
    return {
        "file": facts_json(p.file),
        "matched_by": p.matched_by,
        "package": p.package,
        "package_cves": list(p.package_cves),
        "cves": list(p.cves),
        "package_note": p.why,
    }


def life_cycle_json(lc: LifeCycle) -> dict[str, Any]:
    def installed(i: Installed) -> dict[str, Any]:
        return {"release": i.release, "loaded": i.loaded} | facts_json(i.facts)

    return {
        "release": lc.release,
        "installed": [installed(i) for i in lc.installed],
        "installed_not_loaded": [i.facts.name for i in lc.installed if not i.loaded],
        "lost_at_reboot": list(lc.lost_at_reboot),
        "other_releases": [installed(i) for i in lc.other_releases],
        "boot_service": lc.boot_service,
        "problems": list(lc.problems),
    }


def effect_json(oncall: OnCall) -> dict[str, Any]:
    """In effect (ftrace's handler on each patched function) and post-load health, per patch."""
    effect = oncall.effect
    checked = None
    if effect is not None:
        findings = [pick(f, "patch object function kind text") for f in effect.findings]
        checked = {"checked": list(effect.checked), "cannot_tell": effect.why, "findings": findings}
    health = [pick(f, "patch grave text seconds_after why") for f in oncall.health]
    return {"in_effect": checked, "post_load_health": health}


def status_json(s: Snapshot, oncall: OnCall | None = None, life: LifeCycle | None = None) -> dict[str, Any]:
    extra = {} if oncall is None else {"forced_this_boot": forced_json(oncall), **effect_json(oncall)}
    if life is not None:
        extra["life_cycle"] = life_cycle_json(life)
    patches = [patch_json(p) for p in s.patches]
    if life is not None:
        for data in patches:
            found = life.provenance.get(data["name"])
            data["provenance"] = provenance_json(found) if found else None
            data["provenance_note"] = found.why if found is not None and found.file is None else None
    return {
        "schema": SCHEMA_VERSION,
        "kernel": kernel_json(s.kernel),
        "systems": [system_json(x) for x in s.systems],
        "features": features_json(s.features),
        "transition": age_json(transition_json(s.transition), oncall.age if oncall else None),
        "patches": patches,
        "inactive_modules": [m.name for m in s.inactive_modules],
        "inactive_module_details": [module_json(m) for m in s.inactive_modules],
        "threads_total": s.threads_total,
        "notes": list(s.notes),
    } | extra


def tasks_json(s: Snapshot, tasks: tuple[TaskInfo, ...], oncall: OnCall | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "transition": age_json(transition_json(s.transition), oncall.age if oncall else None),
        "tasks": [task_json(t) for t in tasks],
        "verdicts_seen": None if oncall is None else oncall.verdicts_seen,
        "notes": list(s.notes),
    }
