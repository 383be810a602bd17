"""The layers: the core at the bottom imports no other lptui layer and no UI library; the watcher
and the simulator import no UI library; only the console imports Textual."""

import subprocess
import sys

import pytest

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
    needed = {"lptui.cli.main", "lptui.cli.check_cmd", "lptui.cli.check_verdict"}
    heavy = ("textual", "rich", "prometheus", *unwanted)
    bad = [n for n in loaded if n not in needed and n.startswith(heavy)]
    bad += [n for n in loaded if n == "typing" and argv[0] != "tasks"]  # ~3 ms: annotations need none
    bad += [n for n in loaded if n.startswith("lptui.sim.") and n != "lptui.sim.catalog"]
    bad += [n for n in loaded if n.startswith("lptui.tui")]
    # the older systems' readers only where one is present (fake has none)
    bad += [n for n in loaded if n in ("lptui.core.systems", "lptui.core.kgraft", "lptui.core.ksplice",
                                       "lptui.core.kpatch_core")]  # fmt: skip
    assert loaded and bad == [], f"{argv} imports {bad}"
