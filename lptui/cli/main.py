"""`lptui` command line: argparse in, exit code out (0 ok, 1 error, 2 usage)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence

from lptui import __version__
from lptui.cli import out
from lptui.core import exits
from lptui.core.exits import LptuiError, UsageError
from lptui.sim.catalog import SUMMARIES
from lptui.source import opened

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _cve_id(text: str) -> str:
    import re

    from lptui.core.model import CVE_PATTERN

    if not re.fullmatch(CVE_PATTERN, text, re.IGNORECASE):
        raise argparse.ArgumentTypeError(f"{text!r} is not a CVE id (CVE-YYYY-NNNN)")
    return text.upper()


class Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _source_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default: Any = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("where to read the kernel")
    group.add_argument(
        "--root",
        metavar="DIR",
        default=default,
        help="read a kernel tree under DIR (holding sys/ and proc/); read-only",
    )
    group.add_argument(
        "--demo",
        metavar="SCENARIO",
        default=default,
        choices=sorted(SUMMARIES),
        help="use a simulated kernel: " + "; ".join(f"{name}: {what}" for name, what in SUMMARIES.items()),
    )


# The module holding each command's arguments and code. Only the command being run is imported and has
# its parser built: each argparse parser costs ~0.7 ms (gettext looks for translations each time), a
# quarter of `lptui status --json`'s start-up if all thirteen were built.
_MODULES = {
    "inspect": "actions_cmd",
    "load": "actions_cmd",
    "revert": "actions_cmd",
    "force": "actions_cmd",
    "unload": "actions_cmd",
    "signal": "actions_cmd",
    "check": "check_cmd",
    "watch": "follow_cmd",
    "metrics": "metrics_cmd",
    "capture": "capture_cmd",
    "fleet": "fleet_cmd",
    "verdicts": "verdicts_cmd",
}
_TOP_VALUED = ("--root", "--demo")  # top-level options that take a value


def wanted_command(argv: Sequence[str]) -> str | None:
    """The command argv runs, when it can be told before parsing: "" for the console (no command: no
    command parser is built); None means build every parser (help, or a word argparse should reject
    with the full list)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _TOP_VALUED:
            i += 2
        elif word.startswith("-"):
            if word in ("-h", "--help"):
                return None
            i += 1
        else:
            return word if word in _MODULES or word in ("status", "tasks") else None
    return ""


class _Skipped:
    """Stands in for the parser of a command that is not being run: takes its definitions, builds nothing."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        pass

    def add_argument_group(self, *args: Any, **kwargs: Any) -> _Skipped:
        return self

    def set_defaults(self, **kwargs: Any) -> None:
        pass


class _Only:
    """The subparsers action, building only the wanted command's parser (all when wanted is None)."""

    def __init__(self, sub: Any, wanted: str | None) -> None:
        self.sub, self.wanted = sub, wanted

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self.wanted is None or name == self.wanted:
            return self.sub.add_parser(name, **kwargs)
        return _Skipped()


class Commands:
    """What each command module's `add_parsers(cli)` is handed: `cli.command(name, run, **parser_args)`
    yields the command's parser (a stand-in when another command is being run: _Only), then gives it the
    source options (--root, --demo) last, as its usage line shows them, and records `run`."""

    def __init__(self, only: _Only) -> None:
        self.only = only

    @contextlib.contextmanager
    def command(
        self, name: str, run: Callable[[argparse.Namespace], int], *, source: bool = True, **kwargs: Any
    ) -> Iterator[Any]:
        parser = self.only.add_parser(name, **kwargs)
        yield parser
        if source:
            _source_options(parser, top=False)
        COMMANDS.setdefault(name, run)  # main() builds a parser per call: the first registration stands


def build_parser(wanted: str | None = None) -> Parser:
    parser = Parser(
        prog="lptui",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  sudo lptui                          the console on this kernel\n"
        "  lptui --demo stuck                  the console on a simulated stuck transition\n"
        "  sudo lptui tasks                    who blocks the transition, and why\n"
        "  sudo lptui status --json            everything, for scripts\n"
        "  sudo lptui revert NAME --wait       cancel a stuck transition (or disable a patch)\n",
        description="A console for Linux kernel live patching. "
        "Without a command, opens the interactive console.",
    )
    parser.add_argument("--version", action="version", version=f"lptui {__version__}")
    _source_options(parser, top=True)
    parser.set_defaults(json=False, all=False, verbose=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    only = _Only(sub, wanted)

    cli = Commands(only)
    _add_parsers(cli)
    for module in dict.fromkeys(_MODULES.values()):
        if wanted is None or _MODULES.get(wanted) == module:
            importlib.import_module(f"lptui.cli.{module}").add_parsers(cli)
    return parser


def _add_parsers(cli: Commands) -> None:
    """`status` and `tasks`, the commands this module runs itself."""
    status_help = "kernel, loaded patches, where they came from, and the transition in progress"
    with cli.command("status", cmd_status, help=status_help) as status:
        status.add_argument("--json", action="store_true", help="print JSON (see README for the keys)")
        status.add_argument(
            "--cve",
            metavar="CVE-YYYY-NNNN",
            type=_cve_id,
            help="is this CVE live-patched here? exit 0 yes (enabled, transition complete), "
            f"{exits.NOT_PATCHED} no patch names it, {exits.NOT_YET} a patch names it but is disabled or "
            "still in transition",
        )
    with cli.command("tasks", cmd_tasks, help="threads holding up the transition, and why") as tasks:
        tasks.add_argument(
            "--all", action="store_true", help="every thread with its patch_state, not only pending ones"
        )
        tasks.add_argument("--json", action="store_true", help="print JSON (see README for the keys)")
        tasks.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="each blocker's stack, patched frames marked, how long, and on the live host whether it is "
            "making progress (its context switches and CPU time over 1 s)",
        )


def cmd_status(args: argparse.Namespace) -> int:
    from lptui.core.lifecycle.provenance import read_life_cycle
    from lptui.core.output.jsonify import status_json
    from lptui.core.snapshot import read_snapshot

    with opened(args.root, args.demo) as source:
        snap = read_snapshot(source.tree)
        life = read_life_cycle(source.tree, snap)
        if args.cve:
            return _answer_cve(args, snap, life)
        oncall = source.on_call(snap, source.wall_now())
        if args.json:
            out.json_out(status_json(snap, oncall, life))
        else:
            from lptui.cli.render import status_renderable

            out.console().print(status_renderable(snap, source.label, oncall, life))
    return exits.OK


def _answer_cve(args: argparse.Namespace, snap, life) -> int:
    from lptui.core.lifecycle.provenance import answer_cve

    answer = answer_cve(args.cve, snap, life)
    code = exits.OK if answer.live else exits.NOT_YET if answer.patches else exits.NOT_PATCHED
    if args.json:
        patches = [{"name": n, "enabled": e, "transition_complete": c} for n, e, c in answer.patches]
        out.json_out(
            {
                "cve": answer.cve,
                "live_patched": answer.live,
                "patches": patches,
                "unreadable_patches": list(answer.unknown),
                "installed_not_loaded": list(answer.not_loaded),
            }
        )
        return code
    if not answer.patches:
        out.line(
            f"{answer.cve}: no loaded patch names it (lptui reads the CVE ids in each patch module's "
            ".modinfo and its package's changelog)"
        )
        if answer.unknown:
            out.line(f"  cannot tell for {', '.join(answer.unknown)}: no module file found to read")
    for path in answer.not_loaded:
        out.line(f"  installed but not loaded: {path} names it (`lptui load` it to apply the fix)")
    for name, enabled, complete in answer.patches:
        if enabled and complete:
            state = "live-patched"
        else:
            state = "not yet: its transition is in progress" if enabled else "not live: the patch is disabled"
        out.line(f"{answer.cve}: {state} by {name}")
    return code


def cmd_tasks(args: argparse.Namespace) -> int:
    from lptui.core.output.jsonify import tasks_json
    from lptui.core.snapshot import read_all_tasks_of, read_snapshot

    with opened(args.root, args.demo) as source:
        snap = read_snapshot(source.tree)
        oncall = source.on_call(snap, source.wall_now(), in_effect=False)
        # the kernel's own verdicts put on the tasks (oncall's snapshot has them on the pending ones)
        tasks = oncall.snapshot.pending_tasks
        if args.all:
            tasks = oncall.judged(read_all_tasks_of(source.tree, snap))
        if args.json:
            out.json_out(tasks_json(snap, tasks, oncall))
            return exits.OK
        from lptui.cli.render import transition_line
        from lptui.cli.tasks_render import reasons_list, tasks_table

        console = out.console()
        console.print(transition_line(snap, oncall))
        if tasks:
            console.print(tasks_table(tasks, all_tasks=args.all))
            if args.verbose:
                from lptui.cli.tasks_render import verbose_tasks

                verbose_tasks(source, tasks, oncall)
            elif not args.all:
                for line in reasons_list(tasks):
                    console.print(line)
            if (
                snap.transition is not None
                and not oncall.verdicts_seen
                and source.can_act
                and not source.simulated
            ):
                from lptui.core.actions.verdict_window import DEFAULT_SECONDS
                from lptui.core.livepatch.verdicts import TURN_ON

                on = f"`{TURN_ON}` turns it on for {DEFAULT_SECONDS:g} s"
                console.print(f"The kernel's own verdict per task is off: {on}.")
        elif snap.transition is None and not args.all and snap.kernel.livepatch_supported:
            console.print("Nothing is pending: with no transition every thread reads patch_state -1.")
        for note in snap.notes:
            console.print(note, style="yellow")
    return exits.OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}  # filled by build_parser
# A `lptui verdicts` that was killed (SIGKILL) leaves the saved dynamic-debug flags here; the next lptui
# start on the live kernel puts them back (verdict_window.RESTORE_RECORD; the transient timer, where
# systemd runs, may already have).
LEFTOVER = "/run/lptui/dyndbg-restore.json"


def restore_leftover_verdicts() -> None:
    from lptui.core.actions.verdict_window import RESTORE_RECORD, control_writer, restore_leftover

    try:
        count = restore_leftover(control_writer("/"), RESTORE_RECORD)
    except OSError as exc:
        out.error(f"cannot restore the dynamic-debug flags a killed `lptui verdicts` left on: {exc.strerror}")
        return
    if count:
        out.line(
            f"lptui: restored {count} dynamic-debug call site(s) a killed `lptui verdicts` left on", err=True
        )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(wanted_command(argv)).parse_args(argv)
    except UsageError as exc:
        return _said(exc)
    try:
        if (
            os.path.exists(LEFTOVER)
            and getattr(args, "root", None) is None
            and getattr(args, "demo", None) is None
        ):
            restore_leftover_verdicts()
        if args.command is None:
            from lptui.cli.console_cmd import run_console

            return run_console(args)
        return COMMANDS[args.command](args)
    except LptuiError as exc:
        return _said(exc)
    except BrokenPipeError:
        return exits.OK
    except KeyboardInterrupt:
        return exits.INTERRUPTED
    except Exception as exc:  # last resort: one line, never a traceback (LPTUI_DEBUG=1 shows it)
        if os.environ.get("LPTUI_DEBUG"):
            raise
        out.error(f"{type(exc).__name__}: {exc} (set LPTUI_DEBUG=1 for details)", "lptui: internal error: ")
        return exits.ERROR


def _said(exc: LptuiError) -> int:
    """Every error the user is told about: one line (and lptui's own detail lines after it), its code."""
    out.error(exc, f"lptui: {exc.label}: ")
    if exc.detail:
        out.lines(exc.detail, err=True)
    return exc.code


def entry() -> None:
    sys.exit(main())
