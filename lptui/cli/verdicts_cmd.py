"""`lptui verdicts`: the kernel's own verdict on each pending task, from a bounded, restored window of
klp_try_switch_task's debug lines (lptui/core/actions/verdict_window.py)."""

from __future__ import annotations

import argparse
import os

from lptui.cli import out
from lptui.core.errors import ActionError
from lptui.source import opened


def cmd_verdicts(args: argparse.Namespace) -> int:
    from lptui.core.actions.audit import Audit
    from lptui.core.actions.verdict_window import (
        DEFAULT_SECONDS,
        MAX_SECONDS,
        check_gates,
        control_writer,
        run_window,
    )
    from lptui.core.snapshot import read_snapshot

    seconds = DEFAULT_SECONDS if args.seconds is None else args.seconds
    if not 0 < seconds <= MAX_SECONDS:
        raise ActionError(f"--seconds must be above 0 and at most {MAX_SECONDS:.0f}")
    with opened(args.root, args.demo) as source:
        if source.read_only or source.simulated:
            raise ActionError("verdicts turns on the live kernel's dynamic debug: run it on the live kernel")
        if os.geteuid() != 0:
            raise ActionError("verdicts writes /proc/dynamic_debug/control: run it as root")
        snap = read_snapshot(source.tree)
        pending = None if snap.transition is None else snap.transition.tasks_pending
        gate = check_gates(source.tree, pending, snap.transition is not None, max_pending=args.max_pending)
        audit = Audit()
        audit.record(f"verdicts: klp_try_switch_task debug on for {seconds:g} s", ok=True)
        result = run_window(gate, seconds, "/dev/kmsg", control_writer("/"))
        audit.record(
            f"verdicts: {result.lines} line(s) in {result.seconds:.1f} s; "
            f"{result.restored} call site(s) restored",
            ok=True,
        )
    tids = {t.tid: t for t in snap.pending_tasks}
    rows = []
    for pid, verdict in sorted(result.verdicts.items()):
        task = tids.get(pid)
        mine = task is not None and task.comm is not None
        rows.append(
            {
                "tid": pid,
                "comm": verdict.comm,
                "verdict": verdict.kind,
                "function": verdict.function,
                "lptui_reason": task.reason_code.value if mine and task else None,
            }
        )
    if args.json:
        out.json_out({"seconds": round(result.seconds, 2), "lines": result.lines, "verdicts": rows})
        return 0
    out.line(f"{result.lines} verdict line(s) in {result.seconds:.1f} s; debug flags restored")
    for row in rows:
        func = f" {row['function']}" if row["function"] else ""
        out.line(f"{row['tid']:>8} {row['comm']:<16} {row['verdict']}{func}  (lptui: {row['lptui_reason']})")
    return 0


def add_parsers(sub, source_options) -> dict:
    p = sub.add_parser(
        "verdicts", help="turn on the kernel's per-task verdicts for a few seconds, read them, restore"
    )
    p.add_argument("--seconds", type=float, metavar="N", help="how long (default 3.5: three retries; max 30)")
    p.add_argument(
        "--max-pending",
        type=int,
        default=200,
        metavar="N",
        help="refuse with more pending tasks (default 200)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    source_options(p)
    return {"verdicts": cmd_verdicts}
