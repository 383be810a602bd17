"""Each host's record from one round's reduced answers, with what is wrong with its series: a time, an age
or a count that is not a finite number is that host's "bad value" (never an exception, never an "ok"),
and a host that another target or job may be speaking for is `suspect` (flagged, never merged)."""

from __future__ import annotations

import math
from typing import Any

from lptui.fleet.queries import FAMILIES, LIMITS, MAX_LABEL, MAX_SERIES
from lptui.fleet.records import Fleet, Host, HostPatch, HostTransition, worst_first
from lptui.fleet.reduce import count, cut

_NONE: dict[str, Any] = {}  # a host without a family's series (read only, never written)


def build(
    reduced: dict[str, dict[str, Any]],
    *,
    at: float,
    host_label: str,
    job: str,
    stale: float,
    checks: dict[str, Any] | None = None,
) -> Fleet:
    names: set[str] = set()
    for family in FAMILIES:
        names.update(reduced.get(family, ()))
    per_host = {family: reduced.get(family, {}) for family in FAMILIES}
    hosts = [_host(name, per_host, at, stale, checks or {}) for name in names]
    return Fleet(at, tuple(sorted(hosts, key=worst_first)), host_label, job)


def _finite(
    value: float | None, what: str, problems: list[str], *, negative_ok: bool = False
) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or (value < 0 and not negative_ok):
        problems.append(f"its {what} is {value!r} (bad value)")
        return None
    return value


def _counted(value: float | None, what: str, problems: list[str]) -> int | None:
    finite = _finite(value, what, problems)
    return count(finite)


def _patches(name: str, f: dict[str, dict[str, Any]], has_life: bool) -> tuple[HostPatch, ...]:
    infos = f["patch_info"].get(name)
    if not infos:
        return ()
    enabled = f["patch_enabled"].get(name, _NONE)
    moving = f["patch_in_transition"].get(name, _NONE)
    known = f["patch_provenance_known"].get(name, _NONE) if has_life else _NONE
    lost = f["patch_lost_at_reboot"].get(name, _NONE)
    fixes = f["patch_fixes"].get(name, _NONE)
    effect = f["patch_in_effect"].get(name, _NONE)
    replace = f["patch_replace"].get(name, _NONE)
    health = f["patch_post_load_problems"].get(name, _NONE)
    return tuple(
        HostPatch(
            p,
            cut(labels.get("mechanism", "")),
            cut(labels.get("version", "")),
            cut(labels.get("srcversion", "")),
            enabled.get(p),
            moving.get(p),
            tuple(sorted(fixes[p])) if p in fixes else (),
            known.get(p),
            lost.get(p),
            effect.get(p),
            tuple(sorted(health.get(p, ()))),
            replace.get(p),
        )
        for p, labels in sorted(infos.items())
    )


def _transition(name: str, f: dict[str, dict[str, Any]], problems: list[str]) -> HostTransition | None:
    found = f["transition_info"].get(name)
    if found is None:
        return None
    info = found[0]
    return HostTransition(
        info.get("patch", ""),
        info.get("direction", ""),
        info.get("mechanism", ""),
        _finite(f["transition_age_seconds"].get(name), "transition age", problems),
        info.get("age_source", ""),
        _counted(f["transition_tasks_pending"].get(name), "pending thread count", problems),
        _counted(f["transition_tasks"].get(name), "thread count", problems),
        _counted(f["transition_tasks_unreadable"].get(name), "unreadable thread count", problems),
        f["transition_aborted"].get(name, (_NONE, 0))[0].get("cause"),
    )


def _claims(name: str, f: dict[str, dict[str, Any]], checks: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(suspect, problems): whose series these may be, and what was read of them only in part."""
    suspect, partial = [], []
    series, scraped = checks.get("series", {}).get(name), checks.get("scraped", {}).get(name)
    jobs, exported = checks.get("jobs", {}).get(name), checks.get("exported", {}).get(name)
    if series is not None and scraped is None:
        suspect.append("no target Prometheus scrapes has its name: another target publishes as it")
    elif series is not None and scraped is not None and series > scraped:
        suspect.append(
            f"{series:.0f} lptui series carry its name but its own scrape returned {scraped:.0f}: another "
            "target publishes as it (honor_labels?)"
        )
    if jobs is not None and jobs > 1:
        suspect.append(f"{jobs:.0f} jobs claim it: their series would mix")
    if exported:
        suspect.append(f"its series name another {', '.join(sorted(exported))[:200]} (exported_instance)")
    for family in ("kernel_info", "transition_info"):
        if f[family].get(name, (None, 0))[1] > 1:
            suspect.append(f"it exports several {family} series")
    if series is not None and series > MAX_SERIES:
        suspect.append(f"it exports {series:.0f} lptui series (over {MAX_SERIES:,}): read in part")
    if (long := checks.get("long_labels", {}).get(name)) is not None:
        partial.append(f"{long:.0f} of its series have a label over {MAX_LABEL} characters (cut)")
    limited = [fam for fam, (kind, _) in FAMILIES.items() if _many(f[fam].get(name), kind)]
    if limited:
        partial.append(f"more series than lptui reads a host in {', '.join(limited)}")
    return suspect, partial


def _many(found: object, kind: str) -> bool:
    return (
        kind in ("patches", "per_patch", "reasons") and isinstance(found, dict) and len(found) >= LIMITS[kind]
    )


def _host(name: str, f: dict[str, dict[str, Any]], at: float, stale: float, checks: dict[str, Any]) -> Host:
    problems: list[str] = []
    up = f["up"].get(name)
    poll = _finite(f["last_poll_timestamp_seconds"].get(name), "last poll time", problems)
    poll_age = max(at - poll, 0.0) if poll is not None else None
    kernel = f["kernel_info"].get(name, (_NONE, 0))[0]
    service = f["kpatch_service"].get(name, False)
    has_life = service is not False
    blocked = f["blocked_tasks"].get(name)
    waiting = f["patch_installed_fixes"].get(name, _NONE)
    transition = _transition(name, f, problems)
    suspect, partial = _claims(name, f, checks)
    forced = _finite(f["forced_this_boot"].get(name), "forced flag", problems)
    return Host(
        name=name,
        up=None if up is None else up == 1,
        poll_age=poll_age,
        stale=poll_age is None or poll_age > stale,
        release=kernel.get("release"),
        machine=kernel.get("machine"),
        patches=_patches(name, f, has_life),
        transition=transition,
        blockers=tuple(sorted(blocked.items(), key=lambda kv: (-kv[1], kv[0]))) if blocked else (),
        forced=None if forced is None else forced == 1,
        inactive_modules=_counted(f["inactive_modules"].get(name), "inactive module count", problems),
        installed_not_loaded=tuple(sorted(f["patch_installed_not_loaded"].get(name, ()))),
        installed_fixes=tuple(sorted((p, c) for p, cves in waiting.items() for c in cves)),
        kpatch_service=service or None,
        has_life_cycle=has_life,
        problems=tuple(suspect + problems + partial),
        suspect=bool(suspect),
    )
