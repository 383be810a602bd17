"""The `--json` contract: plain dicts from snapshot records (keys documented in README)."""

from __future__ import annotations

from lptui.core.model import (
    Features,
    KernelInfo,
    ModuleInfo,
    PatchInfo,
    Snapshot,
    SystemInfo,
    TaskInfo,
    TransitionInfo,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms of every command's start)
if TYPE_CHECKING:
    from typing import Any

    from lptui.core.lifecycle.provenance import Installed, LifeCycle, ModuleFacts, Provenance
    from lptui.core.oncall.facts import OnCall
    from lptui.core.oncall.history import TransitionAge

SCHEMA_VERSION = 2  # 2: the live-patching systems (`systems`, each patch's `mechanism`, ...)


def kernel_json(k: KernelInfo) -> dict[str, Any]:
    return {
        "release": k.release,
        "version": k.version,
        "machine": k.machine,
        "livepatch_supported": k.livepatch_supported,
        "tainted": k.tainted,
        "taint_flags": [f.letter for f in k.taint_flags],
        "taint_meanings": {f.letter: f.meaning for f in k.taint_flags},
        "ftrace_enabled": k.ftrace_enabled,
        "possible_cpus": k.possible_cpus,
        "problems": list(k.problems),
    }


def features_json(f: Features) -> dict[str, Any]:
    return {
        "transition": f.transition,
        "force": f.force,
        "signal": f.signal,
        "replace": f.replace,
        "stack_order": f.stack_order,
        "object_patched": f.object_patched,
        "probed_from": f.probed_from,
    }


def transition_json(t: TransitionInfo | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "patch": t.patch,
        "direction": str(t.direction),
        "target": t.target,
        "tasks_total": t.tasks_total,
        "tasks_pending": t.tasks_pending,
        "tasks_unknown": t.tasks_unknown,
        "mechanism": str(t.mechanism),
        "aborted": t.aborted,
    }


def system_json(s: SystemInfo) -> dict[str, Any]:
    return {"mechanism": str(s.mechanism), "where": s.where, "detail": s.detail, "problems": list(s.problems)}


def module_json(m: ModuleInfo) -> dict[str, Any]:
    return {
        "name": m.name,
        "loaded": m.loaded,
        "refcnt": m.refcnt,
        "taint": m.taint,
        "srcversion": m.srcversion,
        "version": m.version,
        "problems": list(m.problems),
    }


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


def task_json(t: TaskInfo) -> dict[str, Any]:
    return {
        "pid": t.pid,
        "tid": t.tid,
        "comm": t.comm,
        "state": t.state,
        "kthread": t.kthread,
        "patch_state": t.patch_state,
        "pending": t.pending,
        "stack": list(t.stack) if t.stack is not None else None,
        "blocking_functions": list(t.blocking_functions),
        "reason_code": str(t.reason_code),
        "reason": t.reason,
        "problems": list(t.problems),
    }


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
            {"source": e.source, "patch": e.patch, "text": e.text,
             "log_seconds": None if e.usec is None else round(e.usec / 1e6, 3)}
            for e in oncall.forced
        ],
        "log_problem": oncall.log_problem,
    }  # fmt: skip


def facts_json(f: ModuleFacts) -> dict[str, Any]:
    return {"path": f.path, "name": f.name, "srcversion": f.srcversion, "description": f.description,
            "version": f.version, "vermagic": f.vermagic, "signed": f.signed,
            "cves": list(f.cves)}  # fmt: skip


def provenance_json(p: Provenance) -> dict[str, Any] | None:
    if p.file is None:
        return None
    return {"file": facts_json(p.file), "matched_by": p.matched_by, "package": p.package,
            "package_cves": list(p.package_cves), "cves": list(p.cves), "package_note": p.why}  # fmt: skip


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


def status_json(s: Snapshot, oncall: OnCall | None = None, life: LifeCycle | None = None) -> dict[str, Any]:
    extra = {} if oncall is None else {"forced_this_boot": forced_json(oncall)}
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
        "notes": list(s.notes),
    }
