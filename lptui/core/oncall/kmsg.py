"""The kernel log: records from /dev/kmsg (or a rendered demo log), the livepatch lines by default."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from lptui.core.oncall.health import is_trouble

# The older systems' lines too: kGraft's "kgr succeeded" / "kgr still in progress ..." / "kgr: ..."
# (kernel/kgraft.c), the kpatch core's pr_fmt "kpatch: " (kmod/core/core.c), Ksplice's "ksplice: ..."
# and "ksplice_h: ..." (kmodsrc/ksplice.c).
INTERESTING = (
    "livepatch:",
    "lptui:",
    "tainting kernel with TAINT_LIVEPATCH",
    "kgr ",
    "kgr:",
    "kpatch:",
    "ksplice",
)


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    usec: int  # since boot
    level: int
    text: str


def parse_record(record: str) -> LogLine | None:
    """``prio,seq,usec,flags[,...];text`` (Documentation/ABI/testing/dev-kmsg)."""
    head, sep, text = record.partition(";")
    if not sep:
        return None
    fields = head.split(",")
    try:
        prio, seq, usec = int(fields[0]), int(fields[1]), int(fields[2])
    except (IndexError, ValueError):
        return None
    text = text.split("\n", 1)[0]  # continuation lines (" KEY=value") follow
    return LogLine(seq, usec, prio & 7, text)


def interesting(line: LogLine) -> bool:
    """A livepatch line, or a kernel complaint the post-load health check ties to patches (health.py)."""
    return any(mark in line.text for mark in INTERESTING) or is_trouble(line.text, line.level)


class KmsgReader:
    """Reads new records since the last call, never blocking.

    /dev/kmsg gives one record per read(); a plain file (the demo's rendered log) is re-read and
    filtered by sequence number.
    """

    def __init__(self, path: str = "/dev/kmsg") -> None:
        self.path = path
        self.last_seq = -1
        self.fd: int | None = None
        self.error: str | None = None
        self._is_device = False
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            self._is_device = not os.path.isfile(path)
        except OSError as exc:
            self.error = f"cannot read {path}: {exc.strerror}"

    def skip_to_end(self) -> None:
        """Forget what is already logged: later calls return only newer records."""
        if self.fd is None:
            return
        if self._is_device:
            with contextlib.suppress(OSError):  # devkmsg_llseek: SEEK_END moves past the last record
                os.lseek(self.fd, 0, os.SEEK_END)
        else:
            self.read_new(keep=lambda line: False)

    def read_new(self, limit: int = 5000, keep: Callable[[LogLine], bool] = interesting) -> list[LogLine]:
        """New records since the last call that `keep` accepts (by default the livepatch lines)."""
        if self.fd is None:
            return []
        out: list[LogLine] = []
        if not self._is_device:
            # a rendered log is replaced atomically (a new file each time): read it by path
            try:  # a regular file only, opened without blocking (a saved tree's dev/kmsg may be a FIFO)
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
                with os.fdopen(fd, "rb") as fh:
                    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                        return []
                    data = fh.read(4 * 1024 * 1024).decode("utf-8", "replace")
            except OSError:
                return []
            records = data.splitlines()
        else:
            records = []
            for _ in range(limit):
                try:
                    chunk = os.read(self.fd, 8192)
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno == errno.EPIPE:  # overwritten in the ring buffer: skip ahead
                        continue
                    break
                if not chunk:
                    break
                records.append(chunk.decode("utf-8", "replace"))
        for record in records:
            line = parse_record(record)
            if line is None or line.seq <= self.last_seq:
                continue
            self.last_seq = line.seq
            if keep(line):
                out.append(line)
        return out

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
