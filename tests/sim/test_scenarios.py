import os

from lptui.core.model import Direction, Reason
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.session import SimSession


def read(name):
    with SimSession.from_scenario(name, speed=0) as s:
        return read_snapshot(Tree(s.root))


def test_idle():
    s = read("idle")
    assert s.transition is None and len(s.patches) == 2
    assert all(p.enabled for p in s.patches)


def test_stuck_has_three_kinds_of_holdouts():
    s = read("stuck")
    assert s.transition.direction is Direction.PATCHING and s.transition.tasks_total >= 200
    codes = {t.reason_code for t in s.pending_tasks}
    assert codes == {Reason.KTHREAD_IN_PATCHED, Reason.UNINTERRUPTIBLE, Reason.STACK_UNREADABLE}
    kthread = next(t for t in s.pending_tasks if t.kthread)
    assert kthread.blocking_functions == ("xfsaild",)


def test_stuck_keeps_its_three_blockers_through_the_fake_signal():
    """README and --help promise three blockers: the demo shows them however long one looks."""
    with SimSession.from_scenario("stuck", speed=0) as session:
        before = {t.tid for t in read_snapshot(Tree(session.root)).pending_tasks}
        for _ in range(6):
            session.advance(100)
            s = read_snapshot(Tree(session.root))
            assert {t.tid for t in s.pending_tasks} == before and len(before) == 3
        assert any("signaling remaining tasks" in r.text for r in session.sim.log)


def test_replace_in_progress_then_done():
    with SimSession.from_scenario("replace", speed=0) as session:
        s = read_snapshot(Tree(session.root))
        assert s.transition.patch == "livepatch_cumulative_3" and len(s.patches) == 3
        session.advance(30)
        s = read_snapshot(Tree(session.root))
        assert [p.name for p in s.patches] == ["livepatch_cumulative_3"] and len(s.inactive_modules) == 2


def test_unpatch_is_reversed_transition():
    s = read("unpatch")
    assert s.transition.direction is Direction.UNPATCHING
    assert s.pending_tasks and all("[livepatch_tcp_fix]" in t.blocking_functions[0] for t in s.pending_tasks)


def test_speed_driven_sync_uses_clock():
    now = [0.0]
    with SimSession.from_scenario("stuck", speed=2.0, clock=lambda: now[0]) as session:
        start = session.sim.now
        now[0] = 3.0
        session.sync()
        assert session.sim.now == start + 6.0


def test_a_demo_leaves_no_tree_behind(tmp_path):
    """A session's tree in /dev/shm goes at close(), and also when Python exits without one."""
    import subprocess
    import sys

    code = (
        "from lptui.sim.session import SimSession\n"
        "kept = SimSession.from_scenario('stuck')\n"
        "closed = SimSession.from_scenario('idle')\n"
        "closed.close()\n"
        "print(kept.root, closed.root, closed.root.exists(), kept.root.exists())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    kept, closed, closed_exists, kept_exists = out
    assert (closed_exists, kept_exists) == ("False", "True")  # still there while the process ran
    assert not os.path.exists(kept) and not os.path.exists(closed)


def test_kprobe_scenario_refuses_the_tcp_fix_as_the_kernel_does(capsys):
    """README's kprobe row: inspect exits 4 naming the kprobe and EBUSY, load refuses it before the
    kernel is asked, the simulated kernel asked directly logs the real kernel's line, and the loaded CVE
    patch stays in effect beside the plain kprobe."""
    import errno
    import json

    import pytest

    from lptui.cli.main import main
    from lptui.sim.control import SimControl

    path = "/lib/modules/6.16.0-lptui-demo/livepatch/livepatch_tcp_fix.ko"
    assert main(["--demo", "kprobe", "inspect", path]) == 4
    said = capsys.readouterr().out
    assert "tcp_recvmsg is owned by a kprobe with a post_handler" in " ".join(said.split())
    assert main(["--demo", "kprobe", "load", path]) == 1
    assert "refusing to load livepatch_tcp_fix" in capsys.readouterr().err
    assert main(["--demo", "kprobe", "status", "--json"]) == 0
    effect = json.loads(capsys.readouterr().out)["in_effect"]
    assert "livepatch_cve_2026_0815" in effect["checked"] and effect["findings"] == []
    with SimSession.from_scenario("kprobe", speed=0) as session:
        with pytest.raises(OSError) as refused:
            SimControl(session).load_module(str(session.root / path.lstrip("/")))
        assert refused.value.errno == errno.EBUSY
        log = [r.text for r in session.sim.log]
        assert "livepatch: failed to register ftrace handler for function 'tcp_recvmsg' (-16)" in log
