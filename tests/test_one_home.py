"""Each kernel file parsed once, in the core, and each rule written once (issue 32): /proc/<pid>/stat is
split only by parse_stat, USER_HZ and the CVE pattern are defined once, and the CLI names no kernel file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lptui"


def _sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE.parent)): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}


def test_stat_is_split_by_parse_stat_alone():
    # the one way to find stat's fields: after the last ')' (comm may hold ')' and spaces)
    found = [name for name, text in _sources().items() if 'rfind(")")' in text]
    assert found == ["lptui/core/livepatch/tasks.py"]


def test_user_hz_and_the_cve_pattern_are_defined_once():
    sources = _sources()
    assert [n for n, t in sources.items() if re.search(r"^USER_HZ = ", t, re.M)] == [
        "lptui/core/livepatch/tasks.py"
    ]
    assert [n for n, t in sources.items() if r"CVE-\d{4}" in t] == ["lptui/core/model.py"]
    assert not [n for n, t in sources.items() if re.search(r"/ 100\b", t)]


def test_the_cli_names_no_kernel_file():
    """Commands ask the core; a string naming a file under /proc or /sys in lptui/cli is a read of its own."""
    named = []
    for name, text in _sources().items():
        if not name.startswith("lptui/cli/"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.match(r"/?(proc|sys)/", node.value):
                    named.append(f"{name}: {node.value!r}")
            elif isinstance(node, ast.JoinedStr):
                head = node.values[0] if node.values else None
                if isinstance(head, ast.Constant) and re.match(r"/?(proc|sys)/", str(head.value)):
                    named.append(f"{name}:{node.lineno}")
    assert named == []
