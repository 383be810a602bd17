"""The fleet as Prometheus holds it: every host that Prometheus scrapes lptui on, read from the series
each host's `lptui metrics` exports, in one round of instant queries (one per family of series, whatever
the number of hosts, and a few about the hosts themselves), into frozen records.

A host is the `instance` label (or another, `host_label`). A host whose exporter is down (`up` 0) or
whose last poll is older than `stale` seconds is shown as such, never as healthy: its other series are
either gone (Prometheus marks a failed target's series stale) or old. A host's own series cannot blind
the fleet nor speak for another host: see lptui.fleet.queries (what is asked, per host) and
lptui.fleet.hosts (what is believed).

The round is bounded as a whole: one deadline and one byte budget for every answer (prometheus.Round),
and one decoded answer at a time (decoding is the round's memory; the fetching goes on WORKERS at once).
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from lptui.fleet.hosts import build
from lptui.fleet.prometheus import Answer, Prometheus, Round, _parse
from lptui.fleet.queries import DEFAULT_STALE, FAMILIES, WORKERS, checks, last_known, queries
from lptui.fleet.records import CVE_ID, Fleet, Host, HostPatch, HostTransition, worst_first
from lptui.fleet.reduce import reduce_family

__all__ = [
    "CVE_ID",
    "DEFAULT_STALE",
    "FAMILIES",
    "WORKERS",
    "Fleet",
    "Host",
    "HostPatch",
    "HostTransition",
    "assemble",
    "queries",
    "quiet_gc",
    "read_fleet",
    "reduce_family",
    "with_last_known",
    "worst_first",
]


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic collection while a read or a shape builds its thousands of records: one would hold the
    GIL, and so the UI thread, for as long as it scans every object of the process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def read_fleet(
    prom: Prometheus, *, job: str = "lptui", host_label: str = "instance", stale: float = DEFAULT_STALE
) -> Fleet:
    """One round: `up` first (its evaluation time pins the round, so every family is read at the same
    instant whatever the clocks say), then the other families and the checks, WORKERS fetched at a time
    and decoded one at a time, each reduced per host as it arrives and its decoded JSON dropped."""
    exprs = queries(job, host_label)
    exprs.update(checks(job, host_label))
    round = prom.round()
    decoding = threading.Lock()
    with quiet_gc():  # thousands of records and no cycle among them: see prometheus._parse
        first = prom.query(exprs.pop("up"), round=round)
        at = first.at or None
        reduced = {"up": reduce_family("up", first, host_label, prom.base)}
        down = [name for name, value in reduced["up"].items() if value != 1]
        exprs.update({f"last:{f}": q for f, q in last_known(job, host_label, down).items()})
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="lptui-fleet") as pool:
            running = {
                pool.submit(_read, prom, family, expr, at, host_label, round, decoding): family
                for family, expr in exprs.items()
            }
            try:
                for done in as_completed(running):
                    reduced[running[done]] = done.result()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        found = {name: reduced.pop(name) for name in checks(job, host_label)}
        last = {name[5:]: reduced.pop(name) for name in list(reduced) if name.startswith("last:")}
        fleet = build(
            reduced, at=at or time.time(), host_label=host_label, job=job, stale=stale, checks=found
        )
        return with_last_known(fleet, last)


def with_last_known(fleet: Fleet, last: dict[str, dict[str, Any]]) -> Fleet:
    """Each down host with its last known state, from the LAST_KNOWN families read of it."""
    if not last:
        return fleet
    built = build(last, at=fleet.at, host_label=fleet.host_label, job=fleet.job, stale=math.inf)
    known = {h.name: h for h in built.hosts}
    hosts = tuple(
        replace(h, last_known=known[h.name]) if not h.up and h.name in known else h for h in fleet.hosts
    )
    return replace(fleet, hosts=hosts)


def _read(
    prom: Prometheus,
    family: str,
    expr: str,
    at: float | None,
    host_label: str,
    round: Round,
    decoding: threading.Lock,
) -> dict[str, Any]:
    body = prom.fetch(expr, at, round)
    with decoding:  # one decoded answer at a time: the round's memory is one answer's, not four
        return reduce_family(family.removeprefix("last:"), _parse(body, prom.base), host_label, prom.base)


def assemble(
    answers: dict[str, Answer],
    *,
    host_label: str = "instance",
    job: str = "lptui",
    stale: float = DEFAULT_STALE,
) -> Fleet:
    """The Fleet from one answer per family and check (a family missing is as if it had no series)."""
    at = next((a.at for a in answers.values() if a.at), 0.0) or time.time()
    reduced = {
        family: reduce_family(family.removeprefix("last:"), a, host_label) for family, a in answers.items()
    }
    found = {name: reduced.pop(name) for name in checks("x", host_label) if name in reduced}
    last = {name[5:]: reduced.pop(name) for name in list(reduced) if name.startswith("last:")}
    fleet = build(reduced, at=at, host_label=host_label, job=job, stale=stale, checks=found)
    return with_last_known(fleet, last)
