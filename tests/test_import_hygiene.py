"""The kernel-facing core and the simulator never import Textual (or Rich)."""

import subprocess
import sys

CHECK = (
    "import sys, pkgutil, importlib, lptui.core, lptui.sim\n"
    "for pkg in (lptui.core, lptui.sim):\n"
    "    for m in pkgutil.iter_modules(pkg.__path__):\n"
    "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
    "print(sorted(m for m in ('textual', 'rich') if m in sys.modules))\n"
)


def test_core_and_sim_import_no_ui_libraries():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


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
