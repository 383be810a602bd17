"""On call, on a real kernel: the transition's real age from the kernel log even when lptui starts
30 s late, `check` by its thresholds, `metrics`, and a capture replayed on the host (test_guest_suite)."""

import contextlib
import io
import json
import os
import time
from pathlib import Path

from lptui.cli.main import main
from tests.realkernel.guest import kmod
from tests.realkernel.guest.kmod import LP, insmod, load_patch, pending_tids_by_kernel, pid_of, read, wait_for


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def start_line_seconds(patch: str) -> float:
    """The kernel's own timestamp of "'<patch>': starting patching transition", read from /dev/kmsg."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    found = None
    try:
        while True:
            try:
                record = os.read(fd, 8192).decode("utf-8", "replace")
            except BlockingIOError:
                break
            head, _, text = record.partition(";")
            if f"'{patch}': starting patching transition" in text:
                found = int(head.split(",")[2]) / 1e6
    finally:
        os.close(fd)
    assert found is not None, "the start line is not in the kernel log"
    return found


def test_real_stall_age_check_metrics_and_capture():
    insmod("lptui_target")  # block=Y: its kthread sleeps inside lptui_target_sleep
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: read(LP / "lptui_lp_target/transition") == "1", what="transition to start")
    logged = start_line_seconds("lptui_lp_target")
    time.sleep(30)  # lptui starts late
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=90, what="only the sleeper pending")

    code, out = run("status", "--json")
    t = json.loads(out)["transition"]
    uptime = float(read("/proc/uptime").split()[0])
    boot = time.time() - uptime
    from datetime import datetime

    started = datetime.fromisoformat(t["started_at"]).timestamp()
    assert t["age_source"] == "kernel-log" and t["age_seconds"] >= 30
    assert abs(started - (boot + logged)) <= 2, (started, boot + logged)

    code, out = run("check", "--warn", "10", "--crit", "100000")
    assert code == 1 and out.startswith("LIVEPATCH WARNING") and "lptui_sleeper" in out, out
    assert "lptui_target_sleep" in out and "pending=1;" in out
    code, out = run("check", "--warn", "5", "--crit", "10")
    assert code == 2 and out.startswith("LIVEPATCH CRITICAL"), out
    code, out = run("check", "--warn", "100000", "--crit", "200000")
    assert code == 0 and out.startswith("LIVEPATCH OK"), out
    (row,) = kmod.kernel_agrees("kthread asleep in the patched function, lptui started late")
    assert row["tid"] == sleeper and row["verdict"] == "sleeping_on"

    code, out = run("metrics")
    assert code == 0 and "lptui_transition_tasks_pending 1.0" in out
    assert 'lptui_blocked_tasks{reason="kthread_in_patched_function"} 1.0' in out
    age = float(
        next(line.split()[1] for line in out.splitlines() if line.startswith("lptui_transition_age_seconds"))
    )
    real_age = float(read("/proc/uptime").split()[0]) - logged
    assert abs(age - real_age) <= 5, (age, real_age)

    bundle = Path(os.environ.get("LPTUI_GUEST_OUT", "/tmp")) / "capture-stall.tar.gz"
    code, out = run("capture", "-o", str(bundle), "--force")
    assert code == 0 and bundle.exists(), out
    code, replayed = run("--root", str(bundle), "tasks", "--json")
    (task,) = json.loads(replayed)["tasks"]
    assert task["comm"] == "lptui_sleeper" and task["blocking_functions"] == ["lptui_target_sleep"]
    import tarfile

    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
        assert (
            f"proc/{sleeper}/task/{sleeper}/stack" in names
            and "sys/kernel/livepatch/lptui_lp_target/enabled" in names
        )
        assert json.load(tar.extractfile("tasks.json")) == json.loads(replayed)
