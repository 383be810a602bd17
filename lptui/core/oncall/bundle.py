"""Unpacking a capture bundle that someone sent you (`lptui --root FILE.tar.gz`): the bundle is hostile
until proven a capture, and unpacking it must not exhaust the host.

Two passes over the archive, both through tarscan (raw headers, no archive library, no recursion):
1. the survey reads headers only (and the manifest, at most MAX_META bytes): every entry a plain file or
   a directory with a name that stays inside, and the bundle within every bound: MAX_ENTRIES inodes
   (files, and directories whether listed or implied by a file's path), MAX_FILE bytes a file,
   MAX_CONTENT bytes of file contents in all, MAX_FOOTPRINT of memory as tmpfs would charge it (a page a
   file, an inode a directory), and a manifest that is lptui's, its fields of the right type and range.
   A refusal here has written nothing.
2. the unpack copies each file in pieces into a new private directory (tmpfs when the survey's footprint
   is small, the disk's temporary directory otherwise), with O_EXCL and O_NOFOLLOW so nothing lands
   outside it, holding the same bounds again on what it reads (the file may have changed since).

The directory is removed on every way out but success (a refusal, a truncated archive, Ctrl-C), without
recursion; on success the caller owns it (`remove`).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lptui.core.oncall.capture import META, CaptureError, check_manifest
from lptui.core.oncall.tarscan import GzipStream, Member, TarRefused, TarUnreadable, data_pieces, members

MAX_ENTRIES = 500_000  # inodes: a capture of 100,000 threads makes ~400,000 (a file and 3 directories each)
MAX_FILE = 64 << 20  # the largest file a capture holds is a patch's module file
# File contents in all: a capture of 100,000 threads holds 0.2 MB of them; its module files are at most
# CAPTURE_MODULE_BYTES (lptui.core.evidence). Past this a bundle is not one lptui wrote.
MAX_CONTENT = 96 << 20
MAX_FOOTPRINT = 1 << 30  # what tmpfs would charge: each file at least a page, each directory an inode
# Directory entries of their own: a capture writes one only for a directory with no file below it (a
# patched function's, under sys/kernel/livepatch): a few per function, thousands at most.
MAX_LISTED_DIRS = 20_000
PAGE = 4096
INODE = 1024
MAX_META = 1 << 20
SHM_SHARE = 4  # unpack into tmpfs (RAM) when the footprint is under this fraction of the memory available


class _Refused(Exception):
    """The one-line reason, raised inside the walk."""


@dataclass
class _Count:
    """What the bundle costs so far, checked against the bounds at every entry."""

    entries: int = 0
    listed_dirs: int = 0
    content: int = 0
    footprint: int = 0
    dirs: set[str] = field(default_factory=set)  # strings: 500,000 paths as objects would cost 150 MB

    def directory(self, name: str) -> list[str]:
        """`name` and its parents not yet counted, outermost first: each is an inode."""
        new = []
        while name and name not in self.dirs:
            new.append(name)
            name = name.rpartition("/")[0]
        new.reverse()
        for d in new:
            self.dirs.add(d)
            self._inode(INODE)
        return new

    def file(self, member: Member) -> None:
        if member.size > MAX_FILE:
            raise _Refused(f"entry {member.name!r} holds {member.size:,} bytes (over {MAX_FILE:,})")
        self.content += member.size
        if self.content > MAX_CONTENT:
            raise _Refused(f"over {MAX_CONTENT:,} bytes of file contents (a capture holds far fewer)")
        self._inode(max(member.size, PAGE))

    def _inode(self, cost: int) -> None:
        self.entries += 1
        self.footprint += cost
        if self.entries > MAX_ENTRIES:
            raise _Refused(f"over {MAX_ENTRIES:,} entries (files and directories)")
        if self.footprint > MAX_FOOTPRINT:
            raise _Refused(f"over {MAX_FOOTPRINT:,} bytes unpacked (a file a page, a directory an inode)")


def _walk(path: Path, on_member: Callable[[Member, list[str], GzipStream], None]) -> _Count:
    """Both passes: every member checked and counted, handed to `on_member(member, new_dirs, stream)`
    with the directories it is the first to need."""
    count = _Count()
    first = True
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Refused("not a regular file")
    with os.fdopen(fd, "rb") as fh:
        stream = GzipStream(fh)
        for member in members(stream):
            if member.is_dir:
                count.listed_dirs += 1
                if count.listed_dirs > MAX_LISTED_DIRS:
                    raise _Refused(f"over {MAX_LISTED_DIRS:,} directory entries (a capture lists a few)")
            new_dirs = count.directory(member.name if member.is_dir else member.parent)
            if not member.is_dir:
                count.file(member)
            if first and (member.is_dir or member.name != META):
                raise _Refused(f"no {META} as its first entry: not an lptui capture")
            first = False
            on_member(member, new_dirs, stream)
    if first:
        raise _Refused(f"no {META}: not an lptui capture")
    return count


def _manifest(member: Member, stream: GzipStream) -> dict[str, Any]:
    if member.size > MAX_META:
        raise _Refused(f"{META} of {member.size:,} bytes: not an lptui capture")
    data = b"".join(data_pieces(stream, member))
    try:
        meta = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." a megabyte deep
        meta = None
    try:
        return check_manifest(meta)
    except CaptureError as why:
        raise _Refused(str(why)) from None


def _survey(path: Path) -> _Count:
    """Pass 1: the bundle's shape, checked on headers alone (and the manifest)."""

    def on_member(member: Member, new_dirs: list[str], stream: GzipStream) -> None:
        if member.name == META and not member.is_dir:
            _manifest(member, stream)
        elif not member.is_dir:
            stream.skip(member.size + (-member.size % 512))

    return _walk(path, on_member)


def _unpack(path: Path, target: Path) -> None:
    """Pass 2: the files, copied piece by piece; the bounds are held again on what is read."""

    def on_member(member: Member, new_dirs: list[str], stream: GzipStream) -> None:
        for d in new_dirs:  # outermost first; each is new (the walk counted it once)
            os.mkdir(os.path.join(target, d), 0o755)
        if member.is_dir:
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(os.path.join(target, member.name), flags, 0o644)
        try:
            for piece in data_pieces(stream, member):
                os.write(fd, piece)
        finally:
            os.close(fd)

    _walk(path, on_member)


_UNREADABLE = (TarUnreadable, EOFError, OSError, zlib.error)


def extract_bundle(path: Path) -> Path:
    """Unpack a capture into a new private temporary directory, or refuse it in one line."""
    try:
        count = _survey(path)
    except _UNREADABLE as exc:
        raise CaptureError(f"{path}: not a readable capture bundle ({exc})") from None
    except (_Refused, TarRefused) as why:
        raise CaptureError(f"{path}: {why}") from None
    target = Path(tempfile.mkdtemp(prefix="lptui-replay-", dir=_where(count.footprint)))
    try:
        _unpack(path, target)
    except _UNREADABLE as exc:
        remove(target)
        raise CaptureError(f"{path}: not a readable capture bundle ({exc})") from None
    except (_Refused, TarRefused) as why:
        remove(target)
        raise CaptureError(f"{path}: {why}") from None
    except BaseException:  # Ctrl-C mid-unpack included: nothing is left behind
        remove(target)
        raise
    return target


def _memory_available() -> int:
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh.read(1 << 16).splitlines():
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _where(footprint: int) -> str | None:
    """tmpfs when there is one and the bundle takes a small share of the memory available (a capture of
    100,000 threads is 400,000 inodes: 10 s into tmpfs, over a minute into a disk's ext4); the disk's
    temporary directory otherwise."""
    if not os.access("/dev/shm", os.W_OK | os.X_OK):
        return None
    return "/dev/shm" if footprint * SHM_SHARE < _memory_available() else None


def remove(path: Path) -> None:
    """Remove a tree lptui made, without recursion (shutil.rmtree recurses: a tree 1,200 directories deep
    ended in RecursionError and stayed in /dev/shm) and without following a link."""
    stack = [str(path)]
    dirs = []
    while stack:
        directory = stack.pop()
        dirs.append(directory)
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue
    for directory in reversed(dirs):  # the deepest last found, first removed
        try:
            os.rmdir(directory)
        except OSError:
            continue
