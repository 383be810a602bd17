"""The records are documented as drgn documents its own (issue 32): every class in lptui/core/model.py says
which kernel object it mirrors, and each record with optional fields says when they are None."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from lptui.core import model

SOURCE = Path(model.__file__).read_text()


def test_every_class_has_a_docstring():
    bare = [
        n.name for n in ast.parse(SOURCE).body if isinstance(n, ast.ClassDef) and not ast.get_docstring(n)
    ]
    assert bare == []


def test_a_record_with_optional_fields_says_when_they_are_none():
    silent = []
    for name, kind in vars(model).items():
        if not (
            isinstance(kind, type) and dataclasses.is_dataclass(kind) and kind.__module__ == model.__name__
        ):
            continue
        optional = [f.name for f in dataclasses.fields(kind) if "None" in str(f.type)]
        if (
            optional
            and "None" not in (kind.__doc__ or "")
            and not all(_commented(kind.__name__, field) for field in optional)
        ):
            silent.append(name)
    assert silent == []


def _commented(cls: str, field: str) -> bool:
    """The field's line in the class body carries a comment."""
    body = SOURCE[SOURCE.index(f"class {cls}") :]
    line = next(line for line in body.splitlines() if line.strip().startswith(f"{field}:"))
    return "#" in line
