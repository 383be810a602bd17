"""Benchmark: what the in-effect check costs an idle poll, beside the poll without it, in one run.

    python benchmarks/effect.py [--patches P] [--functions F] [--traced T] [--rounds R]

Builds a tree with P loaded livepatches of F functions each and ftrace's enabled_functions holding their
P*F livepatch records plus T other traced functions (a host running a function tracer or many kprobes;
enabled_functions lists every function with a user). Times: an idle poll's snapshot read (the baseline),
reading ftrace's tables and checking (what a patch change or the 30 s re-check costs), and a poll through
the poller's cache when nothing changed (what every other idle poll costs).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import timeit
from pathlib import Path

from lptui.core.livepatch.effect import EffectCache, read_effect
from lptui.core.snapshot import SnapshotReader
from lptui.core.tree import Tree
from lptui.watch.poller import EFFECT_EVERY


def build(root: Path, patches: int, functions: int, traced: int) -> None:
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/osrelease").write_text("6.12.0-bench\n")
    (root / "proc/loadavg").write_text("0.00 0.00 0.00 1/1 1\n")
    mounts = "tracefs /sys/kernel/tracing tracefs rw 0 0\ndebugfs /sys/kernel/debug debugfs rw 0 0\n"
    (root / "proc/mounts").write_text(mounts)
    lines = []
    for p in range(patches):
        lp = root / f"sys/kernel/livepatch/lp_{p}"
        for f in range(functions):
            (lp / f"vmlinux/func_{p}_{f},1").mkdir(parents=True)
            handler = "(klp_ftrace_handler+0x0/0x1e0)"
            lines.append(f"func_{p}_{f} (1) R I   \ttramp: 0xffffffffc0{len(lines):06x} {handler}\n")
        (lp / "enabled").write_text("1\n")
        (lp / "transition").write_text("0\n")
        module = root / f"sys/module/lp_{p}"
        module.mkdir(parents=True)
        (module / "refcnt").write_text("1\n")
    lines += [f"traced_{i} (1) R     ->ftrace_ops_list_func+0x0/0x1a0\n" for i in range(traced)]
    tracing = root / "sys/kernel/tracing"
    tracing.mkdir(parents=True)
    (tracing / "enabled_functions").write_text("".join(lines))
    debug = root / "sys/kernel/debug"
    for rel in ("kprobes/list", "fail_function/inject", "error_injection/list"):
        (debug / rel).parent.mkdir(parents=True, exist_ok=True)
        (debug / rel).write_text("")


def timed(fn, rounds: int) -> float:
    """The median of `rounds` calls, in ms."""
    return statistics.median(timeit.repeat(fn, number=1, repeat=rounds)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=3)
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--traced", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lptui-bench-effect-", dir="/dev/shm"))
    try:
        build(root, args.patches, args.functions, args.traced)
        tree = Tree(root)
        reader = SnapshotReader(tree)
        snap = reader.read()
        assert read_effect(snap, tree).findings == ()
        cache = EffectCache(EFFECT_EVERY)
        cache.get(snap, tree, 0.0)
        poll = timed(reader.read, args.rounds)
        check = timed(lambda: read_effect(snap, tree), args.rounds)
        cached = timed(lambda: (reader.read(), cache.get(snap, tree, 1.0)), args.rounds)
        table_kib = (root / "sys/kernel/tracing/enabled_functions").stat().st_size / 1024
        shape = f"{args.patches} patches x {args.functions} functions, {args.traced:,} other traced functions"
        print(f"{shape} (enabled_functions {table_kib:,.0f} KiB); median of {args.rounds}")
        print(f"  idle poll, snapshot only (baseline)     {poll:8.2f} ms")
        when = f"(a patch change; every {EFFECT_EVERY:.0f} s idle)"
        print(f"  read ftrace's tables and check          {check:8.2f} ms  {when}")
        print(f"  idle poll with the cached check         {cached:8.2f} ms  (every other idle poll)")
        per_second = check / EFFECT_EVERY
        print(f"  the check's share of idle time          {per_second:8.3f} ms/s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
