"""Unpacking a capture bundle that someone sent you (`lptui --root FILE.tar.gz`): the bundle is hostile
until proven a capture, and unpacking it must not exhaust the host.

Two passes over the gzip stream, both sequential (tarfile's stream mode, nothing seeks back):
1. the survey reads only headers (and the manifest, at most MAX_META bytes): every entry a plain file or
   directory, a relative name that stays inside, at most MAX_ENTRIES entries, no file over MAX_FILE, at
   most MAX_TOTAL bytes in all (a file counted as at least one page, what tmpfs charges for it), and a
   manifest that is lptui's. A refusal here has written nothing.
2. the unpack copies each file in CHUNK-sized pieces into a new private directory (tmpfs when the
   survey's total is small, the disk's temporary directory otherwise), with O_EXCL and O_NOFOLLOW so
   nothing lands outside it, counting bytes again (the stream, not the survey, is what gets written).

Memory stays bounded whatever the bundle: one header (an extended pax or GNU long-name header is refused
over MAX_HEADER, before tarfile reads it whole), one CHUNK, and the set of directories made. tarfile's
own list of every member read is emptied as the walk goes (at 500,000 entries it would be ~300 MB).
The directory is removed on every way out but success; on success the caller owns it.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from lptui.core.oncall.capture import META, CaptureError

MAX_ENTRIES = 500_000  # a capture of 100,000 threads holds ~110,000
MAX_FILE = 64 << 20  # the largest file a capture holds is the kernel log's livepatch lines
MAX_TOTAL = 1 << 30  # bytes unpacked in all, each file counted as at least PAGE
MAX_META = 1 << 20
MAX_HEADER = 64 << 10  # a pax or GNU long-name header: a long path is a few hundred bytes
SHM_BELOW = 64 << 20  # unpack into tmpfs (RAM) only when the whole is smaller than this
PAGE = 4096
CHUNK = 64 << 10
_EXTENDED = {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
             tarfile.GNUTYPE_LONGLINK}  # fmt: skip


class _Refused(Exception):
    """Raised inside tarfile's walk; carries the one-line reason out of it."""


class _BoundedInfo(tarfile.TarInfo):
    """tarfile's hook for its member class: an extended header's size is checked before tarfile reads
    it into memory whole (tarfile.TarInfo._proc_pax / _proc_gnulong read `size` bytes at once)."""

    def _proc_member(self, tarfile_):
        if self.type in _EXTENDED and self.size > MAX_HEADER:
            raise _Refused(f"an extended header of {self.size} bytes (over {MAX_HEADER})")
        return super()._proc_member(tarfile_)


def _walk(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := tar.next()) is not None:
        tar.members.clear()  # tarfile keeps every header it has read: not here
        yield member


def _open(path: Path) -> tarfile.TarFile:
    return tarfile.open(path, mode="r|gz", tarinfo=_BoundedInfo)


def _checked_name(member: tarfile.TarInfo) -> PurePosixPath:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise _Refused(f"entry {member.name!r} points outside the bundle")
    if member.issparse() or not (member.isfile() or member.isdir()):  # lptui writes neither
        raise _Refused(f"entry {member.name!r} is not a plain file or directory")
    return name


def _survey(path: Path) -> int:
    """Pass 1: the bundle's shape, checked on headers alone; returns the bytes it will take."""
    entries = total = 0
    meta = None
    with _open(path) as tar:
        for member in _walk(tar):
            entries += 1
            if entries > MAX_ENTRIES:
                raise _Refused(f"over {MAX_ENTRIES:,} entries")
            name = _checked_name(member)
            if member.isfile():
                if member.size > MAX_FILE:
                    raise _Refused(f"entry {member.name!r} holds {member.size:,} bytes (over {MAX_FILE:,})")
                total += max(member.size, PAGE)
                if total > MAX_TOTAL:
                    raise _Refused(f"over {MAX_TOTAL:,} bytes unpacked")
                if str(name) == META:
                    meta = _manifest(tar, member)
    if meta is None:
        raise _Refused(f"no {META}: not an lptui capture")
    return total


def _manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict:
    if member.size > MAX_META:
        raise _Refused(f"{META} of {member.size:,} bytes: not an lptui capture")
    source = tar.extractfile(member)
    try:
        meta = json.loads(source.read(MAX_META) if source else b"")
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." a megabyte deep
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("lptui_version"), str):
        raise _Refused(f"{META} is not lptui's manifest: not an lptui capture")
    members = meta.get("members")
    if isinstance(members, int) and members > MAX_ENTRIES:
        raise _Refused(f"its manifest says {members:,} entries (over {MAX_ENTRIES:,})")
    return meta


def _unpack(path: Path, target: Path) -> None:
    """Pass 2: the files, copied piece by piece; the survey's bounds are held again on what is read."""
    made: set[str] = set()
    total = 0

    def make_dir(rel: PurePosixPath) -> None:
        key = str(rel)
        if key not in made and key not in (".", ""):
            os.makedirs(target.joinpath(*rel.parts), exist_ok=True)
            made.add(key)

    with _open(path) as tar:
        for count, member in enumerate(_walk(tar), 1):
            if count > MAX_ENTRIES:
                raise _Refused(f"over {MAX_ENTRIES:,} entries")
            name = _checked_name(member)
            if member.isdir():
                make_dir(name)
                continue
            make_dir(name.parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            fd = os.open(target.joinpath(*name.parts), flags, 0o644)
            try:
                source = tar.extractfile(member)
                written = 0
                while source is not None and (piece := source.read(CHUNK)):
                    written += len(piece)
                    if written > MAX_FILE or total + written > MAX_TOTAL:
                        raise _Refused(f"entry {member.name!r} unpacks past its bound")
                    os.write(fd, piece)
                total += max(written, PAGE)
            finally:
                os.close(fd)


def extract_bundle(path: Path) -> Path:
    """Unpack a capture into a new private temporary directory, or refuse it in one line."""
    try:
        size = _survey(path)
    except _Refused as why:
        raise CaptureError(f"{path}: {why}") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise CaptureError(f"{path}: not a readable capture bundle ({exc})") from None
    # tmpfs when there is one and the bundle is small: a big capture is 100,000 small files
    shm = "/dev/shm" if size < SHM_BELOW and os.access("/dev/shm", os.W_OK | os.X_OK) else None
    target = Path(tempfile.mkdtemp(prefix="lptui-replay-", dir=shm))
    try:
        _unpack(path, target)
    except _Refused as why:
        remove(target)
        raise CaptureError(f"{path}: {why}") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        remove(target)
        raise CaptureError(f"{path}: not a readable capture bundle ({exc})") from None
    except BaseException:  # Ctrl-C mid-unpack included: nothing is left behind
        remove(target)
        raise
    return target


def remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
