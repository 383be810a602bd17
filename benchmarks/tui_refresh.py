"""Benchmark: how long the console's UI thread spends applying one snapshot, at 100,000 threads.

    python benchmarks/tui_refresh.py [--threads N]

Builds synthetic snapshots (N threads; 3, 1,000 and all N pending) and times the dashboard's
update on the UI thread: the first snapshot, then an unchanged one, then one where a single
task switched. Reading the kernel happens in a worker thread and is measured by scan.py.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from lptui.core.model import Direction, Features, KernelInfo, Reason, Snapshot, TaskInfo, TransitionInfo
from lptui.source import open_source
from lptui.tui.app import LptuiApp
from lptui.tui.messages import ViewReady
from lptui.watch.poller import View
from lptui.watch.tracker import TransitionTracker


def snapshot(threads: int, pending: int, skip: int = -1) -> Snapshot:
    kernel = KernelInfo("6.1.0-bench", "#1", "x86_64", True, 0, (), True, 2)
    tasks = tuple(
        TaskInfo(
            pid=1000 + i,
            tid=1000 + i,
            comm=f"worker-{i}",
            state="S",
            kthread=False,
            patch_state=0,
            pending=True,
            stack=(),
            blocking_functions=("do_thing",),
            reason_code=Reason.SLEEPING_IN_PATCHED,
            reason="sleeping",
        )
        for i in range(pending)
        if i != skip
    )
    t = TransitionInfo("lp_bench", Direction.PATCHING, 1, threads, len(tasks))
    return Snapshot(kernel, Features(), (), (), t, tasks, threads)


async def measure(threads: int, pending: int) -> tuple[float, float, float]:
    source = open_source(demo="idle")
    app = LptuiApp(source, auto_poll=False, watch_modules=False)
    tracker = TransitionTracker()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        times = []
        for i, snap in enumerate(
            (
                snapshot(threads, pending),
                snapshot(threads, pending, skip=-2),
                snapshot(threads, pending, skip=1),
            )
        ):
            # what the poll worker does off the UI thread: the tracker and the View
            tracker.observe(snap, float(i))
            rows = tracker.longest_pending(snap, 1000, float(i))
            pending_for = {t.tid: tracker.pending_for(t.tid, float(i)) or 0.0 for t in rows}
            view = View(
                snapshot=snap,
                rows=rows,
                pending_for=pending_for,
                elapsed=float(i),
                history=tuple(tracker.history),
                signal_seen=False,
                lines=(),
                notes=(),
                wall=0.0,
                boot_wall=None,
                interval=0.5,
                simulated=True,
            )
            start = time.perf_counter()
            app.on_view_ready(ViewReady(view))  # the UI thread's whole share: store, render
            times.append(time.perf_counter() - start)
            await pilot.pause()
    source.close()
    return times[0], times[1], times[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=100_000)
    args = ap.parse_args()
    head = f"{'pending':>9} {'first':>10} {'unchanged':>10} {'one switched':>13}"
    print(f"{head}   (UI thread, {args.threads} threads; 'unchanged' is one second later)")
    for pending in (3, 1000, args.threads):
        runs = [asyncio.run(measure(args.threads, pending)) for _ in range(3)]
        first, same, one = (statistics.median(r[i] for r in runs) * 1000 for i in range(3))
        print(f"{pending:>9} {first:>8.1f}ms {same:>8.1f}ms {one:>11.1f}ms")


if __name__ == "__main__":
    main()
