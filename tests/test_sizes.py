"""Small modules and small functions (issue 18): no module in lptui/ over 400 lines, no function over 60.
A rule a test does not keep is a rule the next feature breaks."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lptui"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(root.parent)
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_over_400_lines_and_no_function_over_60():
    assert oversized(PACKAGE) == []


def test_the_rule_catches_a_long_module_and_a_long_function(tmp_path):
    pkg = tmp_path / "lptui"
    pkg.mkdir()
    (pkg / "long.py").write_text("x = 1\n" * 401)
    body = "".join(f"    y{i} = {i}\n" for i in range(60))
    (pkg / "fn.py").write_text(f"def f():\n{body}")
    (pkg / "fine.py").write_text("def g():\n    return 1\n")
    assert oversized(pkg) == ["lptui/fn.py:1 f: 61 lines", "lptui/long.py: 401 lines"]
