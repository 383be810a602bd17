"""Issue 21 on the real kernel: a livepatch module of the suite's own with one vermagic flag altered
(mod_unload -> mod_unl0ad, same length, in its .modinfo). `inspect` exits 4 naming the flag, `load`
refuses it without the kernel being asked (no new log line), and `insmod` of the same file is refused by
the kernel with its own "version magic ... should be ..." line: lptui and the kernel agree. The module
as built is "built for this kernel", compared with an in-tree module of the running release."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

import pytest

from lptui.cli.main import main
from lptui.core.errors import ActionError
from lptui.source import opened
from tests.realkernel.guest.kmod import MODULES


def kernel_log() -> str:
    return subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout


def test_one_vermagic_flag_altered_lptui_and_the_kernel_agree(tmp_path):
    release = os.uname().release
    original = MODULES / "lptui_lp_cmdline.ko"
    data = original.read_bytes()
    assert data.count(b" mod_unload ") == 1, "the suite's module should carry mod_unload once"
    altered = tmp_path / "lptui_lp_cmdline.ko"
    altered.write_bytes(data.replace(b" mod_unload ", b" mod_unl0ad "))

    with opened() as source:
        ins = source.inspect(str(original))
        assert any(c.level == "ok" and c.text == f"built for this kernel ({release})" for c in ins.checks)
        ins = source.inspect(str(altered))
        assert not ins.loadable
        (error,) = [e for e in ins.errors if "vermagic" in e]
        assert "'mod_unl0ad' where this kernel has 'mod_unload'" in error
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["inspect", str(altered)]) == 4
        assert "mod_unl0ad" in out.getvalue()
        log_before = kernel_log()
        with pytest.raises(ActionError) as refused:
            source.actions().load(str(altered))
    assert "mod_unl0ad" in str(refused.value)
    assert not Path("/sys/module/lptui_lp_cmdline").exists()
    # the kernel's own line (check_modinfo: "%s: version magic '%s' should be '%s'") is absent: lptui
    # never asked it; lptui's audit line quoting the refusal may be there
    assert "lptui_lp_cmdline: version magic" not in kernel_log()[len(log_before) :]

    done = subprocess.run(["insmod", str(altered)], capture_output=True, text=True)
    assert done.returncode != 0 and not Path("/sys/module/lptui_lp_cmdline").exists()
    said = kernel_log()[len(log_before) :]
    assert "lptui_lp_cmdline: version magic" in said and "mod_unl0ad" in said and "should be" in said
