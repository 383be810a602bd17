"""The house style is kept by tools, not by hand (issue 32): the code is as `ruff format` writes it
(so no line is packed to keep a module under the size rule in tests/test_sizes.py) and `ruff check`
finds nothing; no formatter escape anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREES = ["lptui", "tests", "benchmarks", ".ci"]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TREES], cwd=ROOT, capture_output=True, text=True
    )


def test_the_code_is_as_ruff_format_writes_it():
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_check_finds_nothing():
    done = _ruff("check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_formatter_escapes():
    marker = "fmt: " + "skip"  # split so this file does not find itself
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for tree in TREES
        for path in sorted((ROOT / tree).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if marker in line or ("fmt: " + "off") in line
    ]
    assert found == []
