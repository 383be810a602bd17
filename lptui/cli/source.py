"""Where a command reads the kernel from: the live root, a tree (--root) or a demo (--demo)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lptui.core.tree import Tree
from lptui.sim.session import SimSession, UnknownScenario


class SourceError(Exception):
    """A one-line, user-facing problem with --root or --demo."""


@dataclass
class Source:
    tree: Tree
    label: str
    session: SimSession | None = None

    @property
    def read_only(self) -> bool:
        return self.session is None and os.path.realpath(self.tree.root) != "/"


@contextlib.contextmanager
def open_source(root: str | None, demo: str | None) -> Iterator[Source]:
    if root is not None and demo is not None:
        raise SourceError("--root and --demo cannot be used together")
    if demo is not None:
        try:
            session = SimSession.from_scenario(demo, speed=0)
        except UnknownScenario as exc:
            raise SourceError(str(exc)) from None
        try:
            yield Source(Tree(session.root), f"demo:{demo}", session)
        finally:
            session.close()
        return
    path = Path(root) if root is not None else Path("/")
    if not path.exists():
        raise SourceError(f"--root {root}: no such directory")
    if not path.is_dir():
        raise SourceError(f"--root {root}: not a directory")
    if root is not None and not (path / "proc").is_dir() and not (path / "sys").is_dir():
        raise SourceError(
            f"--root {root}: holds neither proc/ nor sys/ (expected a copy of a kernel's / tree)"
        )
    yield Source(Tree(path), str(path))
