"""klp-build modules: objects, functions, sympos and callbacks from klp-build's tables.

No 6.19 kernel build is at hand, so a C file lays the tables out as objtool's klp-diff does (the
structs of include/linux/livepatch_external.h, strings in .rodata.klp.str1.1, vmlinux with no name
pointer) and gcc builds the object. The same recipe runs on the real kernels in
tests/realkernel/modules/lptui_klpbuild.c, where the kernel's sysfs is the oracle.
"""

import shutil
import subprocess

import pytest

from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import open_module

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the modules")

HEADER = r"""
struct klp_callbacks { void *pre_patch, *post_patch, *pre_unpatch, *post_unpatch;
                       _Bool post_unpatch_enabled; };
struct klp_func_ext { const char *old_name; void *new_func; unsigned long sympos; };
#define STR __attribute__((section(".rodata.klp.str1.1")))
static const char s_cmd[] STR = "cmdline_proc_show";
static const char s_mem[] STR = "meminfo_proc_show";
static const char s_fill[] STR = "xfs_fs_fill_super";
static const char s_xfs[] STR = "xfs";
int cmdline_proc_show(void *m, void *v) { return 0; }
int meminfo_proc_show(void *m, void *v) { return 1; }
int xfs_fs_fill_super(void *sb, void *fc) { return 2; }
int my_pre_patch(void *obj) { return 0; }
void my_post_unpatch(void *obj) {}
struct klp_func_ext funcs[] __attribute__((section("FUNCS"), used)) = {
    {s_cmd, cmdline_proc_show, 0},
    {s_mem, meminfo_proc_show, 2},
    {s_fill, xfs_fs_fill_super, 0},
};
static const char modinfo[] __attribute__((section(".modinfo"), used)) =
    "livepatch=Y\0name=livepatch_demo\0description=Livepatch module\0vermagic=6.19.0 SMP preempt mod_unload\0"
    "license=GPL";
char this_module[64] __attribute__((section(".gnu.linkonce.this_module")));
"""

# 6.19 final: {name, funcs, callbacks, nr_funcs}
FINAL = r"""
struct klp_object_ext { const char *name; struct klp_func_ext *funcs; struct klp_callbacks callbacks;
                        unsigned int nr_funcs; };
struct klp_object_ext objs[] __attribute__((section("OBJECTS"), used)) = {
    {0, &funcs[0], {0}, 2},
    {s_xfs, &funcs[2], {my_pre_patch, 0, 0, my_post_unpatch}, 1},
};
"""

# an earlier revision of the series: {funcs, nr_funcs, name, callbacks}
EARLY = r"""
struct klp_object_ext { struct klp_func_ext *funcs; unsigned int nr_funcs; const char *name;
                        struct klp_callbacks callbacks; };
struct klp_object_ext objs[] __attribute__((section("OBJECTS"), used)) = {
    {&funcs[0], 2, 0, {0}},
    {&funcs[2], 1, s_xfs, {my_pre_patch, 0, 0, my_post_unpatch}},
};
"""

WANT = {
    "vmlinux": [("cmdline_proc_show", 0, "cmdline_proc_show"), ("meminfo_proc_show", 2, "meminfo_proc_show")],
    "xfs": [("xfs_fs_fill_super", 0, "xfs_fs_fill_super")],
}


def build(tmp_path, layout: str, objects: str = ".init.klp_objects", funcs: str = ".init.klp_funcs"):
    src = tmp_path / "klp.c"
    src.write_text((HEADER + layout).replace('"FUNCS"', f'"{funcs}"').replace('"OBJECTS"', f'"{objects}"'))
    ko = tmp_path / "livepatch-demo.ko"
    subprocess.run(["gcc", "-c", "-O2", "-fno-pic", "-o", str(ko), str(src)], check=True)
    return open_module(str(ko))


def functions(plan):
    return {o.name: [(f.name, f.declared_sympos, f.new_func) for f in o.functions] for o in plan.objects}


@pytest.mark.parametrize(
    ("layout", "objects", "funcs"),
    [
        (FINAL, ".init.klp_objects", ".init.klp_funcs"),
        (FINAL, "__klp_objects", "__klp_funcs"),
        (EARLY, ".init.klp_objects", ".init.klp_funcs"),
    ],
    ids=["6.19", "6.19-rc", "early-layout"],
)
def test_objects_functions_sympos_and_callbacks_are_read(tmp_path, layout, objects, funcs):
    plan = plan_patch(build(tmp_path, layout, objects, funcs))
    assert plan.source == "klp-build"
    assert functions(plan) == WANT
    by_name = {o.name: o for o in plan.objects}
    assert by_name["xfs"].callbacks == (("pre_patch", "my_pre_patch"), ("post_unpatch", "my_post_unpatch"))
    assert by_name["vmlinux"].callbacks == ()
    # sysfs shows sympos 0 ("unique") as 1
    assert [f.sympos for f in by_name["vmlinux"].functions] == [1, 2]


def test_replace_is_klp_builds_default_and_said_to_be(tmp_path):
    plan = plan_patch(build(tmp_path, FINAL))
    assert plan.replace is True and plan.replace_by_default
    assert plan.states == ()  # init.c never sets patch->states
    assert any("--no-replace" in n for n in plan.notes)


def test_nr_funcs_bounded_by_the_section(tmp_path):
    """A record claiming four billion functions reads only what its section holds."""
    plan = plan_patch(build(tmp_path, FINAL.replace("{0}, 2}", "{0}, 4294967295u}")))
    assert functions(plan)["vmlinux"][:3] == WANT["vmlinux"] + WANT["xfs"]
