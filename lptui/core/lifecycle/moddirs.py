"""Where livepatch module files usually live for a kernel release."""

from __future__ import annotations

from pathlib import Path


def module_dirs(release: str | None) -> list[Path]:
    """kpatch's and the distributions' directories for `release`, then the current directory."""
    dirs = []
    if release:
        for base in ("var/lib/kpatch", "usr/lib/kpatch"):
            dirs.append(Path("/") / base / release)
        dirs.append(Path("/lib/modules") / release / "livepatch")
    dirs.append(Path.cwd())
    return dirs
