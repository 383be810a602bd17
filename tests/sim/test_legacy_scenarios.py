"""The kgraft, kpatch-core and ksplice demos: the simulator keeps each system's rules and renders the
files its source prints (the same readers parse the fixture trees of tests/legacy_trees.py)."""

from __future__ import annotations

import errno

import pytest

from lptui.core.legacy.kgraft import parse_state_table
from lptui.core.model import Mechanism, Reason
from lptui.core.oncall.kmsg import KmsgReader
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.session import SimSession
from tests import legacy_trees as lt


def test_the_kgraft_demo_is_held_up_by_three_processes_and_finishes_when_they_cross():
    with SimSession.from_scenario("kgraft", speed=0) as session:
        root = session.root
        assert not (root / "sys/kernel/livepatch").exists()  # SLE 12 before the core
        assert not list(root.glob("proc/*/task/*/patch_state"))
        snap = read_snapshot(Tree(root))
        t = snap.transition
        assert (t.mechanism, t.tasks_pending) == (Mechanism.KGRAFT, 3)
        codes = sorted(task.reason_code for task in snap.pending_tasks)
        assert codes == sorted([Reason.KGRAFT_KTHREAD, Reason.KGRAFT_IN_KERNEL, Reason.KGRAFT_IN_KERNEL])
        # the rendered state table is the newest revision's, byte for byte what the fixture builder prints
        state = (root / f"sys/kernel/kgraft/{t.patch}/state").read_text()
        funcs = [(f.name, f.obj, f.sympos, f.state) for f in session.sim.kgraft.patches[-1].funcs]
        assert state == lt.kgraft_object_state(funcs)
        assert parse_state_table(state)[0] == "object-sympos-state"
        assert any(r.text.startswith("kgr still in progress after timeout") for r in session.sim.log)
        # it stays held up as long as the three stay where they are
        session.advance(60)
        assert read_snapshot(Tree(root)).transition.tasks_pending == 3
        # once they cross (here: exit), kGraft's next check finishes the patch
        for pid in list(session.sim.kgraft.stuck):
            for tid in [task.tid for task in session.sim.tasks.values() if task.pid == pid]:
                session.sim.remove_task(tid)
        session.advance(3)
        snap = read_snapshot(Tree(root))
        assert snap.transition is None
        assert {p.stage for p in snap.patches} == {"applied"}
        assert any(r.text == "kgr succeeded" for r in session.sim.log)
        session.render()
        reader = KmsgReader(str(root / "dev/kmsg"))
        kept = [line.text for line in reader.read_new(limit=10_000)]
        reader.close()
        assert "kgr succeeded" in kept  # the console's event log and captures keep kGraft's lines


def test_the_kpatch_core_demo_and_its_enabled_attribute():
    with SimSession.from_scenario("kpatch-core", speed=0) as session:
        snap = read_snapshot(Tree(session.root))
        assert [s.mechanism for s in snap.systems] == [Mechanism.KPATCH_CORE]
        assert {p.name: p.enabled for p in snap.patches} == {
            "kpatch_cve_2014_3153": True,
            "kpatch_meminfo_fix": False,
            "kpatch_xfs_fix": True,
        }
        sim = session.sim
        # kpatch_unregister's activeness safety check: EBUSY while a thread runs a function it restores
        busy = next(iter(sim.tasks.values()))
        busy.stack = [("futex_requeue", None), *busy.stack]
        with pytest.raises(OSError) as exc:
            sim.kpatch_write_enabled("kpatch_cve_2014_3153", "0")
        assert exc.value.errno == errno.EBUSY
        assert any("activeness safety check failed for futex_requeue" in r.text for r in sim.log)
        busy.stack = busy.stack[1:]
        sim.kpatch_write_enabled("kpatch_cve_2014_3153", "0")
        assert sim.modules["kpatch_cve_2014_3153"].refcnt == 0
        with pytest.raises(OSError) as exc:
            sim.kpatch_write_enabled("kpatch_cve_2014_3153", "0")
        assert exc.value.errno == errno.EINVAL


def test_the_ksplice_demo_has_the_core_beside_an_aborted_update():
    with SimSession.from_scenario("ksplice", speed=0) as session:
        snap = read_snapshot(Tree(session.root))
        assert [s.mechanism for s in snap.systems] == [Mechanism.LIVEPATCH, Mechanism.KSPLICE]
        assert {p.name: p.stage for p in snap.patches} == {"8c4o6ucj": "applied", "q2v9xw1e": "preparing"}
        t = snap.transition
        assert (t.mechanism, t.aborted, t.tasks_pending) == (Mechanism.KSPLICE, "code_busy", 2)
        assert {task.comm for task in snap.pending_tasks} == {"sshd", "uptrack-agent"}
        assert all(task.problems == () for task in snap.pending_tasks)  # both still running
        text = (session.root / "sys/kernel/ksplice/q2v9xw1e/conflicts").read_text()
        update = session.sim.ksplice.updates[1]
        assert text == lt.ksplice_conflicts(update.conflicts)
