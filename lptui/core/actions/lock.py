"""One action at a time, by root only: an exclusive flock on a lock file holding the holder's pid, so
a second lptui (console or CLI) refuses at once and names who holds it instead of waiting."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lptui.core.errors import ActionError

LIVE_LOCK = Path("/run/lock/lptui.lock") if Path("/run/lock").is_dir() else Path("/tmp/lptui.lock")


@contextmanager
def action_lock(what: str, path: Path, *, require_root: bool = True) -> Iterator[None]:
    """Hold the lock for the action `what`; ActionError (nothing done) when not root or taken."""
    if require_root and os.geteuid() != 0:
        raise ActionError(f"{what}: must be run as root (it changes kernel state); nothing was done")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ActionError(f"{what}: cannot open the lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ActionError(f"{what}: another lptui action is running (pid {holder}); try again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
