"""`lptui verdicts`: the kernel's own verdict on each pending task, from a bounded, restored window of
klp_try_switch_task's debug lines (lptui/core/actions/verdict_window.py), beside lptui's own reason."""

from __future__ import annotations

import argparse

from lptui.cli import out
from lptui.core.errors import ActionError
from lptui.source import opened

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands


def cmd_verdicts(args: argparse.Namespace) -> int:
    from lptui.core.actions.verdict_window import DEFAULT_SECONDS, MAX_SECONDS
    from lptui.core.livepatch.verdicts import agrees
    from lptui.core.snapshot import read_snapshot

    seconds = DEFAULT_SECONDS if args.seconds is None else args.seconds
    if not 0 < seconds <= MAX_SECONDS:
        raise ActionError(f"--seconds must be above 0 and at most {MAX_SECONDS:.0f}")
    with opened(args.root, args.demo) as source:
        result = source.verdict_window(seconds, args.max_pending)
        with source.reading():
            snap = read_snapshot(source.tree)  # lptui's own reading, after the window
    own = {t.tid: t for t in snap.pending_tasks}
    rows = []
    for pid, verdict in sorted(result.verdicts.items()):
        task = own.get(pid)
        mine = task if task is not None and task.comm is not None else None
        rows.append(
            {
                "tid": pid,
                "comm": verdict.comm,
                "verdict": verdict.kind.value,
                "function": verdict.function,
                "lptui_reason": mine.reason_code.value if mine else None,
                "agrees": agrees(mine, verdict) if mine else None,  # None: it switched since
            }
        )
    if args.json:
        out.json_out({"seconds": round(result.seconds, 2), "lines": result.lines, "verdicts": rows})
        return 0
    out.line(
        f"{result.lines} verdict line(s) in {result.seconds:.1f} s; {result.restored} debug flag(s) restored"
    )
    for row in rows:
        func = f" {row['function']}" if row["function"] else ""
        said = "switched since" if row["agrees"] is None else "agrees" if row["agrees"] else "DISAGREES"
        out.line(
            f"{row['tid']:>8} {row['comm']:<16} {row['verdict']}{func}  lptui: {row['lptui_reason']} ({said})"
        )
    if not rows:
        out.line("No verdict line: no task was left to check (the transition may have completed).")
    return 0


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "verdicts",
        cmd_verdicts,
        help="turn on the kernel's per-task verdicts for a few seconds, read them, restore",
    ) as p:
        p.add_argument(
            "--seconds", type=float, metavar="N", help="how long (default 3.5: three retries; max 30)"
        )
        p.add_argument(
            "--max-pending",
            type=int,
            default=200,
            metavar="N",
            help="refuse with more pending tasks (default 200)",
        )
        p.add_argument("--json", action="store_true", help="print JSON")
