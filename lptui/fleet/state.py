"""The fleet as Prometheus holds it: every host that Prometheus scrapes lptui on, read from the series
each host's `lptui metrics` exports, in one round of instant queries (one per family of series, whatever
the number of hosts), into frozen records.

A host is the `instance` label (or another, `host_label`). A host whose exporter is down (`up` 0) or
whose last poll is older than `stale` seconds is shown as such, never as healthy: its other series are
either gone (Prometheus marks a failed target's series stale) or old.
"""

from __future__ import annotations

import gc
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from lptui.fleet.prometheus import Answer, FleetError, Prometheus, not_prometheus

# each family: how its series reduce per host (see reduce_family), and the labels the fleet reads of it
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "up": ("value", ()),
    "last_poll_timestamp_seconds": ("value", ()),
    "kernel_info": ("labels", ("release", "machine")),
    "patch_info": ("patches", ("patch", "mechanism", "version", "srcversion")),
    "patch_enabled": ("per_patch", ("patch",)),
    "patch_in_transition": ("per_patch", ("patch",)),
    "transition_info": ("labels", ("patch", "direction", "mechanism", "age_source")),
    "transition_age_seconds": ("value", ()),
    "transition_tasks_pending": ("value", ()),
    "transition_tasks": ("value", ()),
    "transition_tasks_unreadable": ("value", ()),
    "forced_this_boot": ("value", ()),
    "patch_fixes": ("cves", ("patch", "cve")),
    "patch_provenance_known": ("per_patch", ("patch",)),
    "patch_lost_at_reboot": ("per_patch", ("patch",)),
    "patch_installed_not_loaded": ("per_patch", ("patch",)),
    "patch_installed_fixes": ("cves", ("patch", "cve")),
    "kpatch_service": ("service", ("state",)),
    "inactive_modules": ("value", ()),
    "blocked_tasks": ("reasons", ("reason",)),
}
# only the series that count: the blockers that are not 0, the service's one state that is 1 (the exporter
# sets exactly one: its presence says the host exports its life cycle)
FILTERS = {"blocked_tasks": " > 0", "kpatch_service": " == 1"}
DEFAULT_STALE = 300.0  # seconds: the textfile timer writes every 30 s; the listener polls every 3 s idle
WORKERS = 4  # queries in flight at once: Prometheus answers them in parallel while one is decoded here


def _job_matcher(job: str) -> str:
    quoted = job.replace("\\", "\\\\").replace('"', '\\"')
    return f'job=~"{quoted}"'


def _label_name(label: str) -> str:
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
        raise FleetError(f"--host-label {label!r}: not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
    return label


def queries(job: str, host_label: str = "instance") -> dict[str, str]:
    """The round: one instant query per family, asking for exactly the labels the fleet reads of it
    (`max by`: a third of what the bare selectors answer; it also joins a host scraped by two matching
    jobs)."""
    job_is = _job_matcher(job)
    host = _label_name(host_label)
    out = {}
    for family, (_, labels) in FAMILIES.items():
        name = family if family == "up" else f"lptui_{family}"
        selector = f"{name}{{{job_is}}}{FILTERS.get(family, '')}"
        out[family] = f"max by ({', '.join((host, *labels))}) ({selector})"
    return out


@dataclass(frozen=True, slots=True)  # slots: built by the thousand per refresh, at half the cost
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


@dataclass(frozen=True, slots=True)
class HostTransition:
    patch: str
    direction: str
    mechanism: str
    age_seconds: float | None
    age_source: str
    tasks_pending: int | None
    tasks_total: int | None
    tasks_unreadable: int | None = None  # neither pending nor switched (an exporter before it: None)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    exprs = queries(job, host_label)
    collecting = gc.isenabled()
    gc.disable()  # thousands of records and no cycle among them: see prometheus._parse
    try:
        first = prom.query(exprs.pop("up"))
        at = first.at or None
        reduced = {"up": reduce_family("up", first, host_label, prom.base)}
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
    return reduce_family(family, prom.query(expr, at), host_label, prom.base)


def _flag(value: float | None) -> bool | None:
    return None if value is None else value == 1


def _count(value: float | None) -> int | None:
    """A count from a sample value: NaN and the infinities (any exporter may send them) are no count."""
    return int(value) if value is not None and math.isfinite(value) else None


_NONE: dict = {}  # a host without a family's series (read only, never written)


def reduce_family(family: str, answer: Answer, host_label: str, base: str = "Prometheus") -> dict:
    """One family's samples, per host, in the shape its kind says (the first sample wins a duplicate).
    A sample not shaped as Prometheus shapes them makes the whole answer refused in one line."""
    try:
        return _reduce(FAMILIES[family][0], answer.items, host_label)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise not_prometheus(base) from None


def _reduce(kind: str, items: tuple[dict, ...], host_label: str) -> dict:
    out: dict = {}
    for item in items:
        labels = item["metric"]
        host = labels.get(host_label)
        if not host:
            continue
        value = float(item["value"][1])  # JSON carries sample values as strings ("NaN", "+Inf" too)
        if kind == "value":
            out.setdefault(host, value)
        elif kind == "labels":
            out.setdefault(host, labels)
        elif kind == "patches":
            out.setdefault(host, {}).setdefault(labels.get("patch", ""), labels)
        elif kind == "per_patch":  # a flag: decided here, in the worker, not in the build after the round
            out.setdefault(host, {}).setdefault(labels.get("patch", ""), value == 1)
        elif kind == "cves":
            cves = out.setdefault(host, {}).setdefault(labels.get("patch", ""), set())
            cves.add(str(labels.get("cve", "")).upper())
        elif kind == "service":  # present at all: the host exports its life cycle
            if value == 1 or host not in out:
                out[host] = labels.get("state") if value == 1 else None
        elif kind == "reasons" and labels.get("reason"):
            out.setdefault(host, {})[labels["reason"]] = _count(value) or 0
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
    per_host = {family: reduced.get(family, {}) for family in FAMILIES}
    hosts = [_host(name, per_host, at, stale) for name in names]
    return Fleet(at, tuple(sorted(hosts, key=worst_first)), host_label, job)


def _patches(name: str, f: dict[str, dict], has_life: bool) -> tuple[HostPatch, ...]:
    infos = f["patch_info"].get(name)
    if not infos:
        return ()
    enabled = f["patch_enabled"].get(name, _NONE)
    moving = f["patch_in_transition"].get(name, _NONE)
    known = f["patch_provenance_known"].get(name, _NONE) if has_life else _NONE
    lost = f["patch_lost_at_reboot"].get(name, _NONE)
    fixes = f["patch_fixes"].get(name, _NONE)
    return tuple(
        HostPatch(
            p,
            labels.get("mechanism", ""),
            labels.get("version", ""),
            labels.get("srcversion", ""),
            enabled.get(p),
            moving.get(p),
            tuple(sorted(fixes[p])) if p in fixes else (),
            known.get(p),
            lost.get(p),
        )
        for p, labels in sorted(infos.items())
    )


def _transition(name: str, f: dict[str, dict]) -> HostTransition | None:
    info = f["transition_info"].get(name)
    if info is None:
        return None
    pending = f["transition_tasks_pending"].get(name)
    total = f["transition_tasks"].get(name)
    return HostTransition(
        info.get("patch", ""),
        info.get("direction", ""),
        info.get("mechanism", ""),
        f["transition_age_seconds"].get(name),
        info.get("age_source", ""),
        _count(pending),
        _count(total),
        _count(f["transition_tasks_unreadable"].get(name)),
    )


def _host(name: str, f: dict[str, dict], at: float, stale: float) -> Host:
    up = f["up"].get(name)
    poll = f["last_poll_timestamp_seconds"].get(name)
    poll_age = max(at - poll, 0.0) if poll is not None else None
    kernel = f["kernel_info"].get(name, {})
    service = f["kpatch_service"].get(name, False)
    has_life = service is not False
    inactive = f["inactive_modules"].get(name)
    blocked = f["blocked_tasks"].get(name)
    waiting = f["patch_installed_fixes"].get(name, _NONE)
    return Host(
        name=name,
        up=None if up is None else up == 1,
        poll_age=poll_age,
        stale=poll_age is None or poll_age > stale,
        release=kernel.get("release"),
        machine=kernel.get("machine"),
        patches=_patches(name, f, has_life),
        transition=_transition(name, f),
        blockers=tuple(sorted(blocked.items(), key=lambda kv: (-kv[1], kv[0]))) if blocked else (),
        forced=_flag(f["forced_this_boot"].get(name)),
        inactive_modules=_count(inactive),
        installed_not_loaded=tuple(sorted(f["patch_installed_not_loaded"].get(name, ()))),
        installed_fixes=tuple(sorted((p, c) for p, cves in waiting.items() for c in cves)),
        kpatch_service=service or None,
        has_life_cycle=has_life,
    )


CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
