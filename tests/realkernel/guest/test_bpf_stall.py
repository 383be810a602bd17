"""BPF-trampoline stalls on the real kernel (issue 29's table), with bpftrace's kretfunc: the kernel's
own verdict is "has an unreliable stack"; lptui says unreliable_stack, names the traced function and
whether the program is attached, agrees with the kernel on every pending task, and watch sees the
transition end once the program is gone. /proc/uptime lies under the test patch: the age stays right."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lptui.core.livepatch.bpfstall import attached_trampolines
from lptui.core.tree import Tree
from tests.realkernel.guest.kmod import (
    LP,
    insmod,
    kernel_agrees,
    load_patch,
    lptui,
    pending_tids_by_kernel,
    pid_of,
    read,
    set_param,
    switch_task_sites,
    wait_for,
)

TRACING = Path("/sys/kernel/tracing")
PROGRAM = "kretfunc:msleep { @m = count(); } kretfunc:do_nanosleep { @n = count(); }"
SLOW = 600.0  # bpftrace compiles with LLVM: minutes under software emulation


def direct_callers() -> str:
    return (TRACING / "enabled_functions").read_text()


@pytest.fixture
def bpftrace(request):
    """bpftrace running PROGRAM (or the test's own, by indirect parametrization), attached."""
    program, function = getattr(request, "param", (PROGRAM, "msleep"))
    if shutil.which("bpftrace") is None:
        pytest.fail("bpftrace is not installed (the harness installs Debian's bpftrace 0.17)")
    if not (TRACING / "enabled_functions").exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACING)], check=True)
    log = open("/tmp/bpftrace.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(["bpftrace", "-e", program], stdout=log, stderr=subprocess.STDOUT)
    try:

        def attached() -> bool:
            text = direct_callers()
            return (function in text and "direct-->bpf_trampoline_" in text) or proc.poll() is not None

        wait_for(attached, timeout=SLOW, interval=1.0, what="bpftrace to attach")
        assert proc.poll() is None, Path("/tmp/bpftrace.log").read_text()[-2000:]
        yield proc
    finally:
        if proc.poll() is None:
            end(proc)
        log.close()


def end(proc: subprocess.Popen) -> None:
    """bpftrace's own way out (SIGINT: print the maps, detach); a bpftrace that has not gone 120 s later is
    killed, which detaches its programs too (seen once under emulation: SIGINT never returned)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SLOW)


def stop(proc: subprocess.Popen) -> None:
    end(proc)
    wait_for(lambda: "direct-->bpf_trampoline_" not in direct_callers(), timeout=120, what="the detach")


def stack_of(tid: int) -> str:
    return read(f"/proc/{tid}/task/{tid}/stack")


def test_bpf_trampoline_stalls_named_agreed_and_ended(bpftrace):
    insmod("lptui_hk")
    sleeper, longsleeper = pid_of("hk_sleeper"), pid_of("hk_longsleep")
    wait_for(lambda: "bpf_trampoline_" in stack_of(sleeper), what="hk_sleeper asleep through the trampoline")
    set_param("lptui_hk", "long_ms", "40000")  # its next nap outlasts the program
    wait_for(lambda: "bpf_trampoline_" in stack_of(longsleeper), what="hk_longsleep in a long nap")
    napper = subprocess.Popen(["sleep", "1000"])
    try:
        wait_for(lambda: "bpf_trampoline_" in stack_of(napper.pid), what="sleep in do_nanosleep")
        loaded = time.monotonic()
        load_patch("lptui_lp_uptime", wait=False)
        assert read("/proc/uptime") == "1.00 1.00"  # the patch is in effect for this process already
        wait_for(lambda: {sleeper, longsleeper} <= pending_tids_by_kernel(1), what="the kthreads pending")
        # ftrace's own table names the function each trampoline is attached to, as lptui reads it
        assert "msleep" in attached_trampolines(Tree("/")).values()
        out = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp"))
        for what in ("link", "prog"):  # what this bpftool prints, kept for the record
            done = subprocess.run(["bpftool", what, "show", "--json"], capture_output=True, text=True)
            (out / f"bpftool-{what}.json").write_text(done.stdout)
        tasks = {t["tid"]: t for t in lptui("tasks")["tasks"]}
        for tid, traced in ((sleeper, "msleep"), (longsleeper, "msleep"), (napper.pid, "do_nanosleep")):
            if tid not in tasks:
                assert tid == napper.pid  # the fake signal (15 s in) may have moved it already
                continue
            task = tasks[tid]
            assert task["reason_code"] == "unreliable_stack", task
            assert f"the BPF trampoline on {traced} (bpf_trampoline_" in task["reason"], task["reason"]
            assert "still attached" in task["reason"], task["reason"]
            if shutil.which("bpftool"):  # the programs and who holds them
                assert "bpftrace pid" in task["reason"], task["reason"]
        assert "kernel thread" in tasks[sleeper]["reason"]
        rows = kernel_agrees("BPF fexit on msleep and do_nanosleep (bpftrace)")
        said = {row["tid"]: row for row in rows}
        assert said[sleeper]["verdict"] == said[longsleeper]["verdict"] == "unreliable_stack"
        # the transition's age from the kernel's clock, not from the patched /proc/uptime
        age = lptui("status")["transition"]["age_seconds"]
        assert abs(age - (time.monotonic() - loaded)) < 10, age
        stop(bpftrace)
        if "bpf_trampoline_" in stack_of(longsleeper):  # the long nap that began through it goes on
            task = next(t for t in lptui("tasks")["tasks"] if t["tid"] == longsleeper)
            assert "stale frame" in task["reason"] and "not in enabled_functions" in task["reason"]
        watched = subprocess.run(
            [sys.executable, "-m", "lptui", "watch", "--timeout", "300"],
            capture_output=True,
            text=True,
            timeout=SLOW,
        )
        assert watched.returncode == 0, watched.stdout[-2000:] + watched.stderr[-2000:]
        assert "complete" in watched.stdout.lower(), watched.stdout[-2000:]
        assert read(LP / "lptui_lp_uptime/transition") == "0"
    finally:
        napper.kill()
        napper.wait()


def test_a_killed_verdicts_window_is_restored_at_the_next_start(bpftrace):
    insmod("lptui_hk")
    sleeper = pid_of("hk_sleeper")
    wait_for(lambda: "bpf_trampoline_" in stack_of(sleeper), what="hk_sleeper asleep through the trampoline")
    before = switch_task_sites()
    load_patch("lptui_lp_uptime", wait=False)
    argv = [sys.executable, "-m", "lptui", "verdicts", "--seconds", "30"]
    window = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def opened() -> bool:
        return switch_task_sites() != before or window.poll() is not None

    wait_for(opened, timeout=SLOW, interval=0.5, what="the window to open")
    assert window.poll() is None, "lptui verdicts ended before it was killed"
    window.send_signal(signal.SIGKILL)
    window.wait()
    assert switch_task_sites() != before  # killed mid-window: the sites still print
    assert Path("/run/lptui/dyndbg-restore.json").exists()
    lptui("status")  # any lptui start puts them back (no systemd in this guest: the record does it)
    assert switch_task_sites() == before and not Path("/run/lptui/dyndbg-restore.json").exists()
    stop(bpftrace)
    wait_for(
        lambda: read(LP / "lptui_lp_uptime/transition") == "0", timeout=120, what="the transition to end"
    )


SCHEDULE_TIMEOUT = ("kretfunc:schedule_timeout { @t = count(); }", "schedule_timeout")


@pytest.mark.parametrize("bpftrace", [SCHEDULE_TIMEOUT], indirect=True)
def test_a_program_on_schedule_timeout_stalls_kernel_threads_named_and_agreed(bpftrace):
    """The table's second row: fexit on schedule_timeout. Every kernel thread asleep through it
    (kcompactd0 among them, and hk_sleeper's msleep) is named with the traced function, and the
    kernel's verdict agrees for every pending task."""
    insmod("lptui_hk")
    sleeper = pid_of("hk_sleeper")
    wait_for(lambda: "bpf_trampoline_" in stack_of(sleeper), what="hk_sleeper asleep through the trampoline")
    load_patch("lptui_lp_uptime", wait=False)
    wait_for(lambda: sleeper in pending_tids_by_kernel(1), what="hk_sleeper pending")
    tasks = lptui("tasks")["tasks"]
    assert tasks and all(t["reason_code"] == "unreliable_stack" for t in tasks), tasks
    assert all("the BPF trampoline on schedule_timeout" in t["reason"] for t in tasks)
    assert sleeper in {t["tid"] for t in tasks}
    rows = kernel_agrees("BPF fexit on schedule_timeout (bpftrace)")
    assert {r["verdict"] for r in rows} == {"unreliable_stack"}
    stop(bpftrace)
    wait_for(
        lambda: read(LP / "lptui_lp_uptime/transition") == "0", timeout=300, what="the transition to end"
    )
