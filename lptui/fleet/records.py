"""The fleet's frozen records: a host as its series describe it, its patches and its transition, and the
fleet worst first. Built by lptui.fleet.hosts from one round's answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lptui.core.model import CVE_PATTERN


class HostState(StrEnum):
    """A host as the fleet sees it, the worst first. STUCK is the tables' word for a transition older
    than a minute (lptui.fleet.cells.shown_state); `Host.state` itself never says it."""

    STUCK = "stuck"
    IN_TRANSITION = "in transition"
    DOWN = "down"  # its exporter does not answer Prometheus
    STALE = "stale"  # its exporter answers, its last poll is old (or no kernel release is exported)
    SUSPECT = "suspect"  # its series may be another host's (tests/fleet: an impersonating target)
    OK = "ok"


@dataclass(frozen=True, slots=True)  # slots: built by the thousand per refresh, at half the cost
class HostPatch:
    name: str
    mechanism: str  # the host's label as sent: lptui's own are lptui.core.model.Mechanism's values
    version: str
    srcversion: str
    enabled: bool | None
    in_transition: bool | None
    cves: tuple[str, ...]
    provenance_known: bool | None  # None: the host has not exported its life cycle (yet)
    lost_at_reboot: bool | None
    in_effect: bool | None = None  # ftrace runs its handler on every function; None: not checked
    health: tuple[str, ...] = ()  # kernel complaints tied to it since it went in: "warning", "oops"
    replace: bool | None = None  # cumulative (atomic replace); None: not exported

    @property
    def live(self) -> bool:
        return bool(self.enabled) and self.in_transition is False


@dataclass(frozen=True, slots=True)
class HostTransition:
    patch: str
    direction: str  # the host's labels as sent: lptui's own are Direction's, Mechanism's and AgeSource's
    mechanism: str
    age_seconds: float | None
    age_source: str
    tasks_pending: int | None
    tasks_total: int | None
    tasks_unreadable: int | None = None  # neither pending nor switched (an exporter before it: None)
    aborted: str | None = None  # a Ksplice update that aborted: its cause (nothing moves)


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
    problems: tuple[str, ...] = ()  # bad values, series read in part, others' series (see `suspect`)
    suspect: bool = False  # another target or job may speak for it: its verdicts are not believed
    # exporter down: the host as its series last said (LOOKBACK), never believed as its state now; None
    # when it is up, or none of its series is that recent
    last_known: Host | None = None

    @property
    def reporting(self) -> bool:
        """Its series can be believed: exporter up and polling."""
        return bool(self.up) and not self.stale and self.release is not None

    @property
    def trusted(self) -> bool:
        """Reporting, and only its own series: what a verdict of "fixed" or "ok" may rest on."""
        return self.reporting and not self.suspect

    @property
    def state(self) -> HostState:
        if not self.up:
            return HostState.DOWN
        if self.stale or self.release is None:
            return HostState.STALE
        if self.suspect:
            return HostState.SUSPECT
        if self.transition is not None:
            return HostState.IN_TRANSITION
        return HostState.OK

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


def worst_first(host: Host) -> tuple[int, float, str]:
    """Stuck longest, then forced, then down or stale, then the rest by name."""
    if host.reporting and host.transition is not None:
        return (0, -(host.transition.age_seconds or 0), host.name)
    if host.reporting and host.forced:
        return (1, 0, host.name)
    if not host.reporting:
        return (2, 0, host.name)
    return (3, 0, host.name)


CVE_ID = re.compile(rf"^{CVE_PATTERN}$", re.IGNORECASE)
