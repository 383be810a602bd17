"""The kernel's verdict lines (klp_try_switch_task) parsed from the right, matched by pid, never forged."""

from lptui.core.livepatch.verdicts import (
    FRESH_SECONDS,
    VerdictLog,
    agrees,
    parse_verdict,
    verdict_phrase,
    with_verdicts,
)
from lptui.core.model import Reason, TaskInfo, VerdictKind

P = "livepatch: klp_try_switch_task: "


def test_each_of_the_kernels_four_lines():
    assert parse_verdict(P + "hk_sleeper:177 has an unreliable stack", 5).kind == "unreliable_stack"
    v = parse_verdict(P + "hk_sleeper:176 is sleeping on function hk_wait_here", 5)
    assert (v.pid, v.comm, v.kind, v.function) == (176, "hk_sleeper", "sleeping_on", "hk_wait_here")
    assert parse_verdict(P + "sleep:2160 is running", 5).pid == 2160
    u = parse_verdict(P + "Unknown error code (-22) when trying to switch a:b:9", 5)
    assert (u.kind, u.code, u.pid, u.comm) == ("unknown_error", -22, 9, "a:b")
    assert parse_verdict("livepatch: 'lp': starting patching transition", 5) is None


def test_a_crafted_comm_cannot_forge_another_tasks_verdict():
    log = VerdictLog()
    # the task 300 named itself "x:1 is sleeping on function y"; the kernel appends its own pid and verdict
    log.feed(P + "x:1 is sleeping on function y:300 is running", 7)
    assert 1 not in log.latest
    assert log.latest[300].kind == "running"
    assert log.for_task(300, "x:1 is sleeping on function y") is not None
    assert log.for_task(300, "bash") is None  # pid reused by another task: no verdict


def test_the_log_is_bounded():
    log = VerdictLog(limit=100)
    for pid in range(1000):
        log.feed(P + f"t:{pid} is running", pid)
    assert len(log.latest) == 100 and 999 in log.latest


def _task(tid: int, code: Reason, blockers: tuple[str, ...] = (), **kw) -> TaskInfo:
    base = dict(pid=tid, tid=tid, comm="hk_sleeper", state="S", kthread=True, patch_state=0, pending=True)
    return TaskInfo(**(base | kw), blocking_functions=blockers, reason_code=code, reason="lptui's own")


def test_agreement_follows_what_each_verdict_means():
    sleeping = parse_verdict(P + "hk_sleeper:5 is sleeping on function hk_wait_here", 1)
    assert agrees(_task(5, Reason.KTHREAD_IN_PATCHED, ("hk_wait_here [lptui_lp_x]",)), sleeping)
    assert not agrees(_task(5, Reason.KTHREAD), sleeping)
    unreliable = parse_verdict(P + "hk_sleeper:5 has an unreliable stack", 1)
    assert agrees(_task(5, Reason.UNRELIABLE_STACK), unreliable)
    assert not agrees(_task(5, Reason.UNINTERRUPTIBLE), unreliable)
    running = parse_verdict(P + "hk_sleeper:5 is running", 1)
    assert agrees(_task(5, Reason.RUNNING), running) and not agrees(_task(5, Reason.WAITING), running)


def test_a_fresh_verdict_that_disagrees_overrules_lptui_and_says_so():
    log = VerdictLog()
    log.feed(P + "hk_sleeper:5 has an unreliable stack", 10_000_000)
    (task,) = with_verdicts((_task(5, Reason.UNINTERRUPTIBLE, state="D"),), log, 12_000_000)
    assert task.reason_code is Reason.UNRELIABLE_STACK and task.own_reason is Reason.UNINTERRUPTIBLE
    assert "2 s ago" in task.reason and "disagrees" in task.reason
    assert "overrules lptui's own reading (D-state sleep)" in verdict_phrase(task, 12.0)
    # the kernel found a patched function lptui did not: the function comes from the kernel
    log.feed(P + "hk_sleeper:6 is sleeping on function hk_wait_here", 10_000_000)
    (six,) = with_verdicts((_task(6, Reason.KTHREAD),), log, 11_000_000)
    assert (six.reason_code, six.blocking_functions) == (Reason.KTHREAD_IN_PATCHED, ("hk_wait_here",))


def test_agreement_and_stale_verdicts_keep_lptuis_reason():
    log = VerdictLog()
    log.feed(P + "hk_sleeper:5 has an unreliable stack", 0)
    (old,) = with_verdicts((_task(5, Reason.KTHREAD),), log, int((FRESH_SECONDS + 1) * 1e6))
    assert old.reason_code is Reason.KTHREAD and old.verdict is not None and old.own_reason is None
    (same,) = with_verdicts((_task(5, Reason.UNRELIABLE_STACK),), log, 1_000_000)
    assert same.reason == "lptui's own" and same.verdict.kind is VerdictKind.UNRELIABLE_STACK
    # another task with that tid now (the comm differs): no verdict, no override
    (other,) = with_verdicts((_task(5, Reason.KTHREAD, comm="bash"),), log, 1_000_000)
    assert other.verdict is None and other.reason_code is Reason.KTHREAD


def test_a_new_transition_forgets_the_last_ones_verdicts():
    from lptui.core.oncall.history import LogHistory
    from lptui.core.oncall.kmsg import LogLine

    history = LogHistory()
    history.feed([LogLine(1, 5, 7, P + "hk_sleeper:5 is running")])
    assert 5 in history.verdicts.latest
    history.feed([LogLine(2, 9, 5, "livepatch: 'lp2': starting patching transition")])
    assert history.verdicts.latest == {}
