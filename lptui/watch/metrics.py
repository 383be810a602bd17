"""Prometheus metrics from the poller's View, through the official client library (prometheus_client).

Read-only by construction: the collector only reads the latest View; no action is reachable.
Names follow Prometheus conventions: an `lptui_` prefix, base units (`_seconds`), `_total` for
counters, and bounded labels (patch names and reason codes; never pids).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from lptui import __version__
from lptui.core.model import Mechanism, Reason
from lptui.core.oncall import series as S
from lptui.core.oncall.history import AgeSource
from lptui.watch.poller import View

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.lifecycle.provenance import LifeCycle
    from lptui.core.model import Snapshot

# Reasons a pending task can have (not_pending excluded): every series exists, 0 when none.
REASONS = tuple(r for r in Reason if r is not Reason.NOT_PENDING)


class LivepatchCollector(Collector):
    """Builds every metric from the latest View at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: View | None = None
        self.errors = 0
        self.last_error: str | None = None

    def update(self, view: View) -> None:
        with self._lock:
            self._view = view

    def failed(self, error: str) -> None:
        with self._lock:
            self.errors += 1
            self.last_error = error

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            view, errors = self._view, self.errors
        yield CounterMetricFamily(S.SCRAPE_ERRORS, "Polls of the kernel state that failed.", value=errors)
        if view is None:
            return
        yield from _host_metrics(view)
        yield from _patch_metrics(view)
        yield from _transition_metrics(view)
        yield from _fleet_metrics(view)


def _host_metrics(view: View) -> Iterator[Metric]:
    """The poll itself and the kernel: how long the read took, live patching present, tainted K."""
    snap = view.snapshot
    k = snap.kernel
    yield GaugeMetricFamily(
        S.SCRAPE_DURATION_SECONDS,
        "How long lptui's last read of the kernel took.",
        value=view.read_seconds,
    )
    yield GaugeMetricFamily(
        S.LAST_POLL_TIMESTAMP_SECONDS, "When lptui last read the kernel state.", value=view.wall
    )
    yield GaugeMetricFamily(
        S.LIVEPATCH_SUPPORTED,
        "1 if the kernel has live patching (/sys/kernel/livepatch).",
        value=int(k.livepatch_supported),
    )
    systems = GaugeMetricFamily(
        S.SYSTEM_PRESENT,
        "1 for each live-patching system found (livepatch, kgraft, kpatch-core, ksplice), else 0.",
        labels=["mechanism"],
    )
    present = {s.mechanism for s in snap.systems}
    for mechanism in Mechanism:
        systems.add_metric([str(mechanism)], int(mechanism in present))
    yield systems
    tainted = 1 if any(f.letter == "K" for f in k.taint_flags) else 0
    yield GaugeMetricFamily(
        S.KERNEL_LIVEPATCHED,
        "1 if the kernel is tainted K (live patched this boot).",
        value=tainted,
    )


def _patch_metrics(view: View) -> Iterator[Metric]:
    """One series per loaded patch and attribute (bounded by the patches loaded), and the leftovers."""
    snap = view.snapshot
    yield GaugeMetricFamily(S.PATCHES_LOADED, "Live patches loaded, every system's.", value=len(snap.patches))
    per_patch = {
        S.PATCH_ENABLED: ("1 if the patch is enabled.", lambda p: p.enabled),
        S.PATCH_IN_TRANSITION: ("1 if the patch is in transition.", lambda p: p.transition),
        S.PATCH_REPLACE: (
            "1 if the patch is cumulative (atomic replace); absent where unknown.",
            lambda p: p.replace,
        ),
        S.PATCH_STACK_ORDER: (
            "The patch's place in the stack (1 = oldest); absent where unknown.",
            lambda p: p.stack_order,
        ),
        S.PATCH_FUNCTIONS: ("Functions the patch changes.", lambda p: p.function_count),
    }
    for name, (doc, get) in per_patch.items():
        family = GaugeMetricFamily(name, doc, labels=["patch", "mechanism"])
        for p in snap.patches:
            value = get(p)
            if value is not None:
                family.add_metric([p.name, str(p.mechanism)], float(value))
        yield family
    yield GaugeMetricFamily(
        S.INACTIVE_MODULES,
        "Live patch modules still loaded whose patch is gone.",
        value=len(snap.inactive_modules),
    )
    forced = GaugeMetricFamily(
        S.FORCED_THIS_BOOT,
        "1 if a transition was forced this boot (kernel log, or a module that keeps its reference).",
        value=int(bool(view.forced)),
    )
    yield forced
    yield from _effect_metrics(view)
    yield from _duration_metrics(view)


def _effect_metrics(view: View) -> Iterator[Metric]:
    """In effect and post-load health, per patch (bounded by the patches loaded)."""
    oncall = view.oncall
    effect = oncall.effect if oncall is not None else None
    in_effect = GaugeMetricFamily(
        S.PATCH_IN_EFFECT,
        "1 if ftrace runs the livepatch handler on every function of the settled, enabled patch "
        "(enabled_functions), 0 if not on some; absent where not checked (in transition, unreadable).",
        labels=["patch"],
    )
    overridable = GaugeMetricFamily(
        S.PATCH_OVERRIDABLE_FUNCTIONS,
        "Functions of the patch a BPF program on them may override (error-injectable, with a kprobe or "
        "a BPF trampoline attached).",
        labels=["patch"],
    )
    health = GaugeMetricFamily(
        S.PATCH_POST_LOAD_PROBLEMS,
        "Kernel complaints tied to the patch since it completed: kind warning (WARNING) or oops "
        "(Oops, BUG, panic).",
        labels=["patch", "kind"],
    )
    for name in effect.checked if effect is not None else ():
        assert effect is not None
        in_effect.add_metric([name], int(bool(effect.in_effect(name))))
        overridable.add_metric([name], sum(f.kind == "overridable" for f in effect.of(name)))
    for p in view.snapshot.patches:
        tied = [h for h in oncall.health if h.patch == p.name] if oncall is not None else []
        health.add_metric([p.name, "warning"], sum(not h.grave for h in tied))
        health.add_metric([p.name, "oops"], sum(h.grave for h in tied))
    yield from (in_effect, overridable, health)


def _duration_metrics(view: View) -> Iterator[Metric]:
    """How long this boot's transitions took, by mechanism, outcome and patch, from the kernel log's own start
    and end lines (Durations in lptui/core/oncall/history.py): one a scrape interval long still counts."""
    from prometheus_client.core import HistogramMetricFamily

    from lptui.core.oncall.history import BUCKETS

    family = HistogramMetricFamily(
        S.TRANSITION_DURATION_SECONDS,
        "How long each transition took this boot (kernel log), by outcome: completed, reversed, forced.",
        labels=["mechanism", "outcome", "patch"],
    )
    durations = view.oncall.durations if view.oncall is not None else None
    for (mechanism, outcome, patch), h in sorted(durations.by.items()) if durations is not None else ():
        bounds = ["+Inf" if b == float("inf") else f"{b:g}" for b in BUCKETS]
        family.add_metric([mechanism, outcome, patch], list(zip(bounds, h.buckets, strict=True)), h.total)
    yield family


def _transition_metrics(view: View) -> Iterator[Metric]:
    """The transition in progress: its patch, age, pending threads and why they block."""
    snap = view.snapshot
    t = snap.transition
    yield GaugeMetricFamily(S.TRANSITION_IN_PROGRESS, "1 while a transition runs.", value=int(t is not None))
    info = GaugeMetricFamily(
        S.TRANSITION_INFO,
        "The transition in progress (value 1).",
        labels=["patch", "direction", "age_source", "mechanism"],
    )
    pending = GaugeMetricFamily(S.TRANSITION_TASKS_PENDING, "Threads not yet switched.")
    total = GaugeMetricFamily(S.TRANSITION_TASKS, "Threads seen in the transition.")
    unreadable = GaugeMetricFamily(
        S.TRANSITION_TASKS_UNREADABLE,
        "Threads whose patch_state could not be read: neither pending nor switched.",
    )
    age = GaugeMetricFamily(
        S.TRANSITION_AGE_SECONDS,
        "How long the transition has run (kernel log; else since lptui saw it).",
    )
    start = GaugeMetricFamily(S.TRANSITION_START_TIME_SECONDS, "When the transition started (Unix time).")
    blocked = GaugeMetricFamily(
        S.BLOCKED_TASKS, "Pending threads by the reason they block.", labels=["reason"]
    )
    aborted = GaugeMetricFamily(
        S.TRANSITION_ABORTED,
        "1 while the transition is a Ksplice update that aborted (nothing moves; label cause: its "
        "abort_cause); absent otherwise.",
        labels=["cause"],
    )
    counts: dict[Reason, int] = dict.fromkeys(REASONS, 0)
    if t is not None:
        source = str(view.age.source if view.age else AgeSource.OBSERVED)
        info.add_metric([t.patch, str(t.direction), source, str(t.mechanism)], 1)
        pending.add_metric([], t.tasks_pending or 0)
        total.add_metric([], t.tasks_total or 0)
        unreadable.add_metric([], t.tasks_unknown)
        if view.age is not None and view.age.age_seconds is not None:
            age.add_metric([], view.age.age_seconds)
            start.add_metric([], view.age.started_at or 0)
        for task in snap.pending_tasks:
            counts[task.reason_code] = counts.get(task.reason_code, 0) + 1
        if t.aborted is not None:
            aborted.add_metric([str(t.aborted)], 1)
    else:
        pending.add_metric([], 0)
        total.add_metric([], 0)
        unreadable.add_metric([], 0)
    for reason, n in counts.items():
        blocked.add_metric([str(reason)], n)
    yield from (info, pending, total, unreadable, age, start, blocked, aborted)


def _fleet_metrics(view: View) -> Iterator[Metric]:
    """What a fleet asks of each host (issue 19): which lptui and kernel, each patch's identity, the CVEs
    its provenance names, what a reboot loses, what is installed but not loaded, kpatch's boot service.
    Cardinality: one series per loaded patch (per CVE it names for `_fixes`), per installed file name,
    and three for the service; the life-cycle series are absent until the life cycle has been read."""
    yield from _identity_metrics(view.snapshot)
    if view.life is not None:
        yield from _provenance_metrics(view.snapshot, view.life)
        yield from _installed_metrics(view.life)


def _identity_metrics(snap: Snapshot) -> Iterator[Metric]:
    build = GaugeMetricFamily(S.BUILD_INFO, "The lptui version exporting (value 1).", labels=["version"])
    build.add_metric([__version__], 1)
    yield build
    kernel = GaugeMetricFamily(S.KERNEL_INFO, "The running kernel (value 1).", labels=["release", "machine"])
    kernel.add_metric([snap.kernel.release or "", snap.kernel.machine or ""], 1)
    yield kernel
    info = GaugeMetricFamily(
        S.PATCH_INFO,
        "Each loaded patch's identity (value 1): its module's version and srcversion.",
        labels=["patch", "mechanism", "version", "srcversion"],
    )
    for p in snap.patches:
        info.add_metric([p.name, str(p.mechanism), p.module.version or "", p.module.srcversion or ""], 1)
    yield info


def _provenance_metrics(snap: Snapshot, life: LifeCycle) -> Iterator[Metric]:
    """Per loaded patch: whether its file was found, the CVEs it names, whether a reboot loses it."""
    known = GaugeMetricFamily(
        S.PATCH_PROVENANCE_KNOWN,
        "1 if the loaded patch's module file was found (its CVEs can be read), else 0.",
        labels=["patch"],
    )
    fixes = GaugeMetricFamily(
        S.PATCH_FIXES,
        "A CVE the loaded patch's file or package names (value 1).",
        labels=["patch", "cve"],
    )
    lost = GaugeMetricFamily(
        S.PATCH_LOST_AT_REBOOT,
        "1 if the loaded patch's file is not installed (a reboot loses it), else 0; absent where unknown.",
        labels=["patch"],
    )
    for p in snap.patches:
        prov = life.provenance.get(p.name)
        found = prov is not None and prov.file is not None
        known.add_metric([p.name], int(found))
        for cve in prov.cves if prov is not None and found else ():
            fixes.add_metric([p.name, cve], 1)
        if prov is not None and (found or p.name in life.lost_at_reboot):
            lost.add_metric([p.name], int(p.name in life.lost_at_reboot))
    yield from (known, fixes, lost)


def _installed_metrics(life: LifeCycle) -> Iterator[Metric]:
    """What is installed for this release but not loaded (and the CVEs it names), kpatch's service."""
    waiting = GaugeMetricFamily(
        S.PATCH_INSTALLED_NOT_LOADED,
        "A livepatch module installed for the running release but not loaded (value 1).",
        labels=["patch"],
    )
    waiting_fixes = GaugeMetricFamily(
        S.PATCH_INSTALLED_FIXES,
        "A CVE an installed but not loaded module file names in its .modinfo (value 1).",
        labels=["patch", "cve"],
    )
    for name in sorted({i.facts.name for i in life.installed if not i.loaded}):
        waiting.add_metric([name], 1)
    for patch, cve in sorted(
        {(i.facts.name, c) for i in life.installed if not i.loaded for c in i.facts.cves}
    ):
        waiting_fixes.add_metric([patch, cve], 1)
    service = GaugeMetricFamily(
        S.KPATCH_SERVICE,
        "kpatch's boot service: 1 for its state (enabled, disabled, absent), 0 for the others.",
        labels=["state"],
    )
    for state in ("enabled", "disabled", "absent"):
        service.add_metric([state], int((life.boot_service or "absent") == state))
    yield from (waiting, waiting_fixes, service)


def registry_for(collector: LivepatchCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
