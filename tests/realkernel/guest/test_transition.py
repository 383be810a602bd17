"""Stalled, completed, disabled and replaced transitions on a real kernel."""

from pathlib import Path

from tests.realkernel.guest.kmod import (
    LP,
    disable_patch,
    inactive,
    insmod,
    kernel_agrees,
    load_patch,
    lptui,
    pending_tids_by_kernel,
    pid_of,
    read,
    set_param,
    wait_for,
)


def stall():
    insmod("lptui_target")  # block=Y: its kthread sleeps inside lptui_target_sleep
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: read(LP / "lptui_lp_target/transition") == "1", what="transition to start")
    return sleeper


def test_stalled_transition_names_the_kthread_and_function():
    sleeper = stall()
    # Other tasks switch within a few retries; the sleeper never does.
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")
    data = lptui("tasks")
    t = data["transition"]
    assert (t["patch"], t["direction"], t["target"]) == ("lptui_lp_target", "patching", 1)
    assert read(LP / "lptui_lp_target/transition") == "1" and read(LP / "lptui_lp_target/enabled") == "1"
    assert t["tasks_pending"] == len(pending_tids_by_kernel(1)) == 1
    listed = sum(1 for _ in Path("/proc").glob("[0-9]*/task/[0-9]*"))
    assert abs(t["tasks_total"] - listed) <= 3
    (task,) = data["tasks"]
    assert (task["pid"], task["tid"], task["comm"]) == (sleeper, sleeper, "lptui_sleeper")
    assert task["kthread"] is True and task["pending"] is True
    assert task["patch_state"] == int(read(f"/proc/{sleeper}/task/{sleeper}/patch_state")) == 0
    # msleep(20) in a loop: the thread is in D, and briefly R each time it wakes
    assert task["state"] in ("D", "R")
    assert read(f"/proc/{sleeper}/stat").rsplit(")", 1)[1].split()[0] in ("D", "R")
    assert task["blocking_functions"] == ["lptui_target_sleep"]
    assert any("lptui_target_sleep" in frame and "[lptui_target]" in frame for frame in task["stack"])
    assert task["reason_code"] == "kthread_in_patched_function"
    assert "lptui_target_sleep" in task["reason"]
    (row,) = kernel_agrees("kthread asleep in the patched function")
    assert (row["tid"], row["verdict"], row["function"]) == (sleeper, "sleeping_on", "lptui_target_sleep")
    # the verdict is now in the log: the task carries it, with lptui's reason kept (they agree)
    (task,) = lptui("tasks")["tasks"]
    assert task["verdict"]["kind"] == "sleeping_on" and task["own_reason_code"] is None

    status = lptui("status")
    (patch,) = [p for p in status["patches"] if p["name"] == "lptui_lp_target"]
    assert patch["transition"] is True
    (obj,) = patch["objects"]
    assert obj["name"] == "lptui_target" and obj["loaded"] is True and obj["patched"] is True


def test_release_completes_the_transition():
    sleeper = stall()
    set_param("lptui_target", "block", "N")
    wait_for(lambda: read(LP / "lptui_lp_target/transition") == "0", what="transition to complete")
    data = lptui("status")
    assert data["transition"] is None
    (patch,) = [p for p in data["patches"] if p["name"] == "lptui_lp_target"]
    assert patch["enabled"] is True and patch["transition"] is False
    assert lptui("tasks")["tasks"] == []
    assert int(read(f"/proc/{sleeper}/task/{sleeper}/patch_state")) == -1


def test_reversed_transition_reads_as_unpatching():
    stall()
    set_param("lptui_lp_target", "hold", "Y")  # not yet relevant: nobody runs the new code
    (LP / "lptui_lp_target/enabled").write_text("0")  # reverse the stalled patching
    # The sleeper never left the old code, so unpatching completes at once or within a retry.
    wait_for(lambda: not (LP / "lptui_lp_target").exists(), what="reversed transition to complete")
    data = lptui("status")
    assert data["transition"] is None and "lptui_lp_target" in data["inactive_modules"]


def test_stalled_unpatching_direction_and_module_frame():
    insmod("lptui_target", block="N")
    load_patch("lptui_lp_target")
    set_param("lptui_lp_target", "hold", "Y")  # the sleeper now sleeps in the replacement
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "[lptui_lp_target]" in read(f"/proc/{sleeper}/stack"), what="kthread in the new code")
    disable_patch("lptui_lp_target", wait=False)
    wait_for(lambda: pending_tids_by_kernel(0) == {sleeper}, timeout=60, what="only the sleeper pending")
    data = lptui("tasks")
    assert (data["transition"]["direction"], data["transition"]["target"]) == ("unpatching", 0)
    (task,) = data["tasks"]
    assert task["pid"] == sleeper and task["patch_state"] == 1
    assert task["blocking_functions"] == ["lptui_lp_target_sleep [lptui_lp_target]"]
    (row,) = kernel_agrees("kthread asleep in the patch's code, unpatching")
    assert (row["tid"], row["verdict"]) == (sleeper, "sleeping_on")  # the kernel names func->old_name
    set_param("lptui_lp_target", "hold", "N")
    wait_for(lambda: not (LP / "lptui_lp_target").exists(), what="unpatching to complete")


def test_disabled_patch_disappears_module_listed_inactive():
    load_patch("lptui_lp_cmdline")
    disable_patch("lptui_lp_cmdline")
    assert read("/proc/cmdline") != "lptui_lp_cmdline: this has been live patched"
    wait_for(lambda: read("/sys/module/lptui_lp_cmdline/refcnt") == "0", what="module_put")
    data = lptui("status")
    assert "lptui_lp_cmdline" not in [p["name"] for p in data["patches"]]
    assert inactive(data) == ["lptui_lp_cmdline"]
    (details,) = [m for m in data["inactive_module_details"] if m["name"] == "lptui_lp_cmdline"]
    assert details["refcnt"] == 0 and "K" in details["taint"]


def test_atomic_replace(kernel_label):
    load_patch("lptui_lp_cmdline")
    insmod("lptui_target", block="N")
    load_patch("lptui_lp_target")
    load_patch("lptui_lp_replace")
    assert read("/proc/cmdline") == "lptui_lp_replace: cumulative patch"
    wait_for(
        lambda: sorted(p.name for p in LP.iterdir()) == ["lptui_lp_replace"], what="replaced patches freed"
    )
    data = lptui("status")
    assert [p["name"] for p in data["patches"]] == ["lptui_lp_replace"]
    (patch,) = data["patches"]
    assert patch["replace"] is (True if kernel_label == "6.12" else None)
    # the nop for lptui_target_sleep is gone once the transition completed
    assert [(o["name"], [f["name"] for f in o["functions"]]) for o in patch["objects"]] == [
        ("vmlinux", ["cmdline_proc_show"])
    ]
    assert inactive(data) == ["lptui_lp_cmdline", "lptui_lp_target"]
