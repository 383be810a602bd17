"""`lptui watch` (plain lines, one per change) and `lptui tasks -v` (stacks with patched frames)."""

from __future__ import annotations

import subprocess
import sys

from lptui.cli.follow_cmd import Follower
from lptui.cli.main import main
from lptui.source import open_source
from lptui.watch.poller import Poller


def test_follower_tells_each_change_until_complete():
    with open_source(demo="replace") as source:
        poller = Poller(source)
        follower = Follower()
        out = follower.lines(poller.poll())
        assert out[0].startswith("started: livepatch_cumulative_3 patching, 286 threads, running for")
        assert "from the kernel log" in out[0] and out[-1] == "25 of 286 threads pending"
        assert sum(line.startswith("blocker: ") for line in out) == 25
        seen: list[str] = []
        for _ in range(60):
            source.session.advance(1)
            seen += follower.lines(poller.poll())
            if follower.ended:
                break
        assert any(line.startswith("released: ") for line in seen)
        assert any(line.startswith("signal sent") for line in seen)
        assert seen[-1] == "complete: livepatch_cumulative_3 patching finished"
        poller.close()


def test_watch_says_in_effect_at_the_end_and_ties_a_warning_after_it():
    """`watch`'s aftermath: in effect (ftrace's table, read at the transition's end), then the kernel's
    WARNING in the new patch's module as its post-load health, once; exit 7 then (`unwell`)."""
    with open_source(demo="replace") as source:
        poller = Poller(source)
        follower = Follower()
        follower.lines(poller.poll())
        said: list[str] = []
        for _ in range(60):
            source.session.advance(1)
            view = poller.poll()
            follower.lines(view)
            said += follower.aftermath(view)
            if follower.ended:
                break
        assert said == [
            "in effect: ftrace runs livepatch_cumulative_3's handler on every function it patches"
        ]
        assert not follower.unwell
        warning = "WARNING: CPU: 1 PID: 4242 at x.c:9 cmdline_proc_show+0x1d/0x40 [livepatch_cumulative_3]"
        with source.session.lock:
            source.session.sim._log(4, warning)
            source.session.sim._changed()  # the rendered log follows the kernel's
            source.session.render()
        later = follower.aftermath(poller.poll())
        how = "in its module livepatch_cumulative_3"
        assert later == [f"post-load: WARNING after livepatch_cumulative_3 ({how}): {warning}"]
        assert follower.unwell and follower.aftermath(poller.poll()) == []
        poller.close()


def test_follower_on_kgraft_and_ksplice():
    with open_source(demo="kgraft") as source:
        poller = Poller(source)
        follower = Follower()
        out = follower.lines(poller.poll())
        assert out[0].startswith("started (kgraft): kgraft_patch_1_2_2 patching, 72 processes")
        assert "does not log its start" in out[0] and out[-1] == "3 of 72 processes pending"
        sim = source.session.sim
        with source.session.lock:
            for pid in list(sim.kgraft.stuck):
                sim.remove_task(pid)  # the three exit: kGraft's next check finishes
        source.session.advance(3)
        seen = follower.lines(poller.poll())
        assert seen[-1] == "complete: kgraft_patch_1_2_2 patching finished"
        poller.close()
    with open_source(demo="ksplice") as source:
        poller = Poller(source)
        out = Follower().lines(poller.poll())
        assert (
            out[0].startswith("aborted: Ksplice update q2v9xw1e (code_busy)")
            and out[-1] == "2 processes pending"
        )
        poller.close()


def test_follower_sees_a_reversal_and_a_force():
    with open_source(demo="stuck") as source:
        poller = Poller(source)
        follower = Follower()
        follower.lines(poller.poll())
        actions = source.actions()
        actions.revert("kpatch_cve_2026_4242")
        lines = follower.lines(poller.poll())
        assert "reversed: kpatch_cve_2026_4242 is now unpatching" in lines
        actions.force("kpatch_cve_2026_4242", yes=True)
        lines = follower.lines(poller.poll())
        assert any(line.startswith("forced: livepatch: forcing remaining tasks") for line in lines)
        assert lines[-1] == "complete: kpatch_cve_2026_4242 unpatching finished"
        poller.close()


def test_watch_times_out_with_exit_3():
    proc = subprocess.run(
        [sys.executable, "-m", "lptui", "--demo", "stuck", "watch", "--timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = proc.stdout.splitlines()
    assert proc.returncode == 3, proc.stderr
    assert "started: kpatch_cve_2026_4242 patching, 289 threads, running for 2 h 14 m" in lines[0]
    assert lines[-1].endswith("timeout: still in transition after 2 s (nothing was changed)")


def test_watch_without_transition_says_so(capsys):
    assert main(["watch", "--demo", "idle"]) == 0
    assert capsys.readouterr().out.strip().endswith("no transition in progress")


def test_tasks_verbose_marks_the_patched_frames(capsys):
    assert main(["tasks", "--demo", "stuck", "-v"]) == 0
    out = capsys.readouterr().out
    assert ">> [<0>] xfsaild+0x2cc/0x3e0 [xfs]" in out and ">> [<0>] ext4_sync_file+" in out
    assert "   [<0>] kthread+" in out  # unmarked frames stay
    assert out.count("pending for 2 h 14 m: since the transition started (the kernel log)") == 3
    assert "stack: unreadable" in out
