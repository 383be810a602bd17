"""lptui's task scan against the C floor, in the same guest, with 10,000 real threads during a real
stalled transition (issue 11). Software emulation makes absolute times meaningless; the ratios hold.
The numbers go to $LPTUI_GUEST_OUT/scan-floor.json; the host test prints them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from benchmarks.floor import median_time
from lptui.core.snapshot import SnapshotReader
from lptui.core.tree import Tree
from tests.realkernel.guest.kmod import MODULES, insmod, load_patch, pid_of, read, wait_for

THREADS = 10_000
ROUNDS = 3


def floor_counts() -> tuple[int, int]:
    """The C floor (benchmarks/floor_reader.c): threads read, and those neither -1 nor target 1."""
    out = subprocess.run(
        [str(MODULES / "floor_reader"), "/proc", "1"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


def median_seconds(fn) -> float:
    return median_time(fn, ROUNDS)


def test_scan_of_10000_real_threads_against_the_c_floor(kernel_label):
    limit = Path("/proc/sys/kernel/threads-max")
    if int(read(limit)) < 2 * THREADS:  # a 2 GB guest allows ~16,000; room for the rest of the system
        limit.write_text(str(2 * THREADS))
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    many = subprocess.Popen(
        [str(MODULES / "lptui_threads"), str(THREADS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert many.stdout.readline().split() == ["ready", str(THREADS)]
        load_patch("lptui_lp_target", wait=False)
        # sleeping user threads switch at the kernel's next try (klp_transition_work_fn, every second);
        # the kthread sleeping in the patched function never does
        wait_for(lambda: floor_counts()[1] == 1, timeout=600, interval=2, what="only the sleeper pending")

        floor_total, floor_pending = floor_counts()
        c_floor = median_seconds(floor_counts)
        first = median_seconds(lambda: SnapshotReader(Tree("/")).read())
        reader = SnapshotReader(Tree("/"))
        snap = reader.read()
        rescan = median_seconds(reader.read)
        again = reader.read()

        for s in (snap, again):
            assert s.transition is not None and s.transition.patch == "lptui_lp_target"
            assert [t.tid for t in s.pending_tasks] == [sleeper] and s.transition.tasks_pending == 1
        assert floor_pending == 1
        assert floor_total >= THREADS and abs(snap.threads_total - floor_total) <= 50  # both list them all
        results = {
            "kernel": os.uname().release,
            "threads": floor_total,
            "c_floor_s": round(c_floor, 3),
            "lptui_first_scan_s": round(first, 3),
            "lptui_rescan_s": round(rescan, 3),
            "first_scan_x_c_floor": round(first / c_floor, 2),
            "rescan_share_of_first": round(rescan / first, 3),
        }
        print(json.dumps(results))
        out = os.environ.get("LPTUI_GUEST_OUT")
        if out:
            (Path(out) / "scan-floor.json").write_text(json.dumps(results, indent=2) + "\n")
    finally:
        many.stdin.close()
        many.wait(timeout=120)
