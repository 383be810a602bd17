"""In effect: an enabled, settled livepatch has its handler on every patched function in ftrace's own
table (t_show); otherwise lptui says "enabled, but not in effect on FUNC", and "may be overridden by"
where a BPF program on an error-injectable function can return before the new code runs."""

from __future__ import annotations

from lptui.core.livepatch.effect import NOT_IN_EFFECT, OVERRIDABLE, EffectCache, read_effect
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree
from tests.core.livepatch.test_ftrace import tables

# a single livepatch user: t_show names klp_ftrace_handler (6.1 prints no M column)
ALONE = "cmdline_proc_show (1) R I   \ttramp: 0xffffffffc0a05000 (klp_ftrace_handler+0x0/0x1e0)"
# with a plain kprobe beside it: two users, no handler named, the I is the livepatch's
SHARED = "cmdline_proc_show (2) R I   ->ftrace_ops_list_func+0x0/0x1a0"
# the function owned by another IPMODIFY user: the livepatch's handler is not there
OTHER = "cmdline_proc_show (1) R I   \ttramp: 0xffffffffc0a06000 (kprobe_ftrace_handler+0x0/0x1b0)"
# a BPF trampoline beside the livepatch (6.0+: direct calls share with IPMODIFY)
DIRECT = SHARED.replace("(2) R I  ", "(2) R I D") + "\n\tdirect-->bpf_trampoline_6442540718+0x0/0x1000"


def effect_of(fake, enabled, **kw):
    fake.patch("lp")
    tables(fake, enabled=enabled + "\n", **kw)
    tree = Tree(fake.root)
    return read_effect(read_snapshot(tree), tree)


def test_the_livepatch_handler_named_or_sharing_is_in_effect(fake):
    for text in (ALONE, SHARED):
        e = effect_of(fake, text, kprobes="")
        assert e.checked == ("lp",) and e.findings == () and e.in_effect("lp") is True, text


def test_no_record_or_another_owner_is_not_in_effect(fake):
    for text, said in (("", "enabled_functions has no record"), (OTHER, "kprobe_ftrace_handler")):
        e = effect_of(fake, text, kprobes="")
        (f,) = e.findings
        assert f.kind == NOT_IN_EFFECT and e.in_effect("lp") is False
        assert f.text.startswith("lp is enabled, but not in effect on cmdline_proc_show: ") and said in f.text


def test_an_error_injectable_function_with_a_bpf_user_may_be_overridden(fake):
    errors = "cmdline_proc_show\tERRNO\n"
    e = effect_of(fake, DIRECT, kprobes="", errors=errors)
    (f,) = e.findings
    assert f.kind == OVERRIDABLE and "BPF trampoline (bpf_trampoline_6442540718" in f.text
    assert e.in_effect("lp") is True  # the handler is there: overridable is a warning, not "not in effect"
    probe = "ffffffff81234560  k  cmdline_proc_show+0x0    [FTRACE]\n"
    (f,) = effect_of(fake, SHARED, kprobes=probe, errors=errors).findings
    assert "may be overridden by a kprobe FTRACE" in f.text
    assert effect_of(fake, SHARED, kprobes=probe, errors="").findings == ()  # not injectable: cannot


def test_transitions_disabled_patches_and_unloaded_objects_are_not_checked(fake):
    fake.patch("moving", transition="1").patch("off", enabled="0")
    fake.patch("later", objects={"xfs": ["xfs_fs_fill_super,1"]})
    tables(fake, enabled="")
    tree = Tree(fake.root)
    e = read_effect(read_snapshot(tree), tree)
    assert "moving" not in e.checked and "off" not in e.checked
    assert e.in_effect("later") is True  # xfs is not loaded: it is patched when it loads


def test_an_unreadable_table_is_cannot_tell_never_in_effect(fake):
    fake.patch("lp")
    tree = Tree(fake.root)
    e = read_effect(read_snapshot(tree), tree)
    assert e.checked == () and e.why and "cannot tell" in e.why and e.in_effect("lp") is None


def test_the_poller_cache_reads_the_table_on_a_change_or_when_stale(fake):
    fake.patch("lp")
    tables(fake, enabled=ALONE + "\n")
    tree = Tree(fake.root)
    cache = EffectCache(30.0)
    snap = read_snapshot(tree)
    for now in (0.0, 1.0, 29.0):
        cache.get(snap, tree, now)
    assert cache.reads == 1
    cache.get(snap, tree, 30.0)
    assert cache.reads == 2  # stale: the slow re-check
    fake.patch("lp2")
    cache.get(read_snapshot(tree), tree, 31.0)
    assert cache.reads == 3  # a patch came: read at once


# enabled_functions as Debian's kernels printed it in the guests (out/*/enabled-functions-*.txt)
REAL = {
    "6.1 alone": "uptime_proc_show (1)   I  \ttramp: 0xffffffffc055d000 (klp_ftrace_handler+0x0/0x110) "
    "->klp_ftrace_handler+0x0/0x110",
    "6.12 alone": "uptime_proc_show (1)   I     M \ttramp: 0xffffffffc0351000 (klp_ftrace_handler+0x0/0x100) "
    "->klp_ftrace_handler+0x0/0x100",
    "6.1 with a kprobe": "uptime_proc_show (2) R I   ->arch_ftrace_ops_list_func+0x0/0x1d0",
    "6.12 with a kprobe": "uptime_proc_show (2) R I     M  ->arch_ftrace_ops_list_func+0x0/0x1d0",
}


def test_the_real_kernels_records_read_as_in_effect(fake):
    from lptui.core.livepatch.effect import _handler_there
    from lptui.core.livepatch.ftrace import parse_enabled

    for label, line in REAL.items():
        rec = parse_enabled(line)[(None, "uptime_proc_show")]
        assert _handler_there(rec), label
    assert not _handler_there(parse_enabled(OTHER)[(None, "cmdline_proc_show")])
