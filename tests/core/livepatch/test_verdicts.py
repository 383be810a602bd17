"""The kernel's verdict lines (klp_try_switch_task) parsed from the right, matched by pid, never forged."""

from lptui.core.livepatch.verdicts import VerdictLog, parse_verdict

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
