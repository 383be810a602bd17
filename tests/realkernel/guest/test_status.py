"""`lptui status` on a real kernel agrees with the kernel's own files."""

import os
from pathlib import Path

from tests.realkernel.guest.kmod import LP, load_patch, lptui, read


def test_loaded_patch_matches_sysfs(kernel_label):
    load_patch("lptui_lp_cmdline")
    assert read("/proc/cmdline") == "lptui_lp_cmdline: this has been live patched"
    data = lptui("status")

    kernel = data["kernel"]
    assert kernel["release"] == os.uname().release == read("/proc/sys/kernel/osrelease")
    assert kernel["machine"] == os.uname().machine
    assert kernel["livepatch_supported"] is True
    tainted = int(read("/proc/sys/kernel/tainted"))
    assert kernel["tainted"] == tainted and "K" in kernel["taint_flags"] and tainted & (1 << 15)
    assert data["transition"] is None

    (patch,) = [p for p in data["patches"] if p["name"] == "lptui_lp_cmdline"]
    base = LP / "lptui_lp_cmdline"
    assert patch["enabled"] is (read(base / "enabled") == "1") is True
    assert patch["transition"] is False and read(base / "transition") == "0"
    assert [o["name"] for o in patch["objects"]] == sorted(p.name for p in base.iterdir() if p.is_dir())
    (obj,) = patch["objects"]
    assert obj["name"] == "vmlinux" and obj["loaded"] is True
    assert obj["functions"] == [
        {"name": "cmdline_proc_show", "sympos": 1, "state": None}
    ]  # state: kGraft only
    assert patch["mechanism"] == "livepatch" and patch["stage"] is None and patch["details"] == {}
    assert data["systems"] == [
        {"mechanism": "livepatch", "where": "sys/kernel/livepatch", "detail": "", "problems": []}
    ]
    assert (base / "vmlinux/cmdline_proc_show,1").is_dir()
    assert obj["patched"] is True and read(base / "vmlinux/patched") == "1"

    module = patch["module"]
    assert module["refcnt"] == int(read("/sys/module/lptui_lp_cmdline/refcnt")) == 1
    assert module["taint"] == read("/sys/module/lptui_lp_cmdline/taint") and "K" in module["taint"]


def test_features_match_the_files_of_this_kernel(kernel_label):
    load_patch("lptui_lp_cmdline")
    features = lptui("status")["features"]
    base = LP / "lptui_lp_cmdline"
    for name in ("transition", "force", "signal", "replace", "stack_order"):
        assert features[name] is (base / name).exists(), name
    assert features["object_patched"] is (base / "vmlinux/patched").exists()
    # Debian 12's 6.1 has no `replace`; 6.12 has it; neither has stack_order (6.14+).
    assert features["replace"] is (kernel_label == "6.12")
    assert features["stack_order"] is False and features["signal"] is False


def test_plain_module_is_not_a_livepatch(kernel_label):
    from tests.realkernel.guest.kmod import insmod

    insmod("lptui_plain")
    data = lptui("status")
    assert "lptui_plain" not in [p["name"] for p in data["patches"]]
    assert "lptui_plain" not in data["inactive_modules"]
    assert "K" not in read("/sys/module/lptui_plain/taint")


def test_threads_total_matches_proc():
    data = lptui("status")
    listed = sum(1 for _ in Path("/proc").glob("[0-9]*/task/[0-9]*"))
    assert abs(data["threads_total"] - listed) <= 3  # threads come and go (this test's own)


def test_console_script_entry_point():
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "lptui", "status", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["kernel"]["livepatch_supported"] is True
