"""The fleet as Prometheus holds it: every host that Prometheus scrapes lptui on, read from the series
each host's `lptui metrics` exports, in one round of two instant queries, into frozen records.

A host is the `instance` label (or another, `host_label`). A host whose exporter is down (`up` 0) or
whose last poll is older than `stale` seconds is shown as such, never as healthy: its other series are
either gone (Prometheus marks a failed target's series stale) or old.
"""

from __future__ import annotations

import gc
import re
import time
from collections import defaultdict
from dataclasses import dataclass

from lptui.fleet.prometheus import Answer, Prometheus, Sample

SERIES = (
    "last_poll_timestamp_seconds",
    "kernel_info",
    "patch_info",
    "patch_enabled",
    "patch_in_transition",
    "transition_info",
    "transition_age_seconds",
    "transition_tasks_pending",
    "transition_tasks",
    "forced_this_boot",
    "patch_fixes",
    "patch_provenance_known",
    "patch_lost_at_reboot",
    "patch_installed_not_loaded",
    "patch_installed_fixes",
    "kpatch_service",
    "inactive_modules",
)
DEFAULT_STALE = 300.0  # seconds: the textfile timer writes every 30 s; the listener polls every 3 s idle


def _job_matcher(job: str) -> str:
    quoted = job.replace("\\", "\\\\").replace('"', '\\"')
    return f'job=~"{quoted}"'


def queries(job: str) -> tuple[str, str]:
    """The round: every series lptui needs but the per-reason blocker counts, and those that are not 0."""
    names = "|".join(["up", *(f"lptui_{n}" for n in SERIES)])
    job_is = _job_matcher(job)
    return f'{{__name__=~"{names}",{job_is}}}', f"lptui_blocked_tasks{{{job_is}}} > 0"


@dataclass(frozen=True)
class HostPatch:
    name: str
    mechanism: str
    version: str
    srcversion: str
    enabled: bool | None
    in_transition: bool | None
    cves: tuple[str, ...]
    provenance_known: bool | None  # None: the host has not exported its life cycle (yet)
    lost_at_reboot: bool | None

    @property
    def live(self) -> bool:
        return bool(self.enabled) and self.in_transition is False


@dataclass(frozen=True)
class HostTransition:
    patch: str
    direction: str
    mechanism: str
    age_seconds: float | None
    age_source: str
    tasks_pending: int | None
    tasks_total: int | None


@dataclass(frozen=True)
class Host:
    name: str
    up: bool | None  # None: Prometheus has no `up` for it (not in the job)
    poll_age: float | None  # seconds since the exporter last read the kernel
    stale: bool
    release: str | None
    machine: str | None
    patches: tuple[HostPatch, ...]
    transition: HostTransition | None
    blockers: tuple[tuple[str, int], ...]  # (reason code, threads), most first
    forced: bool | None
    inactive_modules: int | None
    installed_not_loaded: tuple[str, ...]
    installed_fixes: tuple[tuple[str, str], ...]  # (installed file's patch name, CVE)
    kpatch_service: str | None
    has_life_cycle: bool

    @property
    def reporting(self) -> bool:
        """Its series can be believed: exporter up and polling."""
        return bool(self.up) and not self.stale and self.release is not None

    @property
    def state(self) -> str:
        if not self.up:
            return "down"
        if self.stale or self.release is None:
            return "stale"
        if self.transition is not None:
            return "in transition"
        return "ok"

    @property
    def top_blocker(self) -> str | None:
        return self.blockers[0][0] if self.blockers else None


@dataclass(frozen=True)
class Fleet:
    at: float  # Prometheus's evaluation time
    hosts: tuple[Host, ...]  # worst first (see `worst_first`)
    host_label: str
    job: str

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)


def worst_first(host: Host) -> tuple:
    """Stuck longest, then forced, then down or stale, then the rest by name."""
    if host.reporting and host.transition is not None:
        return (0, -(host.transition.age_seconds or 0), host.name)
    if host.reporting and host.forced:
        return (1, 0, host.name)
    if not host.reporting:
        return (2, 0, host.name)
    return (3, 0, host.name)


def read_fleet(
    prom: Prometheus, *, job: str = "lptui", host_label: str = "instance", stale: float = DEFAULT_STALE
) -> Fleet:
    main, blocked = queries(job)
    answers = prom.query(main), prom.query(blocked)
    collecting = gc.isenabled()
    gc.disable()  # thousands of records and no cycle among them: see prometheus._parse
    try:
        return assemble(*answers, host_label=host_label, job=job, stale=stale)
    finally:
        if collecting:
            gc.enable()


def _flag(value: float | None) -> bool | None:
    return None if value is None else value == 1


def assemble(
    main: Answer,
    blocked: Answer,
    *,
    host_label: str = "instance",
    job: str = "lptui",
    stale: float = DEFAULT_STALE,
) -> Fleet:
    at = main.at or blocked.at or time.time()
    by_host: dict[str, dict[str, list[Sample]]] = {}
    for s in main.samples:
        labels = s.labels
        host = labels.get(host_label)
        if host:
            by_host.setdefault(host, {}).setdefault(labels.get("__name__", ""), []).append(s)
    blockers: dict[str, dict[str, int]] = defaultdict(dict)
    for s in blocked.samples:
        host = s.labels.get(host_label)
        if host and s.labels.get("reason"):
            blockers[host][s.labels["reason"]] = int(s.value)
    hosts = [_host(name, series, blockers.get(name, {}), at, stale) for name, series in by_host.items()]
    return Fleet(at, tuple(sorted(hosts, key=worst_first)), host_label, job)


def _one(series: dict[str, list[Sample]], name: str) -> Sample | None:
    found = series.get(f"lptui_{name}") or series.get(name)
    return found[0] if found else None


def _per_patch(series: dict[str, list[Sample]], name: str) -> dict[str, float]:
    return {s.labels.get("patch", ""): s.value for s in series.get(f"lptui_{name}", [])}


def _host(
    name: str, series: dict[str, list[Sample]], blocked: dict[str, int], at: float, stale: float
) -> Host:
    up = _one(series, "up")
    poll = _one(series, "last_poll_timestamp_seconds")
    poll_age = max(at - poll.value, 0.0) if poll is not None else None
    kernel = _one(series, "kernel_info")
    enabled = _per_patch(series, "patch_enabled")
    moving = _per_patch(series, "patch_in_transition")
    known = _per_patch(series, "patch_provenance_known")
    lost = _per_patch(series, "patch_lost_at_reboot")
    cves: dict[str, set[str]] = defaultdict(set)
    for s in series.get("lptui_patch_fixes", []):
        cves[s.labels.get("patch", "")].add(s.labels.get("cve", "").upper())
    has_life = "lptui_kpatch_service" in series
    patches = []
    for s in sorted(series.get("lptui_patch_info", []), key=lambda s: s.labels.get("patch", "")):
        p = s.labels.get("patch", "")
        patches.append(
            HostPatch(
                p,
                s.labels.get("mechanism", ""),
                s.labels.get("version", ""),
                s.labels.get("srcversion", ""),
                _flag(enabled.get(p)),
                _flag(moving.get(p)),
                tuple(sorted(cves.get(p, ()))),
                _flag(known.get(p)) if has_life else None,
                _flag(lost.get(p)) if p in lost else None,
            )
        )
    transition = None
    info = _one(series, "transition_info")
    if info is not None:
        age = _one(series, "transition_age_seconds")
        pending = _one(series, "transition_tasks_pending")
        total = _one(series, "transition_tasks")
        transition = HostTransition(
            info.labels.get("patch", ""),
            info.labels.get("direction", ""),
            info.labels.get("mechanism", ""),
            age.value if age is not None else None,
            info.labels.get("age_source", ""),
            int(pending.value) if pending is not None else None,
            int(total.value) if total is not None else None,
        )
    service = next(
        (s.labels.get("state") for s in series.get("lptui_kpatch_service", []) if s.value == 1), None
    )
    forced = _one(series, "forced_this_boot")
    inactive = _one(series, "inactive_modules")
    fixes_waiting = sorted(
        {
            (s.labels.get("patch", ""), s.labels.get("cve", "").upper())
            for s in series.get("lptui_patch_installed_fixes", [])
        }
    )
    return Host(
        name=name,
        up=None if up is None else up.value == 1,
        poll_age=poll_age,
        stale=poll_age is None or poll_age > stale,
        release=kernel.labels.get("release") if kernel is not None else None,
        machine=kernel.labels.get("machine") if kernel is not None else None,
        patches=tuple(patches),
        transition=transition,
        blockers=tuple(sorted(blocked.items(), key=lambda kv: (-kv[1], kv[0]))),
        forced=_flag(forced.value) if forced is not None else None,
        inactive_modules=int(inactive.value) if inactive is not None else None,
        installed_not_loaded=tuple(sorted(_per_patch(series, "patch_installed_not_loaded"))),
        installed_fixes=tuple(fixes_waiting),
        kpatch_service=service,
        has_life_cycle=has_life,
    )


CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
