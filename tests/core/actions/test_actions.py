"""Actions against the simulated kernel: refusals, errno words, waits, force, unload, audit, lock, root."""

import errno
import fcntl
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from lptui.core.actions.actions import WaitTimeout
from lptui.core.errors import ActionError
from lptui.core.tree import Tree
from lptui.sim.control import SimControl
from lptui.sim.kernel import SimKernel
from lptui.sim.rules import PROFILES
from lptui.sim.session import SimSession
from lptui.sim.state import SimTask
from lptui.source import Source

KO = Path(__file__).resolve().parents[2] / "data/ko"


class SpyControl(SimControl):
    def __init__(self, session):
        super().__init__(session)
        self.loads: list[str] = []

    def load_module(self, path):
        self.loads.append(path)
        super().load_module(path)


def sim_source(sim: SimKernel, root) -> Source:
    session = SimSession(sim, root, speed=0)
    return Source(Tree(session.root), "test", read_only=False, session=session)


@pytest.fixture
def env(tmp_path):
    sim = SimKernel(release="6.1.0-56-amd64", features=PROFILES["6.12"])
    sim.add_task(SimTask(1, 1, "systemd", stack=[("ep_poll", None)]))
    with sim_source(sim, tmp_path / "root") as source:
        actions = source.actions()  # the same wiring the CLI and the console use
        control = actions.control = SpyControl(source.session)  # and a spy on what reaches the kernel
        yield actions, sim, control, actions.audit


def stall(sim, actions):
    sim.load_module("lptui_target", taint="OE")
    sim.add_task(
        SimTask(
            50,
            50,
            "lptui_sleeper",
            state="D",
            kthread=True,
            ppid=2,
            stack=[("msleep", None), ("lptui_target_sleep", "lptui_target")],
        )
    )
    actions.load(str(KO / "lptui_lp_target.ko"))


def test_load_and_wait(env):
    actions, sim, _, audit = env
    outcome = actions.load(str(KO / "lptui_lp_cmdline.ko"), wait=True, timeout=5)
    assert "loaded patch 'lptui_lp_cmdline'" in outcome.message
    patch = outcome.snapshot.patch("lptui_lp_cmdline")
    assert patch.enabled and [f.name for o in patch.objects for f in o.functions] == ["cmdline_proc_show"]
    assert audit.sink[-1].endswith("load " + str(KO / "lptui_lp_cmdline.ko") + ": " + outcome.message)
    assert any("lptui:" in r.text and "loaded patch" in r.text for r in sim.log)


def test_malformed_and_unfit_files_are_refused(env, tmp_path):
    actions, sim, control, _ = env
    bad = tmp_path / "bad.ko"
    bad.write_bytes(b"\x7fELF garbage")
    for path, words in ((bad, "corrupt"), (KO / "lptui_plain.ko", "not marked as a livepatch")):
        with pytest.raises(ActionError, match=words):
            actions.load(str(path))
    assert control.loads == []  # the pre-flight refused both: the kernel was never asked
    sim.release = "6.12.0-other"
    sim.user_log("x")  # any change re-renders
    actions.control.session.render()
    # another release with symbol CRCs: same_magic() passes, the CRC check decides; the pre-flight says
    # so (no promise) and the kernel refuses it with its own words (check_version)
    assert actions.inspect(str(KO / "lptui_lp_cmdline.ko")).certain is False
    with pytest.raises(ActionError, match="disagrees about version of symbol module_layout"):
        actions.load(str(KO / "lptui_lp_cmdline.ko"))
    assert "lptui_lp_cmdline" not in sim.modules


def test_load_refused_during_transition_names_it(env):
    actions, sim, control, audit = env
    stall(sim, actions)
    with pytest.raises(ActionError, match="'lptui_lp_target' is in transition"):
        actions.load(str(KO / "lptui_lp_cmdline.ko"))
    assert len(control.loads) == 1
    assert "failed" in audit.sink[-1]


def test_kernel_errno_turns_into_words(env):
    from lptui.core import errors

    actions, sim, control, _ = env
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    sim.write_enabled("lptui_lp_cmdline", "0")  # patch gone, module still loaded
    control.session.render()
    with pytest.raises(OSError) as info:  # what the kernel itself answers
        control.load_module(str(KO / "lptui_lp_cmdline.ko"))
    assert info.value.errno == errno.EEXIST
    assert "already loaded" in errors.explain(errors.LOAD, info.value.errno)
    with pytest.raises(ActionError, match="still loaded"):  # lptui says it before asking the kernel
        actions.load(str(KO / "lptui_lp_cmdline.ko"))


def test_wait_timeout_reports_pending_and_leaves_state(env):
    actions, sim, _, _ = env
    sim.load_module("lptui_target", taint="OE")
    sim.add_task(
        SimTask(
            50,
            50,
            "lptui_sleeper",
            state="D",
            kthread=True,
            ppid=2,
            stack=[("lptui_target_sleep", "lptui_target")],
        )
    )
    with pytest.raises(WaitTimeout) as info:
        actions.load(str(KO / "lptui_lp_target.ko"), wait=True, timeout=3)
    assert info.value.code == 3
    assert [t.comm for t in info.value.pending] == ["lptui_sleeper"]
    assert sim.transition is not None and sim.transition.patch == "lptui_lp_target"


def test_revert_reverses_the_transition_in_progress(env):
    actions, sim, _, _ = env
    stall(sim, actions)
    outcome = actions.revert("lptui_lp_target", wait=True, timeout=5)
    assert "reversed the patching transition" in outcome.message
    assert outcome.snapshot.patch("lptui_lp_target") is None
    assert [m.name for m in outcome.snapshot.inactive_modules] == ["lptui_lp_target"]


def test_revert_refusals(env):
    actions, sim, _, _ = env
    with pytest.raises(ActionError, match="no patch named 'nope'"):
        actions.revert("nope")
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    stall(sim, actions)
    with pytest.raises(ActionError, match="'lptui_lp_target' is in transition"):
        actions.revert("lptui_lp_cmdline")


def test_revert_and_unload(env):
    actions, sim, _, _ = env
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    outcome = actions.revert("lptui_lp_cmdline", unload=True)
    assert "unloaded" in outcome.message and "lptui_lp_cmdline" not in sim.modules


def test_force_needs_yes_and_only_for_transition_patch(env):
    actions, sim, _, _ = env
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    with pytest.raises(ActionError, match="not in transition"):
        actions.force("lptui_lp_cmdline", yes=True)
    stall(sim, actions)
    with pytest.raises(ActionError) as info:
        actions.force("lptui_lp_target", yes=False)
    text = f"{info.value} {info.value.detail}"  # the refusal, then what forcing would break
    assert "consistency guarantee" in text and "lptui_sleeper(50)" in text and "revert" in text
    assert sim.transition is not None  # nothing was done
    outcome = actions.force("lptui_lp_target", yes=True)
    assert outcome.snapshot.transition is None
    assert any("forcing remaining tasks" in r.text for r in sim.log)


def test_unload_refused_after_forced_unpatching(env):
    actions, sim, _, _ = env
    sim.load_module("lptui_target", taint="OE")
    actions.load(str(KO / "lptui_lp_target.ko"))
    sim.add_task(
        SimTask(50, 50, "lptui_sleeper", kthread=True, stack=[("lptui_lp_target_sleep", "lptui_lp_target")])
    )
    sim.tasks[50].patch_state = -1
    actions.revert("lptui_lp_target")  # unpatching stalls: the sleeper runs the new code
    with pytest.raises(ActionError, match="in transition"):
        actions.unload("lptui_lp_target")
    with pytest.raises(ActionError) as info:
        actions.force("lptui_lp_target", yes=False)
    text = f"{info.value} {info.value.detail}"  # the refusal, then what forcing would break
    assert "can never be unloaded until reboot" in text
    actions.force("lptui_lp_target", yes=True)
    with pytest.raises(ActionError, match="forced while being removed"):
        actions.unload("lptui_lp_target")


def test_unload(env):
    actions, sim, _, _ = env
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    with pytest.raises(ActionError, match="still enabled"):
        actions.unload("lptui_lp_cmdline")
    actions.revert("lptui_lp_cmdline", wait=True)
    assert "unloaded" in actions.unload("lptui_lp_cmdline").message
    with pytest.raises(ActionError, match="no module named"):
        actions.unload("lptui_lp_cmdline")
    sim.load_module("ext4", taint="")
    actions.control.session.render()
    with pytest.raises(ActionError, match="not a livepatch module"):
        actions.unload("ext4")


def test_signal_only_where_the_kernel_has_it(env, tmp_path):
    actions, _, _, _ = env
    actions.load(str(KO / "lptui_lp_cmdline.ko"))
    with pytest.raises(ActionError, match="by itself every 15 seconds"):
        actions.signal("lptui_lp_cmdline")
    old = SimKernel(release="6.1.0-56-amd64", features=PROFILES["5.0"])
    with sim_source(old, tmp_path / "old") as source:
        a = source.actions()
        old.load_module("lptui_target", taint="OE")
        old.add_task(SimTask(9, 9, "k", kthread=True, stack=[("lptui_target_sleep", "lptui_target")]))
        a.load(str(KO / "lptui_lp_target.ko"))
        assert "signalled" in a.signal("lptui_lp_target").message


def test_root_required_on_a_live_kernel(env, monkeypatch):
    actions, _, control, audit = env
    actions.require_root = True
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ActionError, match="must be run as root"):
        actions.load(str(KO / "lptui_lp_cmdline.ko"))
    assert control.loads == [] and "failed" in audit.sink[-1]


def test_one_action_at_a_time(env):
    actions, _, control, _ = env
    fd = os.open(actions.lock_path, os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(ActionError, match=r"another lptui action is running \(pid 4242\)"):
            actions.load(str(KO / "lptui_lp_cmdline.ko"))
    finally:
        os.close(fd)
    assert control.loads == []
    actions.load(str(KO / "lptui_lp_cmdline.ko"))


def test_incompatible_states_quote_the_kernel(env):
    """The selftests' "incompatible cumulative livepatches": state version 2 installed, version 1
    refused with EINVAL; the message quotes the kernel's own line and no longer blames the marking."""
    actions = env[0]
    actions.load(str(KO / "lptui_lp_state2.ko"), wait=True, timeout=5)
    ins = actions.inspect(str(KO / "lptui_lp_state1.ko"))
    assert ins.loadable and not ins.certain and "cannot tell" in ins.verdict
    with pytest.raises(ActionError) as info:
        actions.load(str(KO / "lptui_lp_state1.ko"))
    message = str(info.value)
    assert info.value.errno == errno.EINVAL
    assert "not compatible with the already installed livepatches" in message
    assert "(EINVAL)" in message and "not marked as a livepatch" not in message
    assert "\n" not in message
    assert [p.name for p in actions.snapshot().patches] == ["lptui_lp_state2"]  # nothing changed


def test_compatible_newer_state_replaces(env):
    actions = env[0]
    actions.load(str(KO / "lptui_lp_state1.ko"), wait=True, timeout=5)
    actions.load(str(KO / "lptui_lp_state2.ko"), wait=True, timeout=5)
    assert [p.name for p in actions.snapshot().patches] == ["lptui_lp_state2"]


def test_inspect_with_no_patch_loaded_is_certain(env):
    actions, _, _, _ = env
    ins = actions.inspect(str(KO / "lptui_lp_state1.ko"))
    assert ins.loadable and ins.certain and ins.verdict.startswith("Loadable")


def test_installed_states_read_from_the_patch_files(env, tmp_path):
    """With the installed patch's file found (provenance), its system states are read from it: the
    pre-flight then says what the kernel will say, instead of "cannot tell"."""
    actions, sim, _, _ = env
    actions.load(str(KO / "lptui_lp_state2.ko"), wait=True, timeout=5)
    installed = Path(actions.tree.root) / f"lib/modules/{sim.release}/livepatch"
    installed.mkdir(parents=True)
    shutil.copy(KO / "lptui_lp_state2.ko", installed)
    ins = actions.inspect(str(KO / "lptui_lp_state1.ko"))
    assert not ins.loadable and ins.certain
    assert any("system state 1 at version 2" in e and "EINVAL" in e for e in ins.errors)
    with pytest.raises(ActionError, match="not compatible"):
        actions.load(str(KO / "lptui_lp_state1.ko"))


def test_a_stopped_ksplice_update_does_not_block_the_core(env):
    """Ksplice's aborted update is shown as a transition, but it is not the core's: loading, reverting
    and the pre-flight go on as the kernel would."""
    from lptui.sim.legacy import KspliceSim, KspliceUpdate

    actions, sim, _, _ = env
    sim.ksplice = KspliceSim(
        [
            KspliceUpdate(
                "k1", stage="preparing", abort_cause="code_busy", conflicts=[("systemd", 1, ["ep_poll"])]
            )
        ]
    )
    sim._changed()
    ins = actions.inspect(str(KO / "lptui_lp_replace.ko"))
    assert ins.loadable and not any("transition" in c.text for c in ins.checks)
    assert ins.preview is not None and not any("k1" in line for line in map(str, ins.preview.reverted))
    outcome = actions.load(str(KO / "lptui_lp_cmdline.ko"), wait=True, timeout=5)
    assert outcome.snapshot.transition.mechanism == "ksplice"  # the stopped update is shown again
    assert "disabled patch" in actions.revert("lptui_lp_cmdline").message
    with pytest.raises(ActionError, match="ksplice-undo"):
        actions.revert("k1")


def test_a_kpatch_core_patch_in_use_is_explained():
    from lptui.source import open_source

    with open_source(demo="kpatch-core") as source:
        actions = source.actions()
        sim = source.session.sim
        task = next(iter(sim.tasks.values()))
        task.stack = [("futex_requeue", None), *task.stack]
        with pytest.raises(ActionError, match="activeness safety check") as exc:
            actions.revert("kpatch_cve_2014_3153")
        assert exc.value.errno == errno.EBUSY
        assert actions.snapshot().patch("kpatch_cve_2014_3153").enabled  # nothing changed
        with pytest.raises(ActionError, match="already disabled"):
            actions.revert("kpatch_meminfo_fix")


def test_the_preflight_uses_the_life_cycle_it_is_given(env, monkeypatch):
    """The console's View already holds the life cycle: the pre-flight reads the module directories
    again only when that life cycle does not cover every patch loaded now (issue 18)."""
    from lptui.core.actions.preflight import inspect_file
    from lptui.core.lifecycle import provenance
    from lptui.core.snapshot import read_snapshot

    actions, sim, _, _ = env
    actions.load(str(KO / "lptui_lp_state2.ko"), wait=True, timeout=5)
    installed = Path(actions.tree.root) / f"lib/modules/{sim.release}/livepatch"
    installed.mkdir(parents=True)
    shutil.copy(KO / "lptui_lp_state2.ko", installed)
    snap = read_snapshot(actions.tree)
    held = provenance.read_life_cycle(actions.tree, snap)
    reads = []
    real = provenance.read_life_cycle
    monkeypatch.setattr(provenance, "read_life_cycle", lambda *a: reads.append(a) or real(*a))
    ins = inspect_file(str(KO / "lptui_lp_state1.ko"), snap, actions.tree, (), held)
    assert reads == [] and any("system state 1 at version 2" in e for e in ins.errors)
    stale = provenance.read_life_cycle(actions.tree, replace(snap, patches=()))  # before the load
    reads.clear()
    ins = inspect_file(str(KO / "lptui_lp_state1.ko"), snap, actions.tree, (), stale)
    assert len(reads) == 1 and any("system state 1 at version 2" in e for e in ins.errors)
