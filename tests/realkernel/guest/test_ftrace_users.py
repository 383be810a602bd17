"""Issue 30 on the real kernel: ftrace's other users in the pre-flight, and a module of the other
release decided by its CRCs. The kernel is the oracle: whatever `inspect` calls loadable, `insmod` takes;
whatever the kernel refuses, `inspect` does not call loadable (exit 4, or 6: cannot tell)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

from lptui.cli.main import main
from tests.realkernel.guest.kmod import LP, MODULES, assert_in_effect, insmod, read, rmmod, wait_for

PATCH = "lptui_lp_uptime"
EBUSY_LINE = "failed to register ftrace handler for function 'uptime_proc_show' (-16)"


def lptui_text(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue() + err.getvalue()


def kernel_log() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


def hits() -> int:
    return int(read("/sys/module/lptui_kprobe/parameters/hits"))


def test_a_kprobe_with_a_post_handler_refuses_the_patch_as_the_kernel_does():
    insmod("lptui_kprobe", post="1")
    path = str(MODULES / f"{PATCH}.ko")
    code, out = lptui_text("inspect", path)
    assert code == 4, out
    assert "uptime_proc_show is owned by a kprobe with a post_handler" in out and "EBUSY" in out, out
    before = kernel_log().count(EBUSY_LINE)
    code, out = lptui_text("load", path)
    assert code == 1 and "refusing to load" in out, out
    assert kernel_log().count(EBUSY_LINE) == before  # lptui never asked the kernel
    done = subprocess.run(["insmod", path], capture_output=True, text=True)
    assert done.returncode != 0 and "busy" in done.stderr.lower(), done.stderr
    wait_for(lambda: kernel_log().count(EBUSY_LINE) > before, what="the kernel's EBUSY line")


def test_a_plain_kprobe_is_a_co_user_and_still_fires_under_the_patch():
    insmod("lptui_kprobe", post="0")
    path = str(MODULES / f"{PATCH}.ko")
    code, out = lptui_text("inspect", path)
    assert code == 0, out
    assert "uptime_proc_show also traced by kprobe" in out, out
    code, out = lptui_text("load", path, "--wait")
    assert code == 0, out
    assert read(LP / PATCH / "enabled") == "1" and read("/proc/uptime") == "1.00 1.00"
    shared = Path("/sys/kernel/tracing/enabled_functions").read_text()
    (Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp")) / "enabled-functions-shared.txt").write_text(shared)
    assert_in_effect(PATCH)  # two users on the function, the I flag the livepatch's
    fired = hits()
    read("/proc/uptime")
    assert hits() > fired  # the kprobe on the old function's entry still runs


def test_a_module_of_the_other_release_is_never_called_loadable_when_the_kernel_refuses_it():
    other = Path(os.environ["LPTUI_GUEST_OTHER_MODULES"]) / f"{PATCH}.ko"
    assert other.exists(), other
    code, out = lptui_text("inspect", str(other))
    done = subprocess.run(["insmod", str(other)], capture_output=True, text=True)
    record = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp")) / "other-release.txt"
    record.write_text(f"inspect exit {code}\n{out}\ninsmod exit {done.returncode}: {done.stderr}\n")
    if done.returncode == 0:  # the kernel took it: then lptui must not have refused it
        assert code in (0, 6), out
        wait_for(lambda: (LP / PATCH / "transition").exists(), what="the patch")
        wait_for(lambda: read(LP / PATCH / "transition") == "0", what="its transition")
        return
    assert code in (4, 6), out  # refused, or cannot tell: never "loadable"
    if code == 4:
        assert "disagrees about version of symbol" in out, out
    rmmod(PATCH)
