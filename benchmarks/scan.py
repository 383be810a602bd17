"""Benchmark: what a refresh costs, idle and during a transition, on a large fake /proc.

    python benchmarks/scan.py [--threads N] [--pending K] [--rounds R] [--system livepatch|kgraft]

Builds a tree of N threads on tmpfs (K of them pending), then times and counts file reads for:
an idle refresh, the first scan of a transition, and the incremental rescans after it, beside a full
rescan (a reader with no memory) in the same run. `--system kgraft`: N single-threaded processes on a
kGraft kernel (no upstream core), the per-process kgr_in_progress flag as the state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from lptui.core.snapshot import SnapshotReader
from lptui.core.tree import Read, Tree


class CountingTree(Tree):
    def __init__(self, root) -> None:
        super().__init__(root)
        self.count = 0

    def read(self, rel: str) -> Read:
        self.count += 1
        return super().read(rel)


def build_tasks(
    root: Path, tasks: int, release: str, per_task: dict[str, str], per_process: dict[str, str]
) -> None:
    """The kernel files every refresh reads, and `tasks` single-threaded processes with `per_task` files
    in /proc/<pid>/task/<pid> (patch_state) and `per_process` ones in /proc/<pid> (kgr_in_progress)."""
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/osrelease").write_text(release + "\n")
    (root / "proc/loadavg").write_text(f"0.00 0.00 0.00 1/{tasks} {tasks + 1000}\n")
    stat_tail = " ".join(["0"] * 43)
    for i in range(tasks):
        pid = 1000 + i
        d = root / f"proc/{pid}/task/{pid}"
        d.mkdir(parents=True)
        (d / "comm").write_text("worker\n")
        (d / "stat").write_text(f"{pid} (worker) S 1 {pid} {pid} 0 -1 4194560 {stat_tail}\n")
        (d / "stack").write_text("[<0>] ep_poll+0x1/0x2\n")
        for name, text in per_task.items():
            (d / name).write_text(text)
        for name, text in per_process.items():
            (root / f"proc/{pid}" / name).write_text(text)


def build(root: Path, threads: int, pending: int) -> None:
    lp = root / "sys/kernel/livepatch/lp_bench"
    (lp / "vmlinux/cmdline_proc_show,1").mkdir(parents=True)
    (lp / "enabled").write_text("1\n")
    (lp / "transition").write_text("0\n")
    build_tasks(root, threads, "6.1.0-bench", {"patch_state": "-1\n"}, {})


KGR_HEAD = f"{'Function':<20s}   Weak  State\n"  # kernel/kgraft_files.c state_show (weak-state revision)


def build_kgraft(root: Path, processes: int) -> None:
    kgr = root / "sys/kernel/kgraft"
    (kgr / "kgr_bench").mkdir(parents=True)
    (kgr / "in_progress").write_text("0\n")
    (kgr / "kgr_bench/state").write_text(KGR_HEAD + f"{'cmdline_proc_show':<20s}  {0:5d}  {2:5d}\n")
    (root / "sys/module").mkdir(parents=True)
    build_tasks(root, processes, "3.12.74-bench", {}, {"kgr_in_progress": "0\n"})


def start_kgraft(root: Path, processes: int, pending: int) -> None:
    kgr = root / "sys/kernel/kgraft"
    (kgr / "in_progress").write_text("1\n")
    (kgr / "kgr_bench/state").write_text(KGR_HEAD + f"{'cmdline_proc_show':<20s}  {0:5d}  {1:5d}\n")
    for i in range(pending):
        (root / f"proc/{1000 + i}/kgr_in_progress").write_text("1\n")


def set_states(root: Path, threads: int, pending: int, value_done: str) -> None:
    for i in range(threads):
        pid = 1000 + i
        state = "0" if i < pending else value_done
        (root / f"proc/{pid}/task/{pid}/patch_state").write_text(state + "\n")


def measure(reader: SnapshotReader, tree: CountingTree, rounds: int) -> tuple[float, int]:
    times, reads = [], []
    for _ in range(rounds):
        tree.count = 0
        start = time.perf_counter()
        reader.read()
        times.append(time.perf_counter() - start)
        reads.append(tree.count)
    return statistics.median(times), int(statistics.median(reads))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=20_000)
    ap.add_argument("--pending", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--system", choices=("livepatch", "kgraft"), default="livepatch")
    args = ap.parse_args()
    kgraft = args.system == "kgraft"
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="lptui-bench-", dir=base))
    try:
        t0 = time.perf_counter()
        if kgraft:
            build_kgraft(root, args.threads)
        else:
            build(root, args.threads, args.pending)
        what = "kGraft processes" if kgraft else "threads"
        print(f"built {args.threads} {what} in {time.perf_counter() - t0:.1f}s under {root}")
        tree = CountingTree(root)
        reader = SnapshotReader(tree)
        idle_t, idle_r = measure(reader, tree, args.rounds)

        if kgraft:
            start_kgraft(root, args.threads, args.pending)
        else:
            (root / "sys/kernel/livepatch/lp_bench/transition").write_text("1\n")
            set_states(root, args.threads, args.pending, "1")
        first_t, first_r = measure(reader, tree, 1)
        incr_t, incr_r = measure(reader, tree, args.rounds)
        full_reader = SnapshotReader(tree)  # no memory between refreshes: every refresh is a full scan
        full_t, full_r = 0.0, 0
        for _ in range(args.rounds):
            full_reader.scanner.reset()
            full_reader._kgr = None  # kGraft's memo of migrated processes, likewise forgotten
            t, r = measure(full_reader, tree, 1)
            full_t, full_r = full_t + t / args.rounds, r

        print(f"{'refresh':<34}{'median time':>12}{'file reads':>12}")
        for label, t, r in (
            ("idle (no transition)", idle_t, idle_r),
            ("transition, first scan", first_t, first_r),
            ("transition, incremental rescan", incr_t, incr_r),
            ("transition, full rescan (baseline)", full_t, full_r),
        ):
            print(f"{label:<34}{t * 1000:>10.1f}ms{r:>12}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
