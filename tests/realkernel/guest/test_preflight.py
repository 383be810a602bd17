"""Issue 12 on the real kernel: the pre-flight refuses what the kernel refuses (and the kernel's own
loader is shown refusing it too), provenance is found by srcversion, a patch whose file is gone is
reported as lost at reboot, and a cumulative patch's preview matches what /proc shows after it."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lptui.cli.main import main
from lptui.core.errors import ActionError
from lptui.source import opened
from tests.realkernel.guest.kmod import LP, MODULES, insmod, load_patch, lptui, read

REFUSED = [
    # module, target module to load first, what lptui says, what the kernel logs
    ("lptui_lp_missing", None, "is not in the running kernel", "symbol 'lptui_no_such_function' not found"),
    (
        "lptui_lp_dup0",
        "lptui_dup",
        "unresolvable ambiguity",
        "unresolvable ambiguity for symbol 'lptui_dup_fn'",
    ),
    (
        "lptui_lp_dup3",
        "lptui_dup",
        "asks for symbol position 3",
        "symbol position 3 for symbol 'lptui_dup_fn'",
    ),
]


def kernel_log() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("module, target, lptui_says, kernel_says", REFUSED, ids=[r[0] for r in REFUSED])
def test_preflight_refuses_what_the_kernel_refuses(module, target, lptui_says, kernel_says):
    if target:
        insmod(target)
    path = str(MODULES / f"{module}.ko")
    with opened() as source:
        ins = source.inspect(path)
        assert not ins.loadable and any(lptui_says in e for e in ins.errors), ins.checks
        with pytest.raises(ActionError) as info:
            source.actions().load(path)
    assert lptui_says in str(info.value) and not Path(f"/sys/module/{module}").exists()
    # the kernel's own loader, asked directly, refuses it too: the pre-flight is right, not just strict
    done = subprocess.run(["insmod", path], capture_output=True, text=True)
    assert done.returncode != 0 and not (LP / module).exists() and not Path(f"/sys/module/{module}").exists()
    assert kernel_says in kernel_log()


@contextlib.contextmanager
def kpatch_dir():
    """/var/lib/kpatch/<release> on a tmpfs (the guest sees the host's files read-only)."""
    subprocess.run(["mount", "-t", "tmpfs", "lptui-test", "/var/lib"], check=True)
    try:
        target = Path("/var/lib/kpatch") / os.uname().release
        target.mkdir(parents=True)
        yield target
    finally:
        subprocess.run(["umount", "/var/lib"], check=True)


def test_provenance_reboot_loss_and_cumulative_preview():
    release = os.uname().release
    with kpatch_dir() as installed:
        for name in ("lptui_lp_cmdline", "lptui_lp_version"):
            shutil.copy(MODULES / f"{name}.ko", installed)
            load_patch(name)
        data = lptui("status")
        by_name = {p["name"]: p for p in data["patches"]}
        cmdline = by_name["lptui_lp_cmdline"]["provenance"]
        assert cmdline["file"]["path"] == f"/var/lib/kpatch/{release}/lptui_lp_cmdline.ko"
        assert cmdline["matched_by"] == "srcversion"
        assert cmdline["file"]["srcversion"] == read("/sys/module/lptui_lp_cmdline/srcversion")
        assert by_name["lptui_lp_version"]["provenance"]["cves"] == ["CVE-2099-0001"]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["status", "--cve", "CVE-2099-0001"]) == 0
            assert main(["status", "--cve", "CVE-2099-0002"]) == 4

        (installed / "lptui_lp_version.ko").unlink()  # loaded, its file removed: gone at the next boot
        life = lptui("status")["life_cycle"]
        assert life["lost_at_reboot"] == ["lptui_lp_version"]
        assert [i["name"] for i in life["installed"]] == ["lptui_lp_cmdline"]

        # the cumulative patch carries cmdline_proc_show only: version_proc_show goes back to the original
        with opened() as source:
            preview = source.inspect(str(MODULES / "lptui_lp_replace.ko")).preview
        assert preview.repatched == ("vmlinux:cmdline_proc_show",) and preview.new == ()
        assert preview.reverted == (("vmlinux:version_proc_show", "lptui_lp_version"),)
        assert "lptui_lp_version" in read("/proc/version") and "lptui_lp_cmdline" in read("/proc/cmdline")
        load_patch("lptui_lp_replace")
        assert read("/proc/version").startswith("Linux version")  # reverted: the original code again
        assert read("/proc/cmdline") == "lptui_lp_replace: cumulative patch"  # patched again
