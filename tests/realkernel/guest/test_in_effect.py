"""Issue 30 on the real kernel: a klp-build-layout module read as sysfs shows it after loading (8c), the
in-effect check true after a load and false when the handler is gone (8b), and a WARNING from a
patch's own code shown as its post-load health (8e). The kernel is the oracle: sysfs's directories,
what the patched /proc files print, its own WARNING line."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import subprocess
from pathlib import Path

from lptui.cli.main import main
from tests.realkernel.guest.kmod import (
    LP,
    MODULES,
    check_json,
    disable_patch,
    insmod,
    load_patch,
    read,
    rmmod,
    set_param,
    wait_for,
)

OUT = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp"))


def lptui_json(*argv: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main([*argv, "--json"])
    return code, json.loads(out.getvalue())


def sysfs_functions(patch: str) -> dict[str, list[tuple[str, int]]]:
    """The kernel's own list: /sys/kernel/livepatch/<patch>/<object>/<function,sympos>."""
    out = {}
    for obj in sorted(p for p in (LP / patch).iterdir() if p.is_dir()):
        funcs = [d.name.rsplit(",", 1) for d in sorted(obj.iterdir()) if d.is_dir() and "," in d.name]
        out[obj.name] = sorted((name, int(pos)) for name, pos in funcs)
    return out


def enabled_functions() -> str:
    return Path("/sys/kernel/tracing/enabled_functions").read_text()


def test_a_klp_build_layout_module_inspects_as_sysfs_shows_it():
    insmod("lptui_target", block="N")  # one object is this module (its kthread never stays in it)
    path = str(MODULES / "lptui_klpbuild.ko")
    code, ins = lptui_json("inspect", path)
    assert code == 0 and ins["patches"]["source"] == "klp-build", ins
    planned = {
        o["name"]: sorted((f["name"], f["sympos"]) for f in o["functions"]) for o in ins["patches"]["objects"]
    }
    assert ins["patches"]["objects"][1]["callbacks"] == {"pre_patch": "lptui_klpbuild_pre_patch"}
    load_patch("lptui_klpbuild")  # and in effect (kmod.assert_in_effect)
    assert planned == sysfs_functions("lptui_klpbuild"), (planned, sysfs_functions("lptui_klpbuild"))
    assert read("/proc/cmdline") == "lptui_klpbuild"  # the new code runs
    (OUT / "enabled-functions-klpbuild.txt").write_text(enabled_functions())
    disable_patch("lptui_klpbuild")
    rmmod("lptui_klpbuild")


def test_in_effect_until_the_handler_is_taken_off():
    load_patch("lptui_lp_uptime")
    assert read("/proc/uptime") == "1.00 1.00"
    (OUT / "enabled-functions-uptime.txt").write_text(enabled_functions())
    try:  # the other way to take handlers off: the kernel refuses it (klp's ftrace_ops is PERMANENT)
        Path("/proc/sys/kernel/ftrace_enabled").write_text("0")
        refused = None
    except OSError as exc:
        refused = exc.errno
    assert refused == errno.EBUSY and read("/proc/sys/kernel/ftrace_enabled") == "1", refused
    insmod("lptui_unhook")
    set_param("lptui_unhook", "unhook", "1")
    try:
        wait_for(lambda: read("/proc/uptime") != "1.00 1.00", what="the old uptime_proc_show to run again")
        assert read(LP / "lptui_lp_uptime" / "enabled") == "1"  # sysfs still says enabled
        (OUT / "enabled-functions-unhooked.txt").write_text(enabled_functions())
        code, data = check_json()
        (finding,) = [f for f in data["in_effect"]["findings"] if f["patch"] == "lptui_lp_uptime"]
        # WARNING at least (an earlier test's forced transition makes this boot CRITICAL)
        assert code in (1, 2) and finding["kind"] == "not_in_effect", data
        assert "enabled, but not in effect on uptime_proc_show" in data["summary"], data
        metrics = metrics_text()
        assert 'lptui_patch_in_effect{patch="lptui_lp_uptime"} 0.0' in metrics, metrics[-2000:]
    finally:
        set_param("lptui_unhook", "unhook", "0")
    wait_for(lambda: read("/proc/uptime") == "1.00 1.00", what="the patched uptime_proc_show again")
    _, data = check_json()
    assert data["in_effect"]["findings"] == [] and "not in effect" not in data["summary"], data
    disable_patch("lptui_lp_uptime")
    rmmod("lptui_unhook")
    rmmod("lptui_lp_uptime")


def test_a_warning_from_the_new_code_is_the_patchs_post_load_health():
    load_patch("lptui_lp_warn")
    Path("/proc/loadavg").read_text()  # the new code runs and warns, once
    wait_for(
        lambda: "lptui_lp_warn: the patched loadavg_proc_show warns" in kernel_log(),
        what="the kernel's WARNING",
    )
    code, data = check_json()
    tied = [h for h in data["post_load_health"] if h["patch"] == "lptui_lp_warn"]
    assert code in (1, 2) and tied and not tied[0]["grave"], data
    assert "lptui_lp_warn post-load health (in its module lptui_lp_warn): WARNING: " in data["summary"]
    assert tied[0]["text"].startswith("WARNING: ") and "[lptui_lp_warn]" in tied[0]["text"], tied
    metrics = metrics_text()
    line = 'lptui_patch_post_load_problems{kind="warning",patch="lptui_lp_warn"} 1.0'
    assert line in metrics, metrics[-2000:]
    disable_patch("lptui_lp_warn")
    rmmod("lptui_lp_warn")


def kernel_log() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


def metrics_text() -> str:
    """`lptui metrics` once, in-process (a Python start costs 10-20 s under emulation)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["metrics"]) == 0
    return out.getvalue()
