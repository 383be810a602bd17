"""lptui's actions on a real kernel: each does what it says, and status agrees with sysfs afterwards."""

import contextlib
import errno
import io
import subprocess
from pathlib import Path

import pytest

from lptui.cli.main import main
from lptui.core.actions.actions import Actions
from lptui.core.actions.audit import Audit
from lptui.core.actions.control import LiveControl
from lptui.core.errors import ActionError
from lptui.core.tree import Tree
from tests.realkernel.guest import kmod
from tests.realkernel.guest.kmod import (
    LP,
    MODULES,
    insmod,
    lptui,
    pending_tids_by_kernel,
    pid_of,
    read,
    wait_for,
)

ORIGINAL_CMDLINE = read("/proc/cmdline")


@pytest.fixture
def actions(tmp_path):
    return Actions(Tree("/"), LiveControl("/"), Audit(), lock_path=tmp_path / "lptui.lock")


def ko(name: str) -> str:
    return str(MODULES / f"{name}.ko")


def kernel_log() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout


def sysfs_plan(name: str) -> list[tuple[str, list[tuple[str, int]]]]:
    out = []
    for obj in sorted(p for p in (LP / name).iterdir() if p.is_dir()):
        funcs = sorted(f.name.rsplit(",", 1) for f in obj.iterdir() if f.is_dir())
        out.append((obj.name, [(n, int(pos)) for n, pos in funcs]))
    return out


def stall(actions, patch="lptui_lp_target"):
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    actions.load(ko(patch))
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")
    return sleeper


def test_load_wait_then_revert_and_unload(actions):
    outcome = actions.load(ko("lptui_lp_cmdline"), wait=True, timeout=60)
    assert "transition complete" in outcome.message
    assert read("/proc/cmdline") == "lptui_lp_cmdline: this has been live patched"
    data = lptui("status")
    (patch,) = data["patches"]
    assert (
        patch["name"] == "lptui_lp_cmdline"
        and patch["enabled"]
        and read(LP / "lptui_lp_cmdline/enabled") == "1"
    )
    assert f"lptui: root load {ko('lptui_lp_cmdline')}: loaded patch 'lptui_lp_cmdline'" in kernel_log()

    outcome = actions.revert("lptui_lp_cmdline", unload=True, timeout=60)
    assert "unloaded" in outcome.message
    assert not Path("/sys/module/lptui_lp_cmdline").exists() and not (LP / "lptui_lp_cmdline").exists()
    assert read("/proc/cmdline") == ORIGINAL_CMDLINE
    data = lptui("status")
    assert data["patches"] == [] and kmod.inactive(data) == []


def test_inspect_matches_sysfs_after_loading(actions):
    insmod("lptui_target", block="N")
    for name in ("lptui_lp_cmdline", "lptui_lp_target"):
        ins = actions.inspect(ko(name))
        assert ins.loadable, ins.errors
        planned = sorted((o.name, sorted((f.name, f.sympos) for f in o.functions)) for o in ins.plan.objects)
        actions.load(ko(name), wait=True)
        assert planned == sysfs_plan(name)
        assert ins.module.vermagic_release == read("/proc/sys/kernel/osrelease")
    replace = actions.inspect(ko("lptui_lp_replace"))
    assert replace.plan.replace is True
    assert any("replaces them" in c.text for c in replace.checks)


def test_reverse_a_stalled_transition(actions):
    stall(actions)
    outcome = actions.revert("lptui_lp_target", wait=True, timeout=60)
    assert "reversed the patching transition" in outcome.message
    assert not (LP / "lptui_lp_target").exists()
    assert kmod.inactive(lptui("status")) == ["lptui_lp_target"]
    assert "reversed the patching transition of 'lptui_lp_target'" in kernel_log()
    actions.unload("lptui_lp_target")
    assert not Path("/sys/module/lptui_lp_target").exists()


def test_load_refused_during_a_transition(actions):
    stall(actions)
    with pytest.raises(ActionError, match="'lptui_lp_target' is in transition"):
        actions.load(ko("lptui_lp_cmdline"))
    assert not Path("/sys/module/lptui_lp_cmdline").exists()
    # and what the kernel itself answers when asked anyway: EBUSY
    with pytest.raises(OSError) as info:
        LiveControl("/").load_module(ko("lptui_lp_cmdline"))
    assert info.value.errno == errno.EBUSY


def test_kernel_errnos_for_load_and_unload():
    control = LiveControl("/")
    insmod("lptui_plain")
    with pytest.raises(OSError) as info:
        control.load_module(ko("lptui_plain"))
    assert info.value.errno == errno.EEXIST
    with pytest.raises(OSError) as info:
        control.unload_module("lptui_no_such_module")
    assert info.value.errno == errno.ENOENT
    kmod.load_patch("lptui_lp_cmdline")
    with pytest.raises(OSError) as info:  # enabled: the patch holds its own module
        control.unload_module("lptui_lp_cmdline")
    assert info.value.errno == errno.EWOULDBLOCK
    with pytest.raises(OSError) as info:
        control.write_attr("lptui_lp_cmdline", "enabled", "1")
    assert info.value.errno == errno.EINVAL
    with pytest.raises(OSError) as info:
        control.write_attr("lptui_lp_cmdline", "force", "1")
    assert info.value.errno == errno.EINVAL
    control.unload_module("lptui_plain")
    assert not Path("/sys/module/lptui_plain").exists()


def test_force_a_stalled_patching_transition(actions):
    stall(actions, "lptui_lp_force1")
    kmod.kernel_agrees("kthread asleep in the patched function, before a force")
    with pytest.raises(ActionError, match="without --yes") as refused:
        actions.force("lptui_lp_force1", yes=False)
    assert "consistency guarantee" in (refused.value.detail or "")  # the consequences, after the line
    assert read(LP / "lptui_lp_force1/transition") == "1"
    outcome = actions.force("lptui_lp_force1", yes=True)
    assert "forced the patching transition" in outcome.message and "lptui_sleeper" in outcome.message
    assert read(LP / "lptui_lp_force1/transition") == "0"
    assert "forcing remaining tasks to the patched state" in kernel_log()
    data = lptui("status")
    assert data["transition"] is None and data["patches"][0]["enabled"] is True
    # the boot remembers it: status and check say so (the kernel's line names no patch; lptui finds it)
    forced = data["forced_this_boot"]
    assert forced["forced"] is True
    assert any(e["source"] == "kernel-log" and e["patch"] == "lptui_lp_force1" for e in forced["evidence"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check"])
    assert code == 2 and "forced this boot (lptui_lp_force1)" in out.getvalue(), out.getvalue()


def test_unload_refused_after_forced_unpatching(actions):
    insmod("lptui_target", block="N")
    actions.load(ko("lptui_lp_force2"), wait=True)
    kmod.set_param("lptui_lp_force2", "hold", "Y")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "[lptui_lp_force2]" in read(f"/proc/{sleeper}/stack"), what="kthread in the new code")
    actions.revert("lptui_lp_force2")
    wait_for(lambda: pending_tids_by_kernel(0) == {sleeper}, timeout=60, what="stalled unpatching")
    kmod.kernel_agrees("kthread asleep in the patch's code, unpatching, before a force")
    with pytest.raises(ActionError, match="without --yes") as refused:
        actions.force("lptui_lp_force2", yes=False)
    assert "can never be unloaded until reboot" in (refused.value.detail or "")
    kmod.FORCED.add("lptui_lp_force2")
    actions.force("lptui_lp_force2", yes=True)
    wait_for(lambda: not (LP / "lptui_lp_force2").exists(), what="forced unpatching to complete")
    kmod.set_param("lptui_lp_force2", "hold", "N")
    with pytest.raises(ActionError, match="forced while being removed"):
        actions.unload("lptui_lp_force2")
    assert read("/sys/module/lptui_lp_force2/refcnt") == "1"
    with pytest.raises(OSError) as info:
        LiveControl("/").unload_module("lptui_lp_force2")
    assert info.value.errno == errno.EWOULDBLOCK
    assert "lptui_lp_force2" in lptui("status")["inactive_modules"]
