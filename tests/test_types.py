"""The type checker holds the code (issue 32): mypy, as pyproject.toml configures it (strict on the core
and the fleet, untyped bodies checked everywhere), finds nothing; every `# type: ignore` left says why
on its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_nothing():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_type_ignore_says_why():
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "lptui").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "# type: ignore" in line
        and not line.rstrip().rpartition("# type: ignore")[2].partition("#")[2].strip()
    ]
    assert bare == []


MARKER = "TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)"


def test_type_checking_is_written_one_way():
    """By hand: `status --json` must not import typing (tests/test_import_hygiene.py); mypy reads any
    `TYPE_CHECKING` as true."""
    other = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "lptui").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "TYPE_CHECKING" in line and line not in (MARKER, "if TYPE_CHECKING:")
    ]
    assert other == []
