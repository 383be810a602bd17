"""Patch shapes from the kernel's own selftests, built as lptui's modules: objects with callbacks
and no functions (test_klp_callbacks_demo), callbacks-only cumulative patches with system states
(test_klp_state, test_klp_state2) and the "incompatible cumulative livepatches" refusal."""

import subprocess

import pytest

from lptui.core.actions.actions import Actions
from lptui.core.actions.audit import Audit
from lptui.core.actions.control import LiveControl
from lptui.core.errors import ActionError
from lptui.core.tree import Tree
from tests.realkernel.guest.kmod import LP, MODULES, lptui, read, rmmod, wait_for


@pytest.fixture
def actions(tmp_path):
    return Actions(Tree("/"), LiveControl("/"), Audit(), lock_path=tmp_path / "lptui.lock")


def ko(name: str) -> str:
    return str(MODULES / f"{name}.ko")


def sysfs_objects(name: str) -> list[tuple[str, list[str]]]:
    return sorted(
        (obj.name, sorted(f.name.rsplit(",", 1)[0] for f in obj.iterdir() if f.is_dir()))
        for obj in (LP / name).iterdir()
        if obj.is_dir()
    )


def test_function_less_objects_match_sysfs(actions):
    ins = actions.inspect(ko("lptui_lp_callbacks"))
    planned = sorted((o.name, [f.name for f in o.functions]) for o in ins.plan.objects)
    assert planned == [("lptui_plain", []), ("lptui_target", ["lptui_target_sleep"]), ("vmlinux", [])]
    warned = {c.text for c in ins.checks if c.level == "warn"}
    assert any("lptui_plain is not loaded" in w for w in warned), warned
    actions.load(ko("lptui_lp_callbacks"), wait=True, timeout=120)
    assert planned == sysfs_objects("lptui_lp_callbacks")  # the kernel lists every object too
    (patch,) = [p for p in lptui("status")["patches"] if p["name"] == "lptui_lp_callbacks"]
    assert sorted(o["name"] for o in patch["objects"]) == ["lptui_plain", "lptui_target", "vmlinux"]


def test_callbacks_only_cumulative_patch_is_read(actions):
    ins = actions.inspect(ko("lptui_lp_state2"))
    assert ins.plan.source == "klp_patch" and ins.plan.replace is True
    assert [(o.name, o.functions) for o in ins.plan.objects] == [("vmlinux", ())]
    assert [(s.id, s.version) for s in ins.plan.states] == [(1, 2)]
    actions.load(ko("lptui_lp_state2"), wait=True, timeout=120)
    (patch,) = [p for p in lptui("status")["patches"] if p["name"] == "lptui_lp_state2"]
    assert [(o["name"], o["functions"]) for o in patch["objects"]] == [("vmlinux", [])]
    if (LP / "lptui_lp_state2/replace").exists():  # 6.11+: the kernel says it too
        assert read(LP / "lptui_lp_state2/replace") == "1" and patch["replace"] is True


def test_incompatible_states_refused_with_the_kernels_words(actions):
    """test-state.sh "incompatible cumulative livepatches": version 2 installed, version 1 refused."""
    actions.load(ko("lptui_lp_state2"), wait=True, timeout=120)
    ins = actions.inspect(ko("lptui_lp_state1"))
    assert ins.loadable and not ins.certain, ins.checks  # no promise: lptui cannot see installed states
    with pytest.raises(ActionError) as info:
        actions.load(ko("lptui_lp_state1"))
    message = str(info.value)
    assert "Livepatch patch (lptui_lp_state1) is not compatible with the already installed livepatches" in (
        message
    )
    assert "(EINVAL)" in message and "not marked as a livepatch" not in message
    # the kernel's own loader is refused the same way: lptui's words are the kernel's
    proc = subprocess.run(["insmod", ko("lptui_lp_state1")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Invalid" in proc.stderr
    assert not (LP / "lptui_lp_state1").exists() and (LP / "lptui_lp_state2").exists()
    wait_for(lambda: read(LP / "lptui_lp_state2/transition") == "0", what="state2 settled")
    rmmod("lptui_lp_state1")  # never loaded; a no-op that keeps cleanup honest
