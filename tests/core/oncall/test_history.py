"""The kernel log's memory of this boot: the transition's real age, reversals, forced transitions."""

from __future__ import annotations

import json

from lptui.cli.main import main
from lptui.core.model import Direction, TransitionInfo
from lptui.core.oncall.history import KernelClock, LogHistory, age_text, transition_age
from lptui.core.oncall.kmsg import LogLine


def clock(seconds: float | None) -> KernelClock:
    return KernelClock(seconds, seconds, "test")


def lines(*items: tuple[float, str]) -> list[LogLine]:
    return [LogLine(i, int(t * 1e6), 5, text) for i, (t, text) in enumerate(items)]


T = TransitionInfo("lp_x", Direction.PATCHING, 1)
U = TransitionInfo("lp_x", Direction.UNPATCHING, 0)


def test_age_from_the_start_line():
    h = LogHistory()
    h.feed(
        lines(
            (100.0, "livepatch: enabling patch 'lp_x'"),
            (100.5, "livepatch: 'lp_x': starting patching transition"),
        )
    )
    age = transition_age(T, h, clock(8140.5), wall_now=1_800_000_000.0, observed_since=None)
    assert age.source == "kernel-log" and age.age_seconds == 8040.0
    assert age.started_at == 1_800_000_000.0 - 8040.0 and age.started_iso().startswith("2027-01-15T")


def test_a_reversal_starts_a_new_transition():
    h = LogHistory()
    h.feed(
        lines(
            (10.0, "livepatch: 'lp_x': starting patching transition"),
            (50.0, "livepatch: 'lp_x': reversing transition from patching to unpatching"),
            (50.1, "livepatch: 'lp_x': starting unpatching transition"),
        )
    )
    assert transition_age(U, h, clock(60.1), 1e9, None).age_seconds == 10.0
    # and a completed transition is no longer "the" start of a later one with the same name
    h.feed(lines((70.0, "livepatch: 'lp_x': unpatching complete")))
    assert transition_age(U, h, clock(80.0), 1e9, 1e9 - 3).source == "observed"


def test_wrapped_or_unreadable_log_falls_back_to_observed():
    age = transition_age(T, LogHistory(), clock(500.0), wall_now=1000.0, observed_since=990.0)
    assert (age.source, age.age_seconds, age.started_at) == ("observed", 10.0, 990.0)
    age = transition_age(T, LogHistory(), clock(None), wall_now=1000.0, observed_since=None)
    assert (age.source, age.age_seconds) == ("observed", 0.0)


def test_force_is_remembered_with_the_patch_named_nearby():
    h = LogHistory()
    h.feed(
        lines(
            (10.0, "livepatch: 'lp_a': starting patching transition"),
            (12.0, "livepatch: 'lp_a': patching complete"),
            (20.0, "livepatch: 'lp_b': starting unpatching transition"),
            (40.0, "livepatch: forcing remaining tasks to the patched state"),
        )
    )
    (force,) = h.forces
    assert force.patch == "lp_b" and force.usec == 40_000_000 and "forcing" in force.text


def test_age_text():
    assert [age_text(s) for s in (5, 125, 8040, 2 * 86400 + 7200)] == [
        "5 s",
        "2 m 05 s",
        "2 h 14 m",
        "2 d 2 h",
    ]
    # the console's narrow columns: the same units, unspaced (one format, issue 18)
    assert [age_text(s, compact=True) for s in (0, 12, 125, 8040, 2 * 86400 + 7200)] == [
        "0s",
        "12s",
        "2m05s",
        "2h14m",
        "2d2h",
    ]


def test_status_json_on_the_demo_carries_age_and_forced(capsys):
    assert main(["status", "--demo", "stuck", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    t = data["transition"]
    assert (
        t["age_source"] == "kernel-log" and t["age_seconds"] == 8040.0 and t["started_at"].endswith("+00:00")
    )
    assert data["forced_this_boot"] == {"forced": False, "evidence": [], "log_problem": None}


def test_forced_this_boot_after_a_demo_force(tmp_path, capsys):
    from lptui.core.tree import Tree
    from lptui.sim.session import SimSession
    from lptui.source import Source

    with SimSession.from_scenario("stuck", tmp_path / "root", speed=0) as session:
        source = Source(Tree(session.root), "t", read_only=False, session=session)
        source.actions().force("kpatch_cve_2026_4242", yes=True)
        oncall = source.on_call(source.actions().snapshot(), 1e9)
        assert oncall.forced_this_boot is True
        (evidence,) = [e for e in oncall.forced if e.source == "kernel-log"]
        assert evidence.patch == "kpatch_cve_2026_4242"
        assert main(["status", "--root", str(session.root)]) == 0
        out = capsys.readouterr().out
        assert "Forced this boot" in out and "planned reboot" in out
        assert main(["check", "--root", str(session.root)]) == 2
        assert "forced this boot (kpatch_cve_2026_4242)" in capsys.readouterr().out
        # inspect and load say it; so does the console's status line
        from pathlib import Path

        from lptui.tui.status_line import status_of
        from lptui.watch.poller import Poller

        ko = Path(__file__).resolve().parents[2] / "data/ko/lptui_lp_cmdline.ko"
        checks = [c.text for c in source.inspect(str(ko)).checks]
        assert any("forced this boot" in c and "planned reboot" in c for c in checks)
        assert any("forced this boot" in c.text for c in source.actions().inspect(str(ko)).checks)
        view = Poller(source).poll()
        assert status_of(view)[0][0].startswith("FORCED THIS BOOT")


def test_the_age_is_on_the_kernel_logs_clock_never_proc_uptime(tmp_path):
    """Issue 29: a live patch of uptime_proc_show made every transition 0 s old. The age is measured on
    the log's own clock: CLOCK_MONOTONIC on a live host, the capture's own clock in a replay; a saved tree
    with neither uses its /proc/uptime and says so."""
    import io
    import tarfile

    from lptui.core.oncall.history import live_clock
    from lptui.source import open_source

    now = live_clock()
    assert now.monotonic is not None and now.boottime is not None and now.boottime >= now.monotonic - 1
    meta = {"lptui_version": "0.1.0", "captured_at_unix": 1_800_000_000.0, "monotonic": 8140.5}
    files = {
        "lptui-capture.json": json.dumps(meta),
        "proc/uptime": "0.00 0.00\n",  # what the live patch made it say
        "proc/sys/kernel/osrelease": "6.1.0-28-amd64\n",
        "sys/kernel/livepatch/lp_x/enabled": "1\n",
        "sys/kernel/livepatch/lp_x/transition": "1\n",
        "dev/kmsg": "5,1,100500000,-;livepatch: 'lp_x': starting patching transition\n",
    }
    bundle = tmp_path / "c.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open_source(root=str(bundle)) as source:
        clock = source.kernel_clock()
        assert (clock.monotonic, clock.source) == (8140.5, "the capture's CLOCK_MONOTONIC")
        from lptui.core.snapshot import read_snapshot

        age = source.on_call(read_snapshot(source.tree), source.wall_now()).age
        assert (age.source, age.age_seconds) == ("kernel-log", 8040.0)
