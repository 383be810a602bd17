"""Ftrace's other users of a patch's targets, read from the kernel's own tables (t_show,
report_probe, fei_seq_show, ei_seq_show): another IPMODIFY user refuses the load, others are co-users,
an overridable function is a warning, an unreadable table is "cannot tell"."""

from __future__ import annotations

from lptui.core.actions.kernel_checks import ftrace_user_checks
from lptui.core.livepatch.ftrace import parse_enabled, parse_kprobes, read_tables
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from tests.core.actions.test_kernel_checks import plan

# t_show's lines as the kernels print them: a livepatch (6.5+, x86: I without R), a kprobe with a
# post_handler (R I), a BPF trampoline (D, then direct--> on its own line), a module function
ENABLED = (
    "do_one_initcall (1)   I     M \ttramp: 0xffffffffa0020000 (klp_ftrace_handler+0x0/0x258)"
    "->klp_ftrace_handler+0x0/0x258\n"
    "uptime_proc_show (1) R I     M \ttramp: 0xffffffffa0030000 (kprobe_ftrace_handler+0x0/0x1b0)"
    "->kprobe_ftrace_handler+0x0/0x1b0\n"
    "msleep (1)      D   M \ttramp: 0xffffffffa0040000 (call_direct_funcs+0x0/0x20)"
    "->call_direct_funcs+0x0/0x20\n"
    "\tdirect-->bpf_trampoline_6442540718+0x0/0x1000\n"
    "lptui_target_sleep [lptui_target] (1) R         ->ftrace_ops_list_func+0x0/0x1a0\n"
)
KPROBES = (
    "ffffffff81234560  k  uptime_proc_show+0x0    [FTRACE]\n"
    "ffffffffc0001000  k  lptui_target_sleep+0x0  lptui_target [FTRACE]\n"
)


def tables(fake, *, enabled=ENABLED, kprobes=KPROBES, inject="", errors="should_failslab\tERRNO\n"):
    for rel, text in (
        ("sys/kernel/tracing/enabled_functions", enabled),
        ("sys/kernel/debug/kprobes/list", kprobes),
        ("sys/kernel/debug/fail_function/inject", inject),
        ("sys/kernel/debug/error_injection/list", errors),
    ):
        if text is not None:
            fake.write(rel, text)


def test_the_tables_parse_as_the_kernels_print_them():
    enabled = parse_enabled(ENABLED)
    assert enabled[(None, "do_one_initcall")].livepatch and enabled[(None, "do_one_initcall")].flags == {
        "I",
        "M",
    }
    assert enabled[(None, "uptime_proc_show")].flags == {"R", "I", "M"}
    assert enabled[(None, "msleep")].direct == "bpf_trampoline_6442540718+0x0/0x1000"
    assert enabled[("lptui_target", "lptui_target_sleep")].flags == {"R"}
    probes = parse_kprobes(KPROBES)
    assert probes[(None, "uptime_proc_show")] == ["kprobe FTRACE"]
    assert probes[("lptui_target", "lptui_target_sleep")] == ["kprobe FTRACE"]


def test_a_kprobe_with_a_post_handler_refuses_the_load(fake):
    tables(fake)
    snap = read_snapshot(Tree(fake.root))
    checks = ftrace_user_checks(plan(("vmlinux", "uptime_proc_show", 0)), Tree(fake.root), snap)
    (error,) = [c for c in checks if c.level == "error"]
    assert "uptime_proc_show is owned by a kprobe with a post_handler (kprobe FTRACE)" in error.text
    assert "EBUSY" in error.text


def test_co_users_are_listed_and_do_not_block(fake):
    tables(fake)
    snap = read_snapshot(Tree(fake.root))
    checks = ftrace_user_checks(plan(("vmlinux", "msleep", 0)), Tree(fake.root), snap)
    assert [c.level for c in checks] == ["ok"] and "a BPF trampoline (bpf_trampoline_6442540718" in checks[
        0
    ].text


def test_fail_function_refuses_and_an_overridable_function_warns(fake):
    tables(fake, inject="should_failslab\n")
    snap = read_snapshot(Tree(fake.root))
    checks = ftrace_user_checks(plan(("vmlinux", "should_failslab", 0)), Tree(fake.root), snap)
    assert [c.level for c in checks] == ["error", "warn"]
    assert "fail_function injection" in checks[0].text and "overridden by a BPF program" in checks[1].text
    security = ftrace_user_checks(plan(("vmlinux", "security_file_open", 0)), Tree(fake.root), snap)
    assert [c.level for c in security] == ["warn"] and "security_*" in security[0].text


def test_nothing_there_is_a_tick_and_an_unreadable_table_cannot_tell(fake):
    tables(fake, enabled="", kprobes="")
    snap = read_snapshot(Tree(fake.root))
    (check,) = ftrace_user_checks(plan(("vmlinux", "cmdline_proc_show", 0)), Tree(fake.root), snap)
    assert check.level == "ok" and "no other ftrace user" in check.text
    (fake.root / "sys/kernel/debug/kprobes/list").unlink()
    (check,) = ftrace_user_checks(plan(("vmlinux", "cmdline_proc_show", 0)), Tree(fake.root), snap)
    assert check.level == "unknown" and "kprobes/list" in check.text


def test_the_tables_are_found_where_proc_mounts_says(fake):
    fake.write("proc/mounts", "debugfs /mnt/dbg debugfs rw 0 0\ntracefs /mnt/trace tracefs rw 0 0\n")
    fake.write("mnt/trace/enabled_functions", ENABLED)
    for rel in ("kprobes/list", "fail_function/inject", "error_injection/list"):
        fake.write(f"mnt/dbg/{rel}", "")
    t = read_tables(Tree(fake.root))
    assert t.enabled is not None and (None, "msleep") in t.enabled and t.kprobes == {}


def test_the_simulated_kernel_refuses_what_the_preflight_refuses():
    """A kprobe with a post_handler on cmdline_proc_show: the pre-flight refuses the patch naming it,
    the simulated kernel answers EBUSY with the real kernel's line, and `load` quotes the cause."""
    import errno

    import pytest

    from lptui.core.livepatch.ftrace import ebusy_cause
    from lptui.sim.scenarios import CVE_PATCH, build_idle
    from lptui.sim.session import SimSession

    sim = build_idle()
    sim.kprobes["tcp_recvmsg"] = True
    sim.kprobes["tcp_sendmsg"] = False
    sim._changed()
    with SimSession(sim, speed=0) as session:
        tree = Tree(session.root)
        snap = read_snapshot(tree)
        checks = ftrace_user_checks(
            plan(("vmlinux", "tcp_recvmsg", 0), ("vmlinux", "tcp_sendmsg", 0)), tree, snap
        )
        assert [c.level for c in checks] == ["error", "ok"]
        assert "a kprobe with a post_handler" in checks[0].text and "kprobe FTRACE" in checks[1].text
        from lptui.sim.scenarios import TCP_PATCH

        with pytest.raises(OSError) as refused:
            sim.load_module(TCP_PATCH.name, patch=TCP_PATCH)
        assert refused.value.errno == errno.EBUSY
        said = [r.text for r in sim.log[-3:]]
        assert "livepatch: failed to register ftrace handler for function 'tcp_recvmsg' (-16)" in said
        session.render()
        assert "kprobe with a post_handler" in (ebusy_cause(said, tree) or "")
        # the patch already loaded is listed with its own handler: a co-user of nothing
        assert parse_enabled((session.root / "sys/kernel/tracing/enabled_functions").read_text())[
            (None, "cmdline_proc_show")
        ].livepatch
    assert CVE_PATCH.name in {p.name for p in snap.patches}


def test_a_kernel_without_fail_function_has_none_rather_than_cannot_tell(fake):
    # Debian 12's 6.1: debugfs and kprobes/list there, no fail_function or error_injection directory
    tables(fake, inject=None, errors=None)
    t = read_tables(Tree(fake.root))
    assert t.fail_function == set() and t.error_injection == set() and t.why == ""
    fake.write("sys/kernel/debug/fail_function/other", "")  # the directory without a readable inject
    assert read_tables(Tree(fake.root)).fail_function is None
