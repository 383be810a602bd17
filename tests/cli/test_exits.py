"""One home for errors and exit codes (issue 32): lptui.core.exits mirrors README's exit-code paragraph,
every error the user is told about is an LptuiError carrying its code, and no command returns a bare
number."""

from __future__ import annotations

import re
from pathlib import Path

from lptui.core import exits
from lptui.core.errors import ActionError
from lptui.core.exits import LptuiError, UsageError
from lptui.core.kofile.modfile import ModuleFileError
from lptui.core.oncall.capture import CaptureError
from lptui.fleet.prometheus import FleetError
from lptui.source import SourceError

ROOT = Path(__file__).resolve().parents[2]


def _readme_paragraph() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("Exit codes: ")
    return " ".join(text[start : text.index("\n\n", start)].split())


def test_readme_states_each_code_as_the_module_defines_it():
    said = _readme_paragraph()
    expected = {
        exits.OK: "0 success",
        exits.ERROR: "1 error",
        exits.USAGE: "2 usage error",
        exits.TIMEOUT: "3 `--wait` or `watch --timeout` timed out",
        exits.NOT_LOADABLE: "4 `inspect`: not loadable",
        exits.NOT_PATCHED: "or `status --cve`: not patched",
        exits.NOT_YET: "5 `status --cve`: named by a patch not yet in effect",
        exits.CANNOT_TELL: "6 `inspect`: cannot tell",
        exits.UNWELL: "7 `watch`: the transition completed",
    }
    for code, words in expected.items():
        assert words in said, (code, words)
        number = re.match(r"\d+", words)
        assert number is None or int(number.group()) == code, (code, words)
    plugin = ", ".join(f"{code} {name}" for code, name in exits.PLUGIN_NAMES.items())
    assert plugin in said  # "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"


def test_every_user_facing_error_is_one_kind():
    for kind in (ActionError, SourceError, FleetError, CaptureError, ModuleFileError, UsageError):
        assert issubclass(kind, LptuiError), kind
    assert UsageError("x").code == exits.USAGE and SourceError("x").code == exits.ERROR
    assert ActionError("x", code=exits.TIMEOUT).code == exits.TIMEOUT


def test_no_command_returns_a_bare_exit_number():
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "lptui" / "cli").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\breturn [1-9]\d*\b(?!,)", line)
    ]
    assert bare == []
