"""kpatch-build modules: the function list comes from .kpatch.funcs (names via .kpatch.strings relocations).

No kpatch-build module is at hand, so a C file lays out the same sections and gcc builds the object:
struct kpatch_patch_func { unsigned long new_addr, new_size, old_addr, old_size, sympos; char *name;
char *objname; } (kpatch/kmod/patch/kpatch-patch.h), 56 bytes with name at +40 and objname at +48.
"""

import shutil
import subprocess

import pytest

from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import open_module

SOURCE = r"""
struct kpatch_patch_func {
    unsigned long new_addr, new_size, old_addr, old_size, sympos;
    char *name;
    char *objname;
};
static char n1[] __attribute__((section(".kpatch.strings"))) = "cmdline_proc_show";
static char n2[] __attribute__((section(".kpatch.strings"))) = "xfs_fs_fill_super";
static char o1[] __attribute__((section(".kpatch.strings"))) = "vmlinux";
static char o2[] __attribute__((section(".kpatch.strings"))) = "xfs";
struct kpatch_patch_func funcs[] __attribute__((section(".kpatch.funcs"), used)) = {
    {0, 0, 0, 0, 0, n1, o1},
    {0, 0, 0, 0, 2, n2, o2},
};
static const char modinfo[] __attribute__((section(".modinfo"), used)) =
    "livepatch=Y\0name=livepatch_kp_demo\0vermagic=6.1.0-56-amd64 SMP preempt mod_unload\0license=GPL";
char this_module[64] __attribute__((section(".gnu.linkonce.this_module")));
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the synthetic module")
def test_kpatch_funcs_are_read(tmp_path):
    src = tmp_path / "kp.c"
    src.write_text(SOURCE)
    obj = tmp_path / "livepatch-kp-demo.ko"
    subprocess.run(["gcc", "-c", "-O0", "-fno-pic", "-o", str(obj), str(src)], check=True)
    mod = open_module(str(obj))
    assert mod.is_livepatch and mod.name == "livepatch_kp_demo"
    plan = plan_patch(mod)
    assert plan.source == "kpatch.funcs" and plan.replace is True
    got = {o.name: [(f.name, f.sympos) for f in o.functions] for o in plan.objects}
    assert got == {"vmlinux": [("cmdline_proc_show", 1)], "xfs": [("xfs_fs_fill_super", 2)]}
