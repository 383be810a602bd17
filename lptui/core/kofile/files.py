"""Module files under a directory: a walk that is iterative (a tree a bundle made 1,200 directories deep
is no recursion) and bounded (a directory of 400,000 entries costs MAX_ENTRIES looks, not all of them),
in os.walk's top-down sorted order, never following a link to a directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")
MAX_ENTRIES = 20_000  # names looked at in one walk: a host's patch directories hold tens
MAX_DEPTH = 8  # directories below the base: DKMS installs two levels down (updates/dkms/)


@dataclass(frozen=True)
class Found:
    files: tuple[Path, ...]
    cut: str | None = None  # why the walk stopped before the end, or None


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def module_files_under(base: Path, *, max_entries: int = MAX_ENTRIES, max_depth: int = MAX_DEPTH) -> Found:
    files: list[Path] = []
    looked = 0
    stack = [(base, 0)]
    while stack:
        directory, depth = stack.pop()
        subdirs = []
        for entry in _entries(directory):
            looked += 1
            if looked > max_entries:
                cut = f"over {max_entries:,} entries under {base}: the rest not looked at"
                return Found(tuple(files), cut)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if depth < max_depth:
                    subdirs.append(Path(entry.path))
            elif entry.name.endswith(MODULE_SUFFIXES):
                files.append(Path(entry.path))
        stack.extend((d, depth + 1) for d in reversed(subdirs))
    return Found(tuple(files))
