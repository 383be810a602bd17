"""`lptui inspect|load|revert|force|unload|signal`."""

from __future__ import annotations

import argparse

from lptui.cli import out
from lptui.core import exits
from lptui.core.errors import ActionError
from lptui.source import SourceError, opened

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands
    from lptui.core.actions.actions import Outcome, WaitTimeout
    from lptui.core.actions.preflight import Inspection
    from lptui.core.model import Snapshot


def _progress_printer():
    last = [-10.0]

    def show(snap: Snapshot, elapsed: float) -> None:
        t = snap.transition
        if t is None or elapsed - last[0] < 2.0:
            return
        last[0] = elapsed
        counts = f"{t.tasks_pending} of {t.tasks_total} tasks pending"
        out.line(f"lptui: {t.patch} {t.direction}: {counts} ({elapsed:.0f}s)", err=True)

    return show


def _print_inspection(ins: Inspection) -> None:
    from lptui.cli.render import add, new_table
    from lptui.richtext import Table, Text

    console = out.console()
    mod = ins.module
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("File", ins.path + (f"  ({mod.compressed}-compressed)" if mod.compressed else ""))
    for key in ("name", "vermagic", "livepatch", "license", "srcversion", "depends", "retpoline", "intree"):
        grid.add_row(key, mod.info(key) or Text("-", style="dim"))
    grid.add_row("signature", f"appended ({mod.signature_len} bytes)" if mod.signed else "none")
    grid.add_row("machine", mod.machine)
    console.print(grid)
    plan = ins.plan
    if plan.objects:
        table = new_table(f"Will patch (from {plan.source})")
        for col in ("Object", "Function"):
            add(table, col)
        add(table, "Sympos", number=True)
        add(table, "Replacement")
        for obj in plan.objects:
            if not obj.functions:
                table.add_row(obj.name, Text("callbacks only", style="dim"), "", "")
            for i, fn in enumerate(obj.functions):
                sympos = "0 (unique)" if fn.declared_sympos == 0 else str(fn.sympos)
                table.add_row(obj.name if i == 0 else "", fn.name, sympos, fn.new_func or "?")
        console.print(table)
        for obj in plan.objects:
            if obj.callbacks:
                hooks = ", ".join(f"{hook} {fn}" for hook, fn in obj.callbacks)
                console.print(f"Callbacks ({obj.name}): {hooks}")
        if plan.replace is not None:
            default = " (the builder's default; see below)" if plan.replace_by_default else ""
            console.print(f"Cumulative (replace): {'yes' if plan.replace else 'no'}{default}")
        if plan.states:
            states = ", ".join(f"id {st.id} version {st.version}" for st in plan.states)
            console.print(f"System states (klp_state): {states}")
    for note in plan.notes:
        console.print(Text(note, style="dim"))
    from lptui.core.actions.kernel_checks import preview_lines

    for line in preview_lines(ins.preview):
        console.print(line)
    marks = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "unknown": ("?", "yellow"), "error": ("✗", "red")}
    for check in ins.checks:
        mark, style = marks[check.level]
        console.print(Text(f" {mark} {check.text}", style=style))
    style = "bold red" if not ins.loadable else "bold green" if ins.certain else "bold yellow"
    console.print(Text(ins.verdict, style=style))


def _done(outcome: Outcome) -> int:
    from lptui.richtext import Text

    out.console().print(Text(outcome.message, style="green"))
    return 0


def _timeout(exc: WaitTimeout) -> int:
    from lptui.cli.tasks_render import reasons_list, tasks_table

    out.error(exc, "lptui: timeout: ")
    console = out.console()
    if exc.pending:
        console.print(tasks_table(exc.pending, all_tasks=False))
        for line in reasons_list(exc.pending):
            console.print(line)
    return exc.code


def cmd_inspect(args: argparse.Namespace) -> int:
    from lptui.core.actions.preflight import inspection_json

    with opened(args.root, args.demo) as source:
        ins = source.inspect(args.file)
        if args.json:
            out.json_out(inspection_json(ins))
        else:
            _print_inspection(ins)
    if not ins.loadable:
        return exits.NOT_LOADABLE
    return exits.CANNOT_TELL if ins.version_unknown else exits.OK


def cmd_load(args: argparse.Namespace) -> int:
    from lptui.core.actions.actions import WaitTimeout

    with opened(args.root, args.demo) as source:
        actions = source.actions()
        try:
            outcome = actions.load(
                args.file, wait=args.wait, timeout=args.timeout, progress=_progress_printer()
            )
        except WaitTimeout as exc:
            return _timeout(exc)
    return _done(outcome)


def cmd_revert(args: argparse.Namespace) -> int:
    from lptui.core.actions.actions import WaitTimeout

    with opened(args.root, args.demo) as source:
        actions = source.actions()
        try:
            outcome = actions.revert(
                args.name,
                wait=args.wait,
                unload=args.unload,
                timeout=args.timeout,
                progress=_progress_printer(),
            )
        except WaitTimeout as exc:
            return _timeout(exc)
    return _done(outcome)


def cmd_force(args: argparse.Namespace) -> int:
    with opened(args.root, args.demo) as source:
        return _done(source.actions().force(args.name, yes=args.yes))


def cmd_unload(args: argparse.Namespace) -> int:
    with opened(args.root, args.demo) as source:
        return _done(source.actions().unload(args.name))


def cmd_signal(args: argparse.Namespace) -> int:
    with opened(args.root, args.demo) as source:
        return _done(source.actions().signal(args.name))


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "inspect", cmd_inspect, help="what a .ko will patch, and whether it fits this kernel"
    ) as p:
        p.add_argument("file", metavar="FILE.ko")
        p.add_argument("--json", action="store_true", help="print JSON")

    def wait_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--wait", action="store_true", help="follow the transition to its end")
        p.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            metavar="S",
            help="stop waiting after S seconds: print the pending tasks, exit 3 (default 60)",
        )

    with cli.command("load", cmd_load, help="load a livepatch module (inspected first)") as p:
        p.add_argument("file", metavar="FILE.ko")
        wait_options(p)
    with cli.command(
        "revert", cmd_revert, help="disable a patch, or reverse the transition in progress"
    ) as p:
        p.add_argument("name", metavar="NAME")
        wait_options(p)
        p.add_argument("--unload", action="store_true", help="then remove the module (implies --wait)")
    with cli.command(
        "force", cmd_force, help="force the transition in progress (breaks the consistency guarantee)"
    ) as p:
        p.add_argument("name", metavar="NAME")
        p.add_argument("--yes", action="store_true", help="confirm: you understand the consequences")
    with cli.command("unload", cmd_unload, help="remove an inactive livepatch module") as p:
        p.add_argument("name", metavar="NAME")
    with cli.command(
        "signal", cmd_signal, help="signal tasks blocking the transition (kernels 4.15-5.0)"
    ) as p:
        p.add_argument("name", metavar="NAME")


__all__ = ["ActionError", "SourceError", "add_parsers"]
