"""Pre-flight checks against the kernel's own tables, each as the kernel decides it
(klp_find_object_symbol, ftrace registration, module_sig_check, klp_is_patch_compatible), and the
preview of a cumulative patch."""

from __future__ import annotations

import errno

import pytest

from lptui.core.actions.kernel_checks import replace_preview, signature_checks, symbol_checks, trace_checks
from lptui.core.declared import PatchPlan, PlannedFunction, PlannedObject
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from lptui.sim.kernel import SimKernel
from lptui.sim.state import PatchSpec

KALLSYMS = """ffffffff81000000 T cmdline_proc_show
ffffffff81000100 t dup_fn
ffffffff81000200 t dup_fn
ffffffffc0000000 t mod_fn\t[some_mod]
"""


def plan(*funcs: tuple[str, str, int], replace: bool = False) -> PatchPlan:
    objects: dict[str, list[PlannedFunction]] = {}
    for obj, name, sympos in funcs:
        objects.setdefault(obj, []).append(PlannedFunction(name, max(sympos, 1), declared_sympos=sympos))
    return PatchPlan(
        "klp_patch", tuple(PlannedObject(o, tuple(f)) for o, f in objects.items()), replace=replace
    )


def levels(checks) -> list[tuple[str, str]]:
    return [(c.level, c.text) for c in checks]


@pytest.mark.parametrize(
    "func, level, says",
    [
        (("vmlinux", "cmdline_proc_show", 0), "ok", "found once"),
        (("vmlinux", "no_such_fn", 0), "error", "not found in symbol table"),
        (("vmlinux", "dup_fn", 0), "error", "unresolvable ambiguity"),
        (("vmlinux", "dup_fn", 2), "ok", "found once"),
        (("vmlinux", "dup_fn", 3), "error", "symbol position 3"),
        (("some_mod", "mod_fn", 0), "ok", "found once"),
        (("some_mod", "cmdline_proc_show", 0), "error", "not found"),  # in vmlinux, not in that module
    ],
)
def test_symbols_resolve_as_the_kernel_resolves_them(fake, func, level, says):
    fake.write("proc/kallsyms", KALLSYMS)
    fake.module("some_mod")
    (check,) = symbol_checks(plan(func), Tree(fake.root))
    assert check.level == level and says in check.text


def test_a_module_not_loaded_is_not_checked_and_no_kallsyms_is_unknown(fake):
    assert symbol_checks(plan(("absent_mod", "x", 0)), Tree(fake.root)) == []
    (check,) = symbol_checks(plan(("vmlinux", "x", 0)), Tree(fake.root))
    assert check.level == "unknown" and "/proc/kallsyms" in check.text


def test_ftrace_must_be_able_to_patch_each_target(fake):
    p = plan(("vmlinux", "cmdline_proc_show", 0), ("some_mod", "mod_fn", 0))
    fake.module("some_mod")
    assert trace_checks(p, Tree(fake.root))[0].level == "unknown"  # tracefs not there
    fake.write("sys/kernel/tracing/available_filter_functions", "cmdline_proc_show\nmod_fn [some_mod]\n")
    assert trace_checks(p, Tree(fake.root))[0].level == "ok"
    fake.write("sys/kernel/tracing/available_filter_functions", "cmdline_proc_show\n")
    (check,) = trace_checks(p, Tree(fake.root))
    assert check.level == "error" and "some_mod:mod_fn" in check.text


@pytest.mark.parametrize(
    "enforce, lockdown, signed, level",
    [
        ("N", "[none] integrity confidentiality", False, "warn"),
        ("N", "[none] integrity confidentiality", True, "ok"),
        ("Y", "[none] integrity confidentiality", False, "error"),
        ("N", "none [integrity] confidentiality", False, "error"),
        ("Y", "[none] integrity confidentiality", True, "unknown"),
    ],
)
def test_signature_policy(fake, enforce, lockdown, signed, level):
    fake.write("sys/module/module/parameters/sig_enforce", enforce + "\n")
    fake.write("sys/kernel/security/lockdown", lockdown + "\n")
    (check,) = signature_checks(signed, Tree(fake.root))
    assert check.level == level


def test_replace_preview_lists_what_goes_back_to_the_original_code(fake):
    fake.patch("lp_old", objects={"vmlinux": ["cmdline_proc_show,1", "meminfo_proc_show,1"]})
    fake.patch("lp_newer", objects={"vmlinux": ["pipe_read,1"]})
    snap = read_snapshot(Tree(fake.root))
    preview = replace_preview(
        plan(("vmlinux", "cmdline_proc_show", 0), ("vmlinux", "do_sys_openat2", 0), replace=True), snap
    )
    assert preview.repatched == ("vmlinux:cmdline_proc_show",)
    assert preview.reverted == (("vmlinux:meminfo_proc_show", "lp_old"), ("vmlinux:pipe_read", "lp_newer"))
    assert preview.new == ("vmlinux:do_sys_openat2",)
    assert replace_preview(plan(("vmlinux", "x", 0)), snap) is None  # not cumulative: nothing replaced


@pytest.mark.parametrize(
    "name, sympos, says",
    [
        ("no_such_fn", 0, "symbol 'no_such_fn' not found in symbol table"),
        ("dup_fn", 0, "unresolvable ambiguity for symbol 'dup_fn' in object 'vmlinux'"),
        (
            "cmdline_proc_show",
            2,
            "symbol position 2 for symbol 'cmdline_proc_show' in object 'vmlinux' not found",
        ),
    ],
)
def test_the_simulated_kernel_refuses_the_same(name, sympos, says):
    sim = SimKernel()
    sim.extra_symbols[("vmlinux", "dup_fn")] = 2
    func = PlannedFunction(name, max(sympos, 1), declared_sympos=sympos)
    spec = PatchSpec("lp_bad", (PlannedObject("vmlinux", (func,)),))
    with pytest.raises(OSError) as info:
        sim.load_module("lp_bad", patch=spec)
    assert info.value.errno == errno.EINVAL and "lp_bad" not in sim.modules
    assert any(says in r.text for r in sim.log)


def test_the_whole_symbol_table_is_read(fake):
    """/proc/kallsyms runs to megabytes and module symbols come last: a capped read would miss them."""
    filler = "".join(f"ffffffff81{i:06x} t filler_{i}\n" for i in range(20_000))  # ~600 KB of vmlinux
    fake.write("proc/kallsyms", filler + "ffffffffc0000000 t late_fn\t[late_mod]\n" * 2)
    fake.module("late_mod")
    (check,) = symbol_checks(plan(("late_mod", "late_fn", 0)), Tree(fake.root))
    assert check.level == "error" and "unresolvable ambiguity" in check.text


def test_tracefs_is_found_wherever_it_is_mounted(fake):
    fake.write("proc/mounts", "tracefs /mnt/trace tracefs rw,nosuid 0 0\n")
    fake.write("mnt/trace/available_filter_functions", "cmdline_proc_show\n")
    (check,) = trace_checks(plan(("vmlinux", "cmdline_proc_show", 0)), Tree(fake.root))
    assert check.level == "ok"
