"""Each livepatch rule of the simulated kernel, checked through the files it renders."""

import errno

import pytest

from lptui.core.declared import PlannedFunction, PlannedObject
from lptui.core.model import Direction
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.kernel import SimKernel
from lptui.sim.rules import kstrtobool
from lptui.sim.session import SimSession
from lptui.sim.state import PatchSpec, SimTask

A = PatchSpec("lp_a", (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"),)),))
B = PatchSpec("lp_b", (PlannedObject("vmlinux", (PlannedFunction("meminfo_proc_show"),)),))
R = PatchSpec("lp_r", (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"),)),), replace=True)
TARGET_FN = [("sleeper_fn", "target"), ("kthread", None)]
STALL = PatchSpec("lp_stall", (PlannedObject("target", (PlannedFunction("sleeper_fn"),)),))


@pytest.fixture
def session(tmp_path):
    sim = SimKernel()
    sim.load_module("target", taint="OE")
    sim.add_task(SimTask(1, 1, "systemd", stack=[("ep_poll", None)]))
    sim.add_task(SimTask(7, 7, "sleeper", kthread=True, ppid=2, stack=list(TARGET_FN)))
    with SimSession(sim, tmp_path / "root", speed=0) as s:
        yield s


def snap(session):
    session.render()
    return read_snapshot(Tree(session.root))


def errno_of(fn, *args, **kw):
    with pytest.raises(OSError) as info:
        fn(*args, **kw)
    return info.value.errno


def test_load_enables_and_completes(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    s = snap(session)
    assert s.transition is None  # no task had cmdline_proc_show on its stack: first try completes
    (p,) = s.patches
    assert p.enabled and p.module.refcnt == 1 and "K" in p.module.taint
    assert [f.letter for f in s.kernel.taint_flags] == ["O", "E", "K"]
    assert any("'lp_a': patching complete" in r.text for r in sim.log)


def test_one_transition_at_a_time(session):
    sim = session.sim
    sim.load_module("lp_stall", patch=STALL)
    assert snap(session).transition.patch == "lp_stall"
    assert errno_of(sim.load_module, "lp_a", patch=A) == errno.EBUSY
    assert "lp_a" not in sim.modules
    # a failed load still tainted the kernel (taint happens before module init)
    assert sim.taint & (1 << 15)


def test_disable_other_patch_during_transition_is_ebusy(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    sim.load_module("lp_stall", patch=STALL)
    assert errno_of(sim.write_enabled, "lp_a", "0") == errno.EBUSY


def test_einval_cases(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    assert errno_of(sim.write_enabled, "lp_a", "1") == errno.EINVAL  # already enabled
    assert errno_of(sim.write_enabled, "lp_a", "maybe") == errno.EINVAL  # kstrtobool
    assert errno_of(sim.write_force, "lp_a", "1") == errno.EINVAL  # not in transition
    sim.load_module("lp_stall", patch=STALL)
    assert errno_of(sim.write_enabled, "lp_stall", "1") == errno.EINVAL  # target value again


def test_cannot_reenable_a_disabling_patch_after_completion(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    sim.write_enabled("lp_a", "0")
    session.advance(1)
    assert errno_of(sim.write_enabled, "lp_a", "1") == errno.ENOENT  # sysfs dir gone


def test_stalled_transition_and_reversal(session):
    sim = session.sim
    sim.load_module("lp_stall", patch=STALL)
    session.advance(5)
    s = snap(session)
    assert s.transition.direction is Direction.PATCHING
    (task,) = s.pending_tasks
    assert task.comm == "sleeper" and task.blocking_functions == ("sleeper_fn",)
    sim.write_enabled("lp_stall", "0")  # reverse
    s = snap(session)
    assert s.transition.direction is Direction.UNPATCHING and s.patches[0].enabled is False
    session.advance(1)
    s = snap(session)
    assert s.transition is None and s.patches == ()
    assert [m.name for m in s.inactive_modules] == ["lp_stall"]
    assert s.inactive_modules[0].refcnt == 0


def test_disabled_patch_vanishes_module_stays(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    sim.write_enabled("lp_a", "0")
    assert snap(session).transition is None  # nothing pinned: completes on the first try
    assert not (session.root / "sys/kernel/livepatch/lp_a").exists()
    assert (session.root / "sys/module/lp_a/refcnt").read_text() == "0\n"
    sim.unload_module("lp_a")
    assert not (session.root / "sys/module/lp_a").exists() or snap(session).inactive_modules == ()


def test_unload_refused_while_in_use(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    assert errno_of(sim.unload_module, "lp_a") == errno.EWOULDBLOCK
    assert errno_of(sim.unload_module, "nothing") == errno.ENOENT
    assert errno_of(sim.load_module, "lp_a", patch=A) == errno.EEXIST


def test_force_only_for_transition_patch_and_completes(session):
    sim = session.sim
    sim.load_module("lp_stall", patch=STALL)
    sim.write_force("lp_stall", "0")  # false is a no-op
    assert sim.transition is not None
    sim.write_force("lp_stall", "1")
    assert any("forcing remaining tasks to the patched state" in r.text for r in sim.log)
    assert sim.transition is not None  # the delayed work completes it
    session.advance(1)
    assert snap(session).transition is None


def test_forced_unpatch_keeps_module_reference_forever(session):
    sim = session.sim
    sim.load_module("lp_stall", patch=STALL)
    sim.write_enabled("lp_stall", "0")  # reverse: now unpatching
    sim.tasks[7].stack = [("livepatch_sleeper_fn", "lp_stall")]  # now pinned in the new code
    sim.tasks[7].patch_state = 1
    session.advance(2)
    assert sim.transition is not None
    sim.write_force("lp_stall", "1")
    session.advance(1)
    s = snap(session)
    assert s.patches == () and s.inactive_modules[0].refcnt == 1
    assert errno_of(sim.unload_module, "lp_stall") == errno.EWOULDBLOCK


def test_atomic_replace_removes_replaced_patches_and_nops(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    sim.load_module("lp_b", patch=B)
    sim.tasks[1].switch_after = 3.0  # keep the transition open a little
    sim.load_module("lp_r", patch=R)
    s = snap(session)
    r = s.patch("lp_r")
    assert r.transition and r.replace
    assert {f.name for o in r.objects for f in o.functions} == {"cmdline_proc_show", "meminfo_proc_show"}
    session.advance(4)
    s = snap(session)
    assert [p.name for p in s.patches] == ["lp_r"]
    assert [f.name for o in s.patches[0].objects for f in o.functions] == ["cmdline_proc_show"]  # nop gone
    assert sorted(m.name for m in s.inactive_modules) == ["lp_a", "lp_b"]
    assert s.patches[0].stack_order == 1


def test_stack_order_renumbers(session):
    sim = session.sim
    sim.load_module("lp_a", patch=A)
    sim.load_module("lp_b", patch=B)
    assert [p.stack_order for p in snap(session).patches] == [1, 2]
    sim.write_enabled("lp_a", "0")
    s = snap(session)
    assert [(p.name, p.stack_order) for p in s.patches] == [("lp_b", 1)]


def test_signal_notice_once_about_15s_in(session):
    sim = session.sim
    sim.add_task(SimTask(30, 30, "reader", stack=[("sleeper_fn", "target")], wakes_on_signal=True))
    sim.load_module("lp_stall", patch=STALL)
    session.advance(14.5)
    assert not any("signaling" in r.text for r in sim.log)
    session.advance(1)
    notices = [r for r in sim.log if "signaling remaining tasks" in r.text]
    assert len(notices) == 1 and 14.5 <= notices[0].time <= 15.5
    assert sim.tasks[30].patch_state == 1  # the fake signal sent it back to user space
    assert sim.tasks[7].patch_state == 0  # the kthread is only woken: still pinned
    session.advance(30)
    assert len([r for r in sim.log if "signaling remaining tasks" in r.text]) == 1


def test_forked_task_inherits_parent_state(session):
    sim = session.sim
    sim.load_module("lp_stall", patch=STALL)
    sim.add_task(SimTask(40, 40, "child", ppid=7))
    assert sim.tasks[40].patch_state == 0


def test_target_module_load_and_unload_patch_object(session):
    sim = session.sim
    spec = PatchSpec("lp_m", (PlannedObject("later", (PlannedFunction("later_fn"),)),))
    sim.load_module("lp_m", patch=spec)
    assert snap(session).patches[0].objects[0].patched is False
    sim.load_module("later", taint="")
    assert snap(session).patches[0].objects[0].patched is True
    sim.unload_module("later")
    assert snap(session).patches[0].objects[0].patched is False
    assert any("reverting patch 'lp_m' on unloading module 'later'" in r.text for r in sim.log)


def test_ftrace_disabled_makes_load_fail_ebusy(session):
    sim = session.sim
    sim.set_ftrace_enabled(False)
    assert errno_of(sim.load_module, "lp_a", patch=A) == errno.EBUSY
    assert any("failed to register ftrace handler" in r.text for r in sim.log)
    sim.set_ftrace_enabled(True)
    sim.load_module("lp_a", patch=A)
    assert errno_of(sim.set_ftrace_enabled, False) == errno.EBUSY


def test_signal_attribute_only_on_old_kernels(tmp_path):
    sim = SimKernel(features={"transition", "force", "signal"})
    sim.add_task(SimTask(7, 7, "k", kthread=True, stack=list(TARGET_FN)))
    sim.load_module("target", taint="")
    sim.load_module("lp_stall", patch=STALL)
    sim.write_signal("lp_stall", "1")
    with SimSession(sim, tmp_path / "r", speed=0) as s:
        assert (s.root / "sys/kernel/livepatch/lp_stall/signal").exists()
        assert not (s.root / "sys/kernel/livepatch/lp_stall/replace").exists()
    modern = SimKernel()
    modern.load_module("lp_a", patch=A)
    assert errno_of(modern.write_signal, "lp_a", "1") == errno.ENOENT


def test_kstrtobool():
    for text in ("1", "y", "Y", "yes", "on", "true", "1\n"):
        assert kstrtobool(text) is True
    for text in ("0", "n", "no", "off", "false"):
        assert kstrtobool(text) is False
    for text in ("", "2", "o", "maybe", "-1"):
        with pytest.raises(OSError):
            kstrtobool(text)


def test_file_modes_match_kernel(session):
    import stat

    session.sim.load_module("lp_a", patch=A)
    session.render()
    base = session.root / "sys/kernel/livepatch/lp_a"
    modes = {name: stat.filemode((base / name).stat().st_mode) for name in ("enabled", "force", "transition")}
    assert modes == {"enabled": "-rw-r--r--", "force": "--w-------", "transition": "-r--r--r--"}
    assert stat.filemode((session.root / "proc/7/task/7/patch_state").stat().st_mode) == "-r--------"
