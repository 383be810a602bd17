"""Post-load health: the kernel's WARNING, BUG and Oops lines tied to the patch they follow or name, as
`check` (WARNING / CRITICAL) and `metrics` see them."""

from __future__ import annotations

from types import SimpleNamespace

from lptui.cli.check_verdict import facts_of
from lptui.core.oncall.facts import post_load_health
from lptui.core.oncall.history import MAX_TROUBLES, LogHistory
from lptui.core.oncall.kmsg import LogLine, interesting, parse_record
from lptui.core.oncall.verdict import CRITICAL, WARNING, problems
from lptui.core.snapshot import read_snapshot
from lptui.core.tree import Tree

S = 1_000_000
WARN_LINE = "WARNING: CPU: 0 PID: 812 at /build/lptui_lp_warn.c:20 lptui_loadavg_proc_show+0x1d/0x40 [lp]"


def history(*lines: tuple[float, int, str]) -> LogHistory:
    h = LogHistory()
    h.feed(LogLine(i, int(t * S), level, text) for i, (t, level, text) in enumerate(lines))
    return h


def test_a_warning_in_the_patch_module_and_an_oops_after_it_are_tied(fake):
    fake.patch("lp").patch("other")
    snap = read_snapshot(Tree(fake.root))
    h = history(
        (100, 5, "livepatch: 'lp': patching complete"),
        (50, 4, "WARNING: CPU: 0 PID: 1 at kernel/foo.c:1 foo+0x1/0x2"),  # before: the boot's
        (110, 4, WARN_LINE),
        (120, 4, "Oops: general protection fault, probably for non-canonical address 0x1: 0000 [#1]"),
        (120.001, 4, "RIP: 0010:lptui_other_fn+0x10/0x40 [other]"),
        (2000, 4, "WARNING: CPU: 0 PID: 9 at mm/x.c:2 bar+0x1/0x2"),  # long after: nobody's
    )
    found = post_load_health(snap, h)
    by_patch = {(f.patch, f.grave) for f in found}
    assert ("lp", False) in by_patch  # the WARNING names lp's module
    assert ("lp", True) in by_patch  # the oops came 20 s after lp completed
    assert ("other", True) in by_patch  # the oops's RIP names other's module
    assert not any("bar+0x1" in f.text or "foo+0x1" in f.text for f in found)
    warn = next(f for f in found if f.patch == "lp" and not f.grave)
    assert warn.why == "in its module lp" and warn.seconds_after == 10.0
    view = SimpleNamespace(
        snapshot=snap, forced=(), age=None, oncall=SimpleNamespace(effect=None, health=found)
    )
    codes = {code for code, _ in problems(facts_of(view), warn=60, crit=300)}
    assert codes == {WARNING, CRITICAL}


def test_the_log_reader_keeps_complaints_at_warning_level_or_worse_only():
    assert interesting(parse_record(f"4,10,5000,-;{WARN_LINE}"))
    assert not interesting(parse_record(f"6,11,5000,-;{WARN_LINE}"))  # an info line quoting it
    assert interesting(parse_record("1,12,5000,-;BUG: kernel NULL pointer dereference, address: 0"))


def test_a_warning_storm_keeps_a_bounded_history():
    h = history(*((float(i), 4, f"WARNING: CPU: 0 PID: {i} at x.c:1 f+0x1/0x2") for i in range(10_000)))
    assert len(h.troubles) == MAX_TROUBLES and h.troubles[-1].text.endswith("f+0x1/0x2")
