"""Snapshot tests of the fleet console over 1,000 hosts, at 80x24 and 120x36: the hosts worst first (the
stuck ones on top, the columns that fit by priority), the rollout's N of M, a CVE's unfixed hosts first,
and a stuck host's drill-down. The fleet is built from series (lptui.fleet.state.assemble) at a fixed
time, so the pictures do not move; the status line's clock is Prometheus's evaluation time, in UTC here.

Update with `pytest tests/tui/test_fleet_snapshots.py --snapshot-update` after looking at the report.
"""

from __future__ import annotations

import time

import pytest

from lptui.fleet.prometheus import Answer, Prometheus
from lptui.fleet.state import Fleet, assemble

AT = 1_796_000_000.0
HOSTS = 1_000


def fleet_of(hosts: int = HOSTS) -> Fleet:
    """5 % stuck in livepatch_cve_2026_4242 (ages from 1 to 50 min), 2 % down (half of them with a last
    known state), every host on livepatch_cve_2026_0815 and, from 6.1.0-21, livepatch_nfsd_fix."""
    series: dict[str, list] = {}

    def add(family: str, labels: dict, value: float) -> None:
        series.setdefault(family, []).append((labels, value))

    for i in range(hosts):
        name = {"instance": f"web-{i:04d}.example.net:9839"}
        down, stuck = i % 50 == 7, i % 20 == 3
        add("up", name, 0.0 if down else 1.0)
        prefix = "last:" if down else ""
        if down and i % 100 != 7:
            continue
        add(prefix + "last_poll_timestamp_seconds", name, AT - (3 if not down else 40))
        release = f"6.1.0-{20 + i % 3}-amd64"
        add(prefix + "kernel_info", name | {"release": release, "machine": "x86_64"}, 1.0)
        patches = ["livepatch_cve_2026_0815"] + (["livepatch_nfsd_fix"] if i % 3 else [])
        patches += ["livepatch_cve_2026_4242"] if stuck else []
        for p in patches:
            info = {"patch": p, "mechanism": "livepatch", "version": "1", "srcversion": "A1B2"}
            add(prefix + "patch_info", name | info, 1.0)
            add(prefix + "patch_enabled", name | {"patch": p}, 1.0)
            add(prefix + "patch_in_transition", name | {"patch": p}, float(stuck and p.endswith("4242")))
            cve = {"livepatch_cve_2026_0815": "CVE-2026-0815", "livepatch_cve_2026_4242": "CVE-2026-4242"}
            if p in cve:
                add(prefix + "patch_fixes", name | {"patch": p, "cve": cve[p]}, 1.0)
        add(prefix + "forced_this_boot", name, 0.0)
        if stuck:
            t = {"patch": "livepatch_cve_2026_4242", "direction": "patching", "mechanism": "livepatch"}
            add(prefix + "transition_info", name | t | {"age_source": "kernel-log"}, 1.0)
            add(prefix + "transition_age_seconds", name, 60.0 * (1 + i % 50))
            add(prefix + "transition_tasks_pending", name, 3.0)
            add(prefix + "transition_tasks", name, 289.0)
            add(prefix + "blocked_tasks", name | {"reason": "kthread_in_patched_function"}, 2.0)
            add(prefix + "blocked_tasks", name | {"reason": "uninterruptible"}, 1.0)
    return assemble({family: Answer.of(AT, samples) for family, samples in series.items()}, stale=300)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def history_of() -> dict:
    """Six hours of rollout: the CVE patch everywhere before the window, nfsd's fix going out over it (its
    curve rising, its hosts live from 01:00 to 05:20), the stuck patch reaching none; their transitions'
    quantiles as the fleet's histograms would give them."""
    from lptui.fleet.history import PatchHistory

    start, step = AT - 6 * 3600, 720.0
    points = [start + step * (k + 1) for k in range(30)]
    rising = tuple((t, min(653, 25 * (k + 1))) for k, t in enumerate(points))
    return {
        "livepatch_cve_2026_0815": PatchHistory(
            tuple((t, 980) for t in points),
            {f"web-{i:04d}.example.net:9839": start for i in range(3)},
            0.4,
            0.9,
            980,
            start,
            72.0,
        ),
        "livepatch_nfsd_fix": PatchHistory(
            rising,
            {"web-0001.example.net:9839": start + 3600, "web-0002.example.net:9839": start + 19200},
            1.2,
            14.0,
            653,
            start,
            72.0,
        ),
        "livepatch_cve_2026_4242": PatchHistory(
            tuple((t, 0) for t in points), {}, None, None, 0, start, 72.0
        ),
    }


def app():
    from lptui.tui.fleet.app import FleetApp

    fleet = fleet_of()
    return FleetApp(
        Prometheus("http://prometheus.example:9090"),
        job="lptui",
        host_label="instance",
        stale=300,
        interval=3600,
        read=lambda: fleet,
        history=history_of(),
    )


def keys(*pressed: str):
    async def run(pilot) -> None:
        from textual.widgets import DataTable

        table = pilot.app.query_one("#hosts", DataTable)
        for _ in range(200):
            await pilot.pause(0.05)
            if table.row_count == HOSTS and pilot.app._steps is None:
                break
        for key in pressed:
            await pilot.press(key)
            await pilot.pause(0.3)
        await pilot.pause(0.3)

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_fleet_hosts(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_fleet_rollout(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=keys("2"))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_fleet_cve(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=keys("c", *"CVE-2026-4242", "enter"))


def test_fleet_stuck_host_80x24(snap_compare):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("enter"))


def test_fleet_filter_80x24(snap_compare):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("slash", *"down", "enter"))


def test_the_fleet_of_the_snapshots_is_as_described():
    fleet = fleet_of()
    states = [h.state for h in fleet.hosts]
    assert len(fleet.hosts) == HOSTS and states.count("down") == 20 and states.count("in transition") == 50
    assert sum(1 for h in fleet.hosts if h.last_known is not None) == 10  # half the down ones
    assert (
        fleet.hosts[0].transition is not None and fleet.hosts[0].transition.age_seconds == 2640.0
    )  # 44 min: the oldest
