"""`lptui check`: a monitoring plugin (Nagios, Icinga, Sensu, checkmk): one status line with perfdata,
and the plugin exit codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Thresholds are on the transition's age. Defaults: WARNING after 60 s (kpatch gives up waiting after
60 s; the kernel has sent its fake signal at 15 s and retried every second by then), CRITICAL after
300 s (a transition that old will not finish by itself: until it does, no other patch can load).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
DEFAULT_WARN = 60.0
DEFAULT_CRIT = 300.0


@dataclass(frozen=True)
class Verdict:
    code: int
    summary: str
    perfdata: dict[str, tuple[float | int | None, str, float | None, float | None]]  # value, unit, warn, crit
    details: dict[str, Any]

    def line(self) -> str:
        perf = " ".join(
            f"{name}={'' if value is None else value}{unit};{'' if w is None else int(w)};"
            f"{'' if c is None else int(c)};0;"
            for name, (value, unit, w, c) in self.perfdata.items()
        )
        return f"LIVEPATCH {NAMES[self.code]} - {self.summary}" + (f" | {perf}" if perf else "")


def judge(view, *, warn: float, crit: float, live_not_root: bool) -> Verdict:
    from lptui.core.history import age_text

    snap = view.snapshot
    t = snap.transition
    age = view.age.age_seconds if view.age is not None else None
    perf: dict[str, tuple[float | int | None, str, float | None, float | None]] = {
        "pending": (t.tasks_pending if t else 0, "", None, None),
        "age": (round(age) if age is not None else 0, "s", warn, crit),
        "total": (snap.threads_total, "", None, None),
        "patches": (len(snap.patches), "", None, None),
    }
    details: dict[str, Any] = {"warn": warn, "crit": crit}
    if not snap.kernel.livepatch_supported:
        return Verdict(OK, "no live patching on this kernel (no /sys/kernel/livepatch)", perf, details)
    if live_not_root:
        return Verdict(
            UNKNOWN, "cannot read the per-task state: run as root (e.g. through sudo)", perf, details
        )
    problems: list[tuple[int, str]] = []
    if view.forced:
        names = ", ".join(sorted({e.patch for e in view.forced if e.patch})) or "patch unknown"
        problems.append((CRITICAL, f"a transition was forced this boot ({names}): plan a reboot"))
    gone = [m.name for m in snap.inactive_modules]
    if gone:
        problems.append((CRITICAL, f"patch module loaded with its patch gone: {', '.join(gone)}"))
    if t is not None:
        if t.tasks_unknown:
            return Verdict(
                UNKNOWN, f"{t.tasks_unknown} thread(s) have an unreadable patch_state", perf, details
            )
        source = "kernel log" if view.age and view.age.source == "kernel-log" else "seen by lptui"
        text = (f"{t.patch} {t.direction} for {age_text(age)} ({source}): "
                f"{t.tasks_pending} of {t.tasks_total} threads pending")  # fmt: skip
        if view.rows:
            first = view.rows[0]
            where = f" in {first.blocking_functions[0]}" if first.blocking_functions else ""
            text += f", first {first.comm} ({first.pid}){where}"
        code = CRITICAL if (age or 0) >= crit else WARNING if (age or 0) >= warn else OK
        problems.append((code, text))
    if not problems:
        n = len(snap.patches)
        return Verdict(
            OK, f"no transition in progress, {n} patch{'es' if n != 1 else ''} loaded", perf, details
        )
    problems.sort(key=lambda p: -p[0])
    return Verdict(problems[0][0], "; ".join(text for _, text in problems), perf, details)


def cmd_check(args: argparse.Namespace) -> int:
    from lptui.core.jsonify import age_json, transition_json
    from lptui.source import SourceError, opened
    from lptui.watch.poller import Poller

    if args.warn < 0 or args.crit < 0 or args.warn > args.crit:
        print("LIVEPATCH UNKNOWN - --warn must be at most --crit, both 0 or more", file=sys.stdout)
        return UNKNOWN
    try:
        with opened(args.root, args.demo) as source:
            poller = Poller(source)
            try:
                view = poller.poll()
            finally:
                poller.close()
            live_not_root = not source.simulated and not source.read_only and os.geteuid() != 0
    except SourceError as exc:
        print(f"LIVEPATCH UNKNOWN - {exc}")
        return UNKNOWN
    except Exception as exc:  # a plugin never dies with a traceback: it says UNKNOWN
        print(f"LIVEPATCH UNKNOWN - cannot read the live patching state: {type(exc).__name__}: {exc}")
        return UNKNOWN
    verdict = judge(view, warn=args.warn, crit=args.crit, live_not_root=live_not_root)
    if args.json:
        snap = view.snapshot
        data = {
            "status": NAMES[verdict.code],
            "code": verdict.code,
            "summary": verdict.summary,
            "perfdata": {k: {"value": v, "unit": u, "warn": w, "crit": c}
                         for k, (v, u, w, c) in verdict.perfdata.items()},
            "transition": age_json(transition_json(snap.transition), _OnCallView(view)),
            "forced_this_boot": bool(view.forced),
            "blockers": [{"pid": t.pid, "tid": t.tid, "comm": t.comm, "functions": list(t.blocking_functions),
                          "reason_code": str(t.reason_code)} for t in view.rows[:20]],
        }  # fmt: skip
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        print(verdict.line())
    return verdict.code


class _OnCallView:
    """The view's age in the shape `age_json` takes."""

    def __init__(self, view) -> None:
        self.age = view.age


def add_parser(sub, source_options) -> dict:
    p = sub.add_parser(
        "check",
        help="monitoring plugin: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        description="Nagios/Icinga/Sensu/checkmk plugin. WARNING when a transition is older than --warn, "
        "CRITICAL when older than --crit, when a transition was forced this boot, or when a patch module "
        "is loaded with its patch gone; UNKNOWN when the state cannot be read (e.g. not root). A kernel "
        "without live patching is OK.",
    )
    p.add_argument("--warn", type=float, default=DEFAULT_WARN, metavar="SECONDS",
                   help=f"transition age for WARNING (default {DEFAULT_WARN:.0f})")  # fmt: skip
    p.add_argument("--crit", type=float, default=DEFAULT_CRIT, metavar="SECONDS",
                   help=f"transition age for CRITICAL (default {DEFAULT_CRIT:.0f})")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON instead of the plugin line")
    source_options(p)
    return {"check": cmd_check}
