"""The reasons as a decision table: one test per row, each row's case the smallest that reaches it, and
the row naming the kernel function behind it."""

import pytest

from lptui.core.livepatch import decisions as d
from lptui.core.livepatch.blockers import with_progress
from lptui.core.model import Direction, Reason, TaskInfo, TransitionInfo


def case(**kw) -> d.Case:
    base = {"stack_read": True, "stack_error": None, "bpf_frames": (), "blockers": (), "kthread": False}
    return d.Case(**(base | {"state": "S", "direction": Direction.PATCHING} | kw))


ONE_PER_ROW = {
    d.UNREADABLE: case(stack_read=False, stack_error="permission denied", blockers=("f",), state="D"),
    d.UNRELIABLE: case(bpf_frames=("bpf_trampoline_6442540718",), blockers=("f",), kthread=True),
    d.KTHREAD_IN: case(blockers=("hk_wait_here",), kthread=True, state="D"),
    d.D_IN: case(blockers=("ext4_sync_file",), state="D"),
    d.SLEEPING_IN: case(blockers=("pipe_read",)),
    d.SHORT_SLEEPS: case(state="D", kthread=True, switches_per_s=17.0),
    d.RUNNING: case(state="R"),
    d.D: case(state="D"),
    d.KTHREAD: case(kthread=True),
    d.WAITING: case(),
}


def test_every_row_has_a_case_and_cites_a_kernel_function():
    assert set(ONE_PER_ROW) == set(d.ROWS)
    for row in d.ROWS:
        assert row.kernel.split(":")[0].split(" ")[0].startswith(("klp_", "proc_pid_stack")), row.kernel


@pytest.mark.parametrize("row", d.ROWS, ids=lambda r: f"{r.reason.value}:{d.ROWS.index(r)}")
def test_each_row_is_the_first_that_holds_for_its_case(row):
    chosen, text = d.decide(ONE_PER_ROW[row])
    assert chosen is row
    assert row is d.UNRELIABLE or text  # the BPF text comes from blockers.unreliable_text


def test_a_d_state_task_seen_switching_is_never_told_signals_cannot_help():
    for blockers in ((), ("msleep",)):
        row, text = d.decide(case(state="D", kthread=True, blockers=blockers, switches_per_s=17.0))
        assert row is d.SHORT_SLEEPS and "signals cannot help" not in text and "17 times a second" in text
    said = "uninterruptible sleep (D): signals cannot help"
    t = TaskInfo(5, 5, "hk", "D", True, 0, True, stack=(), reason_code=Reason.UNINTERRUPTIBLE, reason=said)
    tr = TransitionInfo("lp", Direction.PATCHING, 1)
    assert "signals cannot help" not in with_progress(t, tr, 17.0).reason
    assert with_progress(t, tr, 0.0) is t  # no switch seen: the wait may well be one long one
