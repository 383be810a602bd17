"""The fleet as Prometheus holds it: every host that Prometheus scrapes lptui on, read from the series
each host's `lptui metrics` exports, in one round of instant queries (one per family of series, whatever
the number of hosts), into frozen records.

A host is the `instance` label (or another, `host_label`). A host whose exporter is down (`up` 0) or
whose last poll is older than `stale` seconds is shown as such, never as healthy: its other series are
either gone (Prometheus marks a failed target's series stale) or old.
"""

from __future__ import annotations

import gc
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from lptui.fleet.prometheus import Answer, Prometheus

# each family's kind: how its series reduce per host (see REDUCERS)
FAMILIES = {
    "up": "value",
    "last_poll_timestamp_seconds": "value",
    "kernel_info": "labels",
    "patch_info": "patches",
    "patch_enabled": "per_patch",
    "patch_in_transition": "per_patch",
    "transition_info": "labels",
    "transition_age_seconds": "value",
    "transition_tasks_pending": "value",
    "transition_tasks": "value",
    "forced_this_boot": "value",
    "patch_fixes": "cves",
    "patch_provenance_known": "per_patch",
    "patch_lost_at_reboot": "per_patch",
    "patch_installed_not_loaded": "per_patch",
    "patch_installed_fixes": "cves",
    "kpatch_service": "service",
    "inactive_modules": "value",
    "blocked_tasks": "reasons",
}
DEFAULT_STALE = 300.0  # seconds: the textfile timer writes every 30 s; the listener polls every 3 s idle
WORKERS = 4  # queries in flight at once: Prometheus answers them in parallel while one is decoded here


def _job_matcher(job: str) -> str:
    quoted = job.replace("\\", "\\\\").replace('"', '\\"')
    return f'job=~"{quoted}"'


def queries(job: str) -> dict[str, str]:
    """The round: one instant query per family. `max without (job)` drops the labels the fleet does not
    read (the name, the job: a third of each answer) and joins a host scraped by two matching jobs; the
    blocker counts only where not 0."""
    job_is = _job_matcher(job)
    out = {}
    for family in FAMILIES:
        name = family if family == "up" else f"lptui_{family}"
        selector = f"{name}{{{job_is}}}" + (" > 0" if family == "blocked_tasks" else "")
        out[family] = f"max without (job) ({selector})"
    return out


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
    """One round: `up` first (its evaluation time pins the round, so every family is read at the same
    instant whatever the clocks say), then the other families, WORKERS at a time. Each answer is reduced
    per host as it arrives and its decoded JSON dropped: memory holds one family's answer per worker,
    never the whole fleet's."""
    exprs = queries(job)
    collecting = gc.isenabled()
    gc.disable()  # thousands of records and no cycle among them: see prometheus._parse
    try:
        first = prom.query(exprs.pop("up"))
        at = first.at or None
        reduced = {"up": reduce_family("up", first, host_label)}
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="lptui-fleet") as pool:
            running = {pool.submit(_read, prom, f, expr, at, host_label): f for f, expr in exprs.items()}
            try:
                for done in as_completed(running):
                    reduced[running[done]] = done.result()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return build(reduced, at=at or time.time(), host_label=host_label, job=job, stale=stale)
    finally:
        if collecting:
            gc.enable()


def _read(prom: Prometheus, family: str, expr: str, at: float | None, host_label: str) -> dict:
    return reduce_family(family, prom.query(expr, at), host_label)


def _flag(value: float | None) -> bool | None:
    return None if value is None else value == 1


def reduce_family(family: str, answer: Answer, host_label: str) -> dict:
    """One family's samples, per host, in the shape its kind says (the first sample wins a duplicate)."""
    kind = FAMILIES[family]
    out: dict = {}
    for labels, value in answer.samples:
        host = labels.get(host_label)
        if not host:
            continue
        if kind == "value":
            out.setdefault(host, value)
        elif kind == "labels":
            out.setdefault(host, labels)
        elif kind == "patches":
            out.setdefault(host, []).append(labels)
        elif kind == "per_patch":
            out.setdefault(host, {}).setdefault(labels.get("patch", ""), value)
        elif kind == "cves":
            out.setdefault(host, set()).add((labels.get("patch", ""), labels.get("cve", "").upper()))
        elif kind == "service":  # present at all: the host exports its life cycle
            if value == 1 or host not in out:
                out[host] = labels.get("state") if value == 1 else None
        elif kind == "reasons" and labels.get("reason"):
            out.setdefault(host, {})[labels["reason"]] = int(value)
    return out


def assemble(
    answers: dict[str, Answer],
    *,
    host_label: str = "instance",
    job: str = "lptui",
    stale: float = DEFAULT_STALE,
) -> Fleet:
    """The Fleet from one answer per family (a family missing is as if it had no series)."""
    at = next((a.at for a in answers.values() if a.at), 0.0) or time.time()
    reduced = {family: reduce_family(family, a, host_label) for family, a in answers.items()}
    return build(reduced, at=at, host_label=host_label, job=job, stale=stale)


def build(reduced: dict[str, dict], *, at: float, host_label: str, job: str, stale: float) -> Fleet:
    names: set[str] = set()
    for per_host in reduced.values():
        names.update(per_host)
    get = {family: reduced.get(family, {}).get for family in FAMILIES}
    hosts = [_host(name, get, at, stale) for name in names]
    return Fleet(at, tuple(sorted(hosts, key=worst_first)), host_label, job)


def _host(name: str, get: dict, at: float, stale: float) -> Host:
    up = get["up"](name)
    poll = get["last_poll_timestamp_seconds"](name)
    poll_age = max(at - poll, 0.0) if poll is not None else None
    kernel = get["kernel_info"](name) or {}
    enabled = get["patch_enabled"](name) or {}
    moving = get["patch_in_transition"](name) or {}
    known = get["patch_provenance_known"](name) or {}
    lost = get["patch_lost_at_reboot"](name) or {}
    cves: dict[str, list[str]] = defaultdict(list)
    for patch, cve in sorted(get["patch_fixes"](name) or ()):
        cves[patch].append(cve)
    service = get["kpatch_service"](name, False)
    has_life = service is not False
    patches = []
    for labels in sorted(get["patch_info"](name) or (), key=lambda s: s.get("patch", "")):
        p = labels.get("patch", "")
        patches.append(
            HostPatch(
                p,
                labels.get("mechanism", ""),
                labels.get("version", ""),
                labels.get("srcversion", ""),
                _flag(enabled.get(p)),
                _flag(moving.get(p)),
                tuple(cves.get(p, ())),
                _flag(known.get(p)) if has_life else None,
                _flag(lost.get(p)),
            )
        )
    transition = None
    info = get["transition_info"](name)
    if info is not None:
        pending = get["transition_tasks_pending"](name)
        total = get["transition_tasks"](name)
        transition = HostTransition(
            info.get("patch", ""),
            info.get("direction", ""),
            info.get("mechanism", ""),
            get["transition_age_seconds"](name),
            info.get("age_source", ""),
            int(pending) if pending is not None else None,
            int(total) if total is not None else None,
        )
    inactive = get["inactive_modules"](name)
    blocked = get["blocked_tasks"](name) or {}
    return Host(
        name=name,
        up=None if up is None else up == 1,
        poll_age=poll_age,
        stale=poll_age is None or poll_age > stale,
        release=kernel.get("release"),
        machine=kernel.get("machine"),
        patches=tuple(patches),
        transition=transition,
        blockers=tuple(sorted(blocked.items(), key=lambda kv: (-kv[1], kv[0]))),
        forced=_flag(get["forced_this_boot"](name)),
        inactive_modules=int(inactive) if inactive is not None else None,
        installed_not_loaded=tuple(sorted(get["patch_installed_not_loaded"](name) or ())),
        installed_fixes=tuple(sorted(get["patch_installed_fixes"](name) or ())),
        kpatch_service=service or None,
        has_life_cycle=has_life,
    )


CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
