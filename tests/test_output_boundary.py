"""The one output boundary, held by structure: every place in lptui that can print is one of the
boundary's modules, and they pass every string through `lptui.core.shown.shown` and never read markup.

Read from the source (every module of lptui, every import and call, lazy ones too):
- only `lptui/cli/out.py` writes to stdout or stderr (`print`, `sys.stdout`, `sys.stderr`, `os.write`
  to 1 or 2) or makes a Rich console;
- only the boundary imports Rich's text, tables, consoles or markup (`rich.box` is only line styles),
  Textual's content or markup, Textual's `App` (whose notifications read markup), or any Textual widget
  that shows a string it is given (Static, Label, Button, DataTable, OptionList, Select, RichLog,
  Markdown, the command palette's hits): the rest of lptui takes them from `lptui.tui.shown`;
- the Textual widgets allowed elsewhere show lptui's own words only: their text arguments are literals;
- a border title or a tooltip (which Textual reads as markup when it is a string) is a literal or
  lptui's `Text`; a `Markdown` shows a module-level literal.
A self-test builds a module breaking each rule and checks the rule sees it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lptui"

WRITERS = {
    "lptui/cli/out.py",  # may write to stdout/stderr and make a Rich console
    "lptui/fleet/reader.py",  # the fleet's reader process: pickled views to its parent over a pipe, no person
}
RICH_BOUNDARY = {"lptui/richtext.py", "lptui/cli/out.py", "lptui/tui/shown.py"}
TEXTUAL_BOUNDARY = {"lptui/tui/shown.py"}

RICH_ALLOWED = {"rich.box"}  # line styles: no string of anyone's
# Textual widgets that show only what lptui writes in literals (checked below) or numbers
TEXTUAL_WIDGETS_ALLOWED = {
    "Footer",
    "Input",
    "TabbedContent",
    "TabPane",
    "ProgressBar",
    "Sparkline",
    "LoadingIndicator",
}
TEXTUAL_COMMAND_ALLOWED = {"Provider", "Hits"}
# the widget, the position of its text argument, and its keywords that are text
LITERAL_ONLY_CALLS = {
    "TabPane": (0, ("title",)),
    "Input": (0, ("value", "placeholder", "tooltip")),
    "Binding": (2, ("description", "tooltip")),
}
MARKUP_ATTRIBUTES = {"border_title", "border_subtitle", "tooltip"}
TEXT_MAKERS = {"Text", "as_text"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _name(node.func) + "()"
    return ""


def _is_literal(node: ast.AST | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and isinstance(node.value, str | None))


def _makes_text(node: ast.AST) -> bool:
    """`Text(...)`, `Text.assemble(...)`, `as_text(...)`, `Text(...).join(...)`: lptui's Text."""
    if _is_literal(node):
        return True
    if not isinstance(node, ast.Call):
        return False
    root = _name(node.func).split(".")[0].removesuffix("()")
    return root in TEXT_MAKERS


def _imports(tree: ast.Module) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every import anywhere in the module."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(node.lineno, node.module, alias.name) for alias in node.names]
    return out


def _import_problems(rel: str, tree: ast.Module) -> list[str]:
    bad = []
    for line, module, name in _imports(tree):
        where = f"{rel}:{line}"
        full = f"{module}.{name}" if name else module
        if module == "rich" or module.startswith("rich."):
            if rel not in RICH_BOUNDARY and module not in RICH_ALLOWED and full not in RICH_ALLOWED:
                bad.append(f"{where}: imports {full}: take Text, Table, Group from lptui.richtext")
            continue
        if rel in TEXTUAL_BOUNDARY:
            continue
        if module in ("textual.content", "textual.markup", "textual.widgets.option_list"):
            bad.append(f"{where}: imports {full}: take it from lptui.tui.shown")
        elif module == "textual.app" and name == "App":
            bad.append(f"{where}: imports Textual's App (its notify reads markup): lptui.tui.shown.App")
        elif module == "textual.widgets" and name not in TEXTUAL_WIDGETS_ALLOWED:
            bad.append(f"{where}: imports textual.widgets.{name}: take it from lptui.tui.shown")
        elif module == "textual.command" and name not in TEXTUAL_COMMAND_ALLOWED:
            bad.append(f"{where}: imports textual.command.{name}: use lptui.tui.shown.hit/discovery_hit")
    return bad


def _writer_problems(rel: str, tree: ast.Module) -> list[str]:
    if rel in WRITERS:
        return []
    bad = []
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            bad.append(f"{where}: print(): write through lptui.cli.out")
        elif isinstance(node, ast.Attribute) and _name(node) in (
            "sys.stdout",
            "sys.stderr",
            "sys.__stdout__",
            "sys.__stderr__",
        ):
            bad.append(f"{where}: {_name(node)}: write through lptui.cli.out")
        elif isinstance(node, ast.Call) and _prints_on_exit(node):  # the text goes to stderr, raw
            bad.append(f"{where}: {_name(node.func)}() of a message: write through lptui.cli.out")
        elif isinstance(node, ast.Call) and _name(node.func) in ("os.write", "os.fdopen") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and first.value in (1, 2):
                bad.append(f"{where}: {_name(node.func)}({first.value}): write through lptui.cli.out")
    return bad


def _is_text(node: ast.AST) -> bool:
    """An expression that builds a string: a literal, an f-string, or text joined to it."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))


def _prints_on_exit(call: ast.Call) -> bool:
    """SystemExit(text) and sys.exit(text) print it; Textual's App.exit(message=...) prints its message."""
    name = _name(call.func)
    if name in ("SystemExit", "sys.exit", "exit"):
        return any(_is_text(a) for a in call.args)
    return name.endswith(".exit") and any(k.arg == "message" for k in call.keywords)


def _module_constants(tree: ast.Module) -> set[str]:
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_literal(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _widget_problems(rel: str, tree: ast.Module) -> list[str]:
    if rel in TEXTUAL_BOUNDARY:
        return []
    bad = []
    constants = _module_constants(tree)
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            callee = _name(node.func).split(".")[-1]
            if callee in LITERAL_ONLY_CALLS:
                at, words = LITERAL_ONLY_CALLS[callee]
                args = node.args[at : at + 1] + [k.value for k in node.keywords if k.arg in words]
                bad += [f"{where}: {callee}() shows a non-literal string" for a in args if not _is_literal(a)]
            if callee == "Markdown":
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Name) and arg.id in constants):
                    bad.append(f"{where}: Markdown() of something other than a module-level literal")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                named = isinstance(target, ast.Attribute) and target.attr in MARKUP_ATTRIBUTES
                if named and not _makes_text(node.value):
                    bad.append(f"{where}: .{target.attr} = a string Textual reads as markup: use Text()")
    return bad


def problems(rel: str, source: str) -> list[str]:
    tree = ast.parse(source, rel)
    return _import_problems(rel, tree) + _writer_problems(rel, tree) + _widget_problems(rel, tree)


def test_every_printer_in_lptui_is_the_boundary():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        bad += problems(rel, path.read_text())
    assert not bad, "\n".join(bad)


def test_the_rules_see_each_way_around_the_boundary():
    wrong = """
import sys
from rich.text import Text
from rich.markup import escape
from textual.widgets import Static, Footer
from textual.app import App, ComposeResult
from textual.command import Hit, Provider
HELP = "literal"
def f(name, table, w):
    print(name)
    sys.stderr.write(name)
    import os; os.write(2, b"x")
    raise SystemExit(f"error: {name}")
    TabPane(f"{name}")
    Input(placeholder=name)
    Markdown(name)
    Markdown(HELP)
    table.border_title = f"All: {name}"
    table.border_title = Text(name)
    w.tooltip = name
"""
    found = problems("lptui/tui/fake.py", wrong)
    expected = [
        "rich.text",
        "rich.markup",
        "textual.widgets.Static",
        "Textual's App",
        "textual.command.Hit",
        "print()",
        "sys.stderr",
        "os.write(2)",
        "SystemExit()",
        "TabPane()",
        "Input()",
        "Markdown()",
        ".border_title",
        ".tooltip",
    ]
    for word in expected:
        assert sum(word in line for line in found) == 1, (word, found)
    assert len(found) == len(expected), found
    assert not problems("lptui/cli/out.py", "import sys\nsys.stdout.write('x')\nprint('y')\n")
