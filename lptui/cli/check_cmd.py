"""`lptui check`: a monitoring plugin (Nagios, Icinga, Sensu, checkmk): one status line with perfdata,
and the plugin exit codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Thresholds are on the transition's age. Defaults: WARNING after 60 s (kpatch gives up waiting after
60 s; the kernel has sent its fake signal at 15 s and retried every second by then), CRITICAL after
300 s (a transition that old will not finish by itself: until it does, no other patch can load).
"""

from __future__ import annotations

import argparse
import os

from lptui.cli import out

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands


DEFAULT_WARN = 60.0
DEFAULT_CRIT = 300.0


def cmd_check(args: argparse.Namespace) -> int:
    from lptui.cli.check_verdict import NAMES, UNKNOWN, judge
    from lptui.source import SourceError, opened
    from lptui.watch.poller import Poller

    if args.warn < 0 or args.crit < 0 or args.warn > args.crit:
        out.plugin_line("LIVEPATCH UNKNOWN - --warn must be at most --crit, both 0 or more")
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
        out.plugin_line(f"LIVEPATCH UNKNOWN - {exc}")
        return UNKNOWN
    except Exception as exc:  # a plugin never dies with a traceback: it says UNKNOWN
        why = f"{type(exc).__name__}: {exc}"
        out.plugin_line(f"LIVEPATCH UNKNOWN - cannot read the live patching state: {why}")
        return UNKNOWN
    verdict = judge(view, warn=args.warn, crit=args.crit, live_not_root=live_not_root)
    if args.json:
        from lptui.core.output.jsonify import age_json, effect_json, transition_json

        snap = view.snapshot
        data = {
            "status": NAMES[verdict.code],
            "code": verdict.code,
            "summary": verdict.summary,
            "perfdata": {
                k: {"value": v, "unit": u, "warn": w, "crit": c}
                for k, (v, u, w, c) in verdict.perfdata.items()
            },
            "transition": age_json(transition_json(snap.transition), view.age),
            # as `status --json` says it: null when the kernel log could not be read
            "forced_this_boot": view.oncall.forced_this_boot if view.oncall is not None else None,
            "blockers": [
                {
                    "pid": t.pid,
                    "tid": t.tid,
                    "comm": t.comm,
                    "functions": list(t.blocking_functions),
                    "reason_code": str(t.reason_code),
                }
                for t in view.rows[:20]
            ],
        }
        if view.oncall is not None:
            data.update(effect_json(view.oncall))
        out.json_out(data)
    else:
        out.line(verdict.line())
    return verdict.code


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "check",
        cmd_check,
        help="monitoring plugin: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        description="Nagios/Icinga/Sensu/checkmk plugin. WARNING when a transition is older than --warn, "
        "when an enabled patch is not in effect on a function (ftrace's enabled_functions) or a BPF "
        "program may override it, or when the kernel logged a WARNING after a patch went in; CRITICAL "
        "when older than --crit, when a transition was forced this boot, when a patch module is loaded "
        "with its patch gone, or when the kernel oopsed (Oops, BUG) after a patch went in; UNKNOWN when "
        "the state cannot be read (e.g. not root). A kernel without live patching is OK.",
    ) as p:
        p.add_argument(
            "--warn",
            type=float,
            default=DEFAULT_WARN,
            metavar="SECONDS",
            help=f"transition age for WARNING (default {DEFAULT_WARN:.0f})",
        )
        p.add_argument(
            "--crit",
            type=float,
            default=DEFAULT_CRIT,
            metavar="SECONDS",
            help=f"transition age for CRITICAL (default {DEFAULT_CRIT:.0f})",
        )
        p.add_argument("--json", action="store_true", help="print JSON instead of the plugin line")
