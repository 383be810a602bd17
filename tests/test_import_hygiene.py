"""The layers: the core at the bottom imports no other lptui layer and no UI library; the watcher
and the simulator import no UI library; only the console imports Textual. Inside the core, each
sub-package imports only the ones below it (CORE_RULES), and no module of lptui is part of an
import circle. The rules are read from the source (every import: top-level, lazy, TYPE_CHECKING),
so a lazy import cannot hide an arrow pointing the wrong way."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lptui"

# The core's units, bottom to top, and what each may import besides itself. The foundation is the
# core's top-level modules: the records (model, declared), the file access (tree) and the errors.
FOUNDATION = (
    "lptui.core.model",
    "lptui.core.tree",
    "lptui.core.errors",
    "lptui.core.exits",
    "lptui.core.declared",
    "lptui.core.shown",
)
CORE_RULES: dict[str, tuple[str, ...]] = {
    "foundation": (),
    "lptui.core.livepatch": ("foundation",),
    "lptui.core.kofile": ("foundation",),
    "lptui.core.oncall": ("foundation", "lptui.core.livepatch"),
    "lptui.core.legacy": ("foundation", "lptui.core.livepatch"),
    "lptui.core.lifecycle": ("foundation", "lptui.core.kofile"),
    "lptui.core.snapshot": ("foundation", "lptui.core.livepatch", "lptui.core.legacy"),
    "lptui.core.output": ("foundation", "lptui.core.livepatch", "lptui.core.oncall", "lptui.core.lifecycle"),
    "lptui.core.evidence": (
        "foundation",
        "lptui.core.livepatch",
        "lptui.core.kofile",
        "lptui.core.oncall",
        "lptui.core.lifecycle",
    ),
    "lptui.core.actions": (
        "foundation",
        "lptui.core.livepatch",
        "lptui.core.kofile",
        "lptui.core.oncall",
        "lptui.core.legacy",
        "lptui.core.lifecycle",
        "lptui.core.snapshot",
    ),
}


def module_graph(package: Path) -> dict[str, set[str]]:
    """module -> the modules of the same project it imports (anywhere in its body)."""
    root = package.parent
    modules = {}
    for path in sorted(package.rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    top = package.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_pkg else 0)]
                    frm = ".".join(base + ([node.module] if node.module else []))
                else:
                    frm = node.module or ""
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
                targets = [f"{frm}.{a.name}" if f"{frm}.{a.name}" in modules else frm for a in node.names]
            else:
                continue
            deps.update(t for t in targets if t.split(".")[0] == top and t in modules and t != name)
        graph[name] = deps
    return graph


def core_unit(module: str) -> str | None:
    if module in FOUNDATION:
        return "foundation"
    for unit in CORE_RULES:
        if module == unit or module.startswith(unit + "."):
            return unit
    return None


def rule_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, deps in graph.items():
        unit = core_unit(module)
        if module.startswith("lptui.core.") and unit is None:
            bad.append(f"{module}: not in any unit of CORE_RULES (a new core module needs a place)")
            continue
        for dep in deps:
            dep_unit = core_unit(dep)
            if unit is None or dep_unit is None or dep_unit == unit:
                continue
            if dep_unit not in CORE_RULES[unit]:
                allowed = ", ".join(CORE_RULES[unit]) or "nothing"
                bad.append(f"{module} imports {dep}: {unit} may import only {allowed}")
    return sorted(bad)


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_core_units_import_only_what_is_below_them():
    assert rule_violations(module_graph(PACKAGE)) == []


def test_no_import_circle_in_lptui():
    assert import_circles(module_graph(PACKAGE)) == []


def test_every_core_sub_package_says_what_it_holds():
    for init in sorted((PACKAGE / "core").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "May import" in doc, f"{init}: its docstring must say what it holds and may import"
        assert f"lptui.core.{init.parent.name}" in CORE_RULES, f"{init.parent.name} has no rule"


def test_the_rules_catch_a_wrong_arrow_and_a_circle(tmp_path):
    """The checks themselves can fail: a reader importing an action (lazily), and a circle."""
    core = tmp_path / "lptui" / "core"
    for pkg in ("livepatch", "actions"):
        (core / pkg).mkdir(parents=True)
        (core / pkg / "__init__.py").write_text("")
    (tmp_path / "lptui" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    (core / "model.py").write_text("")
    (core / "livepatch" / "scan.py").write_text("def f():\n    from lptui.core.actions import lock\n")
    (core / "actions" / "lock.py").write_text("from lptui.core.livepatch.scan import f\n")
    (core / "stray.py").write_text("from . import model\n")
    graph = module_graph(tmp_path / "lptui")
    assert graph["lptui.core.stray"] == {"lptui.core.model"}
    bad = rule_violations(graph)
    assert any(b.startswith("lptui.core.livepatch.scan imports lptui.core.actions.lock") for b in bad)
    assert any(b.startswith("lptui.core.stray: not in any unit") for b in bad)
    assert import_circles(graph) == [["lptui.core.actions.lock", "lptui.core.livepatch.scan"]]


IMPORT_ALL = (
    "import sys, pkgutil, importlib\n"
    "pkg = importlib.import_module({package!r})\n"
    "for m in pkgutil.iter_modules(pkg.__path__):\n"
    "    importlib.import_module(pkg.__name__ + '.' + m.name)\n"
    "print(sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'rich') and '.' not in n\n"
    "             or n.startswith(('lptui.sim', 'lptui.watch', 'lptui.tui', 'lptui.cli', 'lptui.source'))))\n"
)

FORBIDDEN = {
    # package -> module prefixes it must never pull in
    "lptui.core": ("textual", "rich", "lptui.sim", "lptui.watch", "lptui.tui", "lptui.cli", "lptui.source"),
    "lptui.sim": ("textual", "rich", "lptui.watch", "lptui.tui", "lptui.cli"),
    "lptui.watch": ("textual", "rich", "lptui.tui", "lptui.cli"),
    "lptui.fleet": ("textual", "rich", "lptui.sim", "lptui.watch", "lptui.tui", "lptui.cli", "lptui.source"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports(package):
    code = IMPORT_ALL.format(package=package)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)  # a printed list of module names
    bad = [name for name in loaded if name.startswith(FORBIDDEN[package])]
    assert bad == [], f"{package} imports {bad}"


def test_guard_catches_a_violation(tmp_path):
    """The check itself can fail: a core module importing the simulator is reported."""
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import lptui.sim.session\n")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n" + IMPORT_ALL.format(package="fakepkg")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "lptui.sim.session" in eval(out)


def test_status_json_does_not_import_textual():
    code = (
        "import sys, io, contextlib\n"
        "from lptui.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['status', '--demo', 'idle', '--json'])\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


LOADED_BY = (
    "import sys, io, contextlib\n"
    "from lptui.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    main({argv!r})\n"
    "print(sorted(n for n in sys.modules if n.startswith(('lptui', 'textual', 'rich', 'prometheus'))\n"
    "             or n == 'typing'))\n"
)

# lptui's own modules each command loads (packages aside: their __init__ holds a docstring only),
# as counted before the core was split into sub-packages (issue 18): the split must not add any.
# each count includes the output boundary: lptui.core.shown and lptui.cli.out
# +1 in issue 29: the log's verdicts; in issue 30 +1 (the post-load health read from the log) and, for
# status and check, +2 (the in-effect check and ftrace's table, read only where a settled patch is loaded)
MODULES_LOADED = {
    "status": 24,
    "check": 28,
    "tasks": 21,
}  # check: +1 the status line, +1 the shared verdict rules (issue 31)
LEAF_MODULES = (
    "import sys, io, contextlib\n"
    "from lptui.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    main({argv!r})\n"
    "print(sorted(n for n, m in sys.modules.items()\n"
    "             if n.startswith('lptui') and not hasattr(m, '__path__')))\n"
)


@pytest.mark.parametrize(
    "argv, unwanted",
    [
        (["status", "--json"], ("lptui.cli.",)),
        (["check"], ("lptui.cli.actions_cmd", "lptui.cli.follow_cmd", "lptui.cli.capture_cmd")),
        (["tasks", "--json"], ("lptui.cli.",)),
    ],
)
def test_a_command_imports_only_what_it_needs(fake, argv, unwanted):
    """Start-up cost is imports: no simulator without --demo, no Rich without a table, no Textual and no
    other command's module (issue 11: `status --json` within 2x of Python importing its own basics)."""
    code = LOADED_BY.format(argv=["--root", str(fake.root), *argv])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)
    needed = {"lptui.cli.main", "lptui.cli.out", "lptui.cli.check_cmd", "lptui.cli.check_verdict"}
    heavy = ("textual", "rich", "prometheus", *unwanted)
    bad = [n for n in loaded if n not in needed and n.startswith(heavy)]
    bad += [n for n in loaded if n == "typing" and argv[0] != "tasks"]  # ~3 ms: annotations need none
    bad += [n for n in loaded if n.startswith("lptui.sim.") and n != "lptui.sim.catalog"]
    bad += [n for n in loaded if n.startswith("lptui.tui")]
    # the older systems' readers only where one is present (fake has none)
    bad += [n for n in loaded if n.startswith("lptui.core.legacy.")]
    assert loaded and bad == [], f"{argv} imports {bad}"
    code = LEAF_MODULES.format(argv=["--root", str(fake.root), *argv])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    leaves = eval(out)
    assert len(leaves) <= MODULES_LOADED[argv[0]], f"{argv} loads {len(leaves)} modules: {leaves}"
