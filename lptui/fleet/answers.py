"""The fleet's three questions, answered from one `Fleet`: which hosts are stuck (the hosts table), where
a patch has rolled out, who is still exposed to a CVE; and `fleet check`'s verdict. Plain records and
JSON; the console and the CLI render them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lptui.core.model import Direction
from lptui.core.oncall.verdict import CRITICAL, NAMES, OK, UNKNOWN, WARNING, HostFacts, code_of
from lptui.fleet.state import Fleet, Host, HostPatch

__all__ = ["CRITICAL", "NAMES", "OK", "UNKNOWN", "WARNING", "host_code", "judge"]


def host_facts(h: Host) -> HostFacts:
    """A host's facts from its series, for the rules its own `lptui check` applies (oncall/verdict.py)."""
    t = h.transition
    return HostFacts(
        forced=("",) if h.forced else None,
        gone=(f"{h.inactive_modules} module(s)",) if h.inactive_modules else (),
        moving=(t.patch, t.direction) if t is not None else None,
        age=t.age_seconds if t is not None else None,
        aborted=t.aborted if t is not None else None,
        pending=t.tasks_pending if t is not None else None,
        not_in_effect=tuple(p.name for p in h.patches if p.in_effect is False),
        warnings=tuple(p.name for p in h.patches if "warning" in p.health),
        oopses=tuple(p.name for p in h.patches if "oops" in p.health),
    )


def host_code(h: Host, *, warn: float, crit: float) -> int:
    """The host's own `check` code from its series; UNKNOWN when they cannot be believed (down, stale,
    suspect), as its check would be UNKNOWN if it could not read the kernel."""
    if not h.trusted:
        return UNKNOWN
    return code_of(host_facts(h), warn=warn, crit=crit)


@dataclass(frozen=True)
class Rollout:
    patch: str
    live: tuple[str, ...]
    in_transition: tuple[str, ...]
    oldest_transition: float | None  # seconds, the oldest host's
    disabled: tuple[str, ...]
    lacking: tuple[str, ...]  # reporting hosts of a kernel release that has the patch somewhere, without it
    hosts: int = 0  # M: the trusted hosts of the releases it is seen on ("N of M": N = live)
    removing: tuple[str, ...] = ()  # hosts where it is being unpatched: a removal, not a rollout


def rollouts(fleet: Fleet) -> tuple[Rollout, ...]:
    """Each patch over the hosts whose series can be believed (reporting, not suspect)."""
    seen: dict[str, list[tuple[Host, HostPatch]]] = {}
    for host in fleet.hosts:
        if not host.trusted:
            continue
        for p in host.patches:
            seen.setdefault(p.name, []).append((host, p))
    out = []
    for name in sorted(seen):
        rows = seen[name]
        live = tuple(sorted(h.name for h, p in rows if p.live))
        unpatching = {h.name for h, p in rows if p.in_transition and _unpatching(h, name)}
        moving = [h for h, p in rows if p.in_transition and h.name not in unpatching]
        disabled = tuple(sorted(h.name for h, p in rows if p.enabled is False and not p.in_transition))
        releases = {h.release for h, _ in rows}
        having = {h.name for h, _ in rows}
        cumulative = any(p.replace for _, p in rows)
        peers = [h for h in fleet.hosts if h.trusted and h.release in releases]
        # a host on a live cumulative patch has had every other patch replaced by it: it lacks nothing that
        # is not itself cumulative (which of two cumulative patches is newer, the series do not say)
        lacking = tuple(
            sorted(
                h.name
                for h in peers
                if h.name not in having and (cumulative or not any(p.live and p.replace for p in h.patches))
            )
        )
        ages = [
            h.transition.age_seconds for h in moving if h.transition and h.transition.age_seconds is not None
        ]
        moving_names = tuple(sorted(h.name for h in moving))
        oldest = max(ages, default=None)
        out.append(
            Rollout(
                name, live, moving_names, oldest, disabled, lacking, len(peers), tuple(sorted(unpatching))
            )
        )
    return tuple(out)


def _unpatching(h: Host, patch: str) -> bool:
    t = h.transition
    return t is not None and t.patch == patch and t.direction == Direction.UNPATCHING


class CveState(StrEnum):
    """A host's answer to "is it fixed?", the most urgent first (the CVE table's order)."""

    NOT_FIXED = "not fixed"
    IN_TRANSITION = "in transition"
    UNKNOWN = "unknown"
    FIXED = "fixed"


@dataclass(frozen=True)
class CveVerdict:
    host: str
    verdict: CveState
    patches: tuple[str, ...]  # the host's patches naming the CVE
    why: str


def cve_verdicts(fleet: Fleet, cve: str) -> tuple[CveVerdict, ...]:
    """One verdict per host. Fixed: a loaded, enabled patch whose transition is complete names it. Unknown:
    the host is down or stale, has not exported its life cycle, or a loaded patch's provenance cannot be
    read (that patch may fix it): never counted as fixed nor as exposed."""
    cve = cve.upper()
    fixed_on = {h.release for h in fleet.hosts if h.trusted for p in h.patches if cve in p.cves and p.live}
    out = []
    for h in fleet.hosts:
        naming = tuple(p.name for p in h.patches if cve in p.cves)
        if not h.reporting:
            out.append(CveVerdict(h.name, CveState.UNKNOWN, naming, f"exporter {h.state}"))
        elif h.suspect:  # another target may be speaking for it: "fixed" could be anyone's word
            out.append(CveVerdict(h.name, CveState.UNKNOWN, naming, f"suspect: {h.problems[0]}"))
        elif any(p.live for p in h.patches if cve in p.cves):
            out.append(CveVerdict(h.name, CveState.FIXED, naming, "live: " + ", ".join(naming)))
        elif any(p.in_transition for p in h.patches if cve in p.cves):
            out.append(
                CveVerdict(
                    h.name, CveState.IN_TRANSITION, naming, "patch in transition: " + ", ".join(naming)
                )
            )
        elif not h.has_life_cycle:
            out.append(
                CveVerdict(h.name, CveState.UNKNOWN, naming, "no life-cycle series (provenance not read yet)")
            )
        elif any(p.provenance_known is False for p in h.patches):
            unread = ", ".join(p.name for p in h.patches if p.provenance_known is False)
            out.append(CveVerdict(h.name, CveState.UNKNOWN, naming, f"provenance unreadable for {unread}"))
        else:
            hints = []
            waiting = sorted({patch for patch, c in h.installed_fixes if c == cve})
            if waiting:
                hints.append(f"installed but not loaded: {', '.join(waiting)}")
            if h.release in fixed_on:
                hints.append(f"live on other hosts of {h.release}")
            if naming:
                hints.append(f"disabled: {', '.join(naming)}")
            out.append(
                CveVerdict(h.name, CveState.NOT_FIXED, naming, "; ".join(hints) or "no patch names it")
            )
    return tuple(out)


VERDICT_ORDER = {state: i for i, state in enumerate(CveState)}


def exposed_first(verdicts: tuple[CveVerdict, ...]) -> tuple[CveVerdict, ...]:
    """The hosts still exposed first, then those in transition, those lptui cannot tell, the fixed ones
    (each group in the fleet's own order: worst first)."""
    return tuple(sorted(verdicts, key=lambda v: VERDICT_ORDER[v.verdict]))


@dataclass(frozen=True)
class FleetVerdict:
    code: int
    summary: str


def judge(fleet: Fleet, *, warn: float, crit: float) -> FleetVerdict:
    """CRITICAL: stuck past `crit`, forced this boot, or oopsed after a patch; WARNING: stuck past `warn`,
    in transition for a time that is not a number, not reporting, suspect, any other bad value, a patch
    not in effect, or a kernel WARNING after a patch (each as the host's own `check` says it). Never OK
    on a host whose series say something lptui cannot believe."""
    stuck = [h for h in fleet.hosts if h.reporting and h.transition is not None and not h.transition.aborted]
    aborted = [h for h in fleet.hosts if h.reporting and h.transition is not None and h.transition.aborted]
    gone = [h for h in fleet.hosts if h.reporting and h.inactive_modules]

    def age(h: Host) -> float:
        return (h.transition.age_seconds if h.transition else None) or 0.0

    over_crit = [h for h in stuck if age(h) >= crit]
    over_warn = [h for h in stuck if warn <= age(h) < crit]
    unknown_age = [h for h in stuck if h.transition and h.transition.age_seconds is None]
    forced = [h for h in fleet.hosts if h.reporting and h.forced]
    silent = [h for h in fleet.hosts if not h.reporting]
    oopsed = [h for h in fleet.hosts if h.reporting and any("oops" in p.health for p in h.patches)]
    unwell = [
        h
        for h in fleet.hosts
        if h.reporting and h not in oopsed and any(p.in_effect is False or p.health for p in h.patches)
    ]
    doubtful = [h for h in fleet.hosts if h.reporting and h.problems and h not in unknown_age]
    problems = []
    code = OK
    codes = [host_code(h, warn=warn, crit=crit) for h in fleet.hosts if h.trusted]
    if CRITICAL in codes:
        code = CRITICAL
    elif WARNING in codes or silent or unknown_age or doubtful:
        code = WARNING
    for label, group in (
        ("stuck", over_crit + over_warn),
        ("forced this boot", forced),
        ("with a patch module loaded and its patch gone", gone),
        ("with a Ksplice update aborted", aborted),
        ("oopsed after a patch went in", oopsed),
        ("with a patch not in effect or a kernel WARNING after it", unwell),
        ("in transition for an unknown time", unknown_age),
        ("not reporting", silent),
        ("with series lptui cannot believe", doubtful),
    ):
        if group:
            problems.append(
                f"{len(group)} {label} ({', '.join(h.name for h in group[:5])}"
                f"{', ...' if len(group) > 5 else ''})"
            )
    summary = "; ".join(problems) or f"{len(fleet.hosts)} hosts, none stuck"
    return FleetVerdict(code, summary)


def console_command(host: str) -> str:
    """The command that opens a host's own console: its address without the exporter's port."""
    address = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    return f"ssh {address.strip('[]')} sudo lptui"


def host_json(h: Host, *, warn: float = 60.0, crit: float = 300.0) -> dict[str, Any]:
    return {
        "host": h.name,
        "state": h.state,
        "check": NAMES[host_code(h, warn=warn, crit=crit)],  # what the host's own `lptui check` says
        "exporter_up": h.up,
        "poll_age_seconds": None if h.poll_age is None else round(h.poll_age, 1),
        "release": h.release,
        "machine": h.machine,
        "patches": [
            {
                "name": p.name,
                "mechanism": p.mechanism,
                "version": p.version,
                "srcversion": p.srcversion,
                "enabled": p.enabled,
                "in_transition": p.in_transition,
                "cves": list(p.cves),
                "provenance_known": p.provenance_known,
                "lost_at_reboot": p.lost_at_reboot,
                "in_effect": p.in_effect,
                "post_load_health": list(p.health),
            }
            for p in h.patches
        ],
        "transition": transition_json(h),
        "blockers": dict(h.blockers),
        "top_blocker": h.top_blocker,
        "forced_this_boot": h.forced,
        "inactive_modules": h.inactive_modules,
        "installed_not_loaded": list(h.installed_not_loaded),
        "kpatch_service": h.kpatch_service,
        "suspect": h.suspect,
        "problems": list(h.problems),
        "console": console_command(h.name),
        "last_known": None if h.last_known is None else last_known_json(h.last_known),
    }


def last_known_json(k: Host) -> dict[str, Any]:
    """A down host as its series last said (`lptui fleet`'s LOOKBACK): never its state now."""
    return {
        "poll_age_seconds": None if k.poll_age is None else round(k.poll_age, 1),
        "release": k.release,
        "live": [p.name for p in k.patches if p.live],
        "transition": transition_json(k),
        "top_blocker": k.top_blocker,
        "forced_this_boot": k.forced,
    }


def transition_json(h: Host) -> dict[str, Any] | None:
    t = h.transition
    if t is None:
        return None
    return {
        "patch": t.patch,
        "direction": t.direction,
        "mechanism": t.mechanism,
        "age_seconds": None if t.age_seconds is None else round(t.age_seconds, 1),
        "age_source": t.age_source,
        "tasks_pending": t.tasks_pending,
        "tasks_total": t.tasks_total,
        "tasks_unreadable": t.tasks_unreadable,
    }


def rollout_json(r: Rollout) -> dict[str, Any]:
    return {
        "patch": r.patch,
        "live": list(r.live),
        "in_transition": list(r.in_transition),
        "oldest_transition_seconds": None if r.oldest_transition is None else round(r.oldest_transition, 1),
        "disabled": list(r.disabled),
        "lacking": list(r.lacking),
        "live_of": [len(r.live), r.hosts],
        "removing": list(r.removing),
    }


def cve_json(v: CveVerdict) -> dict[str, Any]:
    return {"host": v.host, "verdict": v.verdict, "patches": list(v.patches), "why": v.why}
