"""The simulator's file writes: atomic replacement and pruning of what the kernel has freed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_file(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    # plain descriptors, not pathlib and file objects: a demo's first render writes ~1,300 files
    # before the console can paint
    tmp = f"{path.parent}/.{path.name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode() if isinstance(text, str) else text)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def prune_dir(path: Path, wanted: set[str]) -> None:
    """Remove entries of `path` not in `wanted` (a freed patch, an unloaded module, an exited task)."""
    if not path.is_dir():
        return
    for entry in os.listdir(path):
        if entry not in wanted and not entry.startswith("."):
            target = path / entry
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)


def write(path: Path, text: str, mode: int = 0o444) -> None:
    """Write a file, making its directory first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, text, mode)


def sync(path: Path, wanted: set[str]) -> None:
    """Make a directory and keep in it only `wanted`."""
    path.mkdir(parents=True, exist_ok=True)
    prune_dir(path, wanted)
