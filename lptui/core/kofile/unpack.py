"""A module file's bytes: read within a cap, and unpacked (xz, gzip, zstd, as kmod installs them) within a
cap measured as the stream is decoded, one piece at a time, so a 9 KB bomb is refused after MAX_IMAGE
bytes, never held whole at its gigabyte. The file is opened without blocking and only a regular file is
read: a FIFO or a device where a module should be is refused, not waited on.
"""

from __future__ import annotations

import io
import lzma
import os
import stat
import zlib

MiB = 1 << 20
MAX_FILE = 64 * MiB  # bytes on disk: a livepatch module is a few MiB, compressed or not
MAX_IMAGE = 64 * MiB  # bytes unpacked: the ELF image lptui parses
PIECE = 1 * MiB  # decoded per step: the most a step can add before the cap is checked

XZ_MAGIC = b"\xfd7zXZ\x00"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class UnpackError(Exception):
    """Why the file's bytes cannot be had (one line, without the path: the caller adds it)."""


class Budget:
    """Bytes that several reads together may read and unpack: the life cycle reads every installed module
    file, and a directory of small bombs must cost what one costs, not a thousand times that."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def spend(self, size: int) -> None:
        if size > self.left:
            self.left = 0
            spent = f"the {self.total >> 20} MiB lptui reads of module files at once is spent"
            raise UnpackError(f"not read: {spent}")
        self.left -= size


def read_file(path: str, budget: Budget | None = None) -> bytes:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnpackError("no such file") from None
    except PermissionError:
        raise UnpackError("permission denied") from None
    except OSError as exc:
        raise UnpackError(f"cannot read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UnpackError("is a directory, not a module file")
        if not stat.S_ISREG(st.st_mode):
            raise UnpackError("not a regular file")
        if st.st_size == 0:
            raise UnpackError("empty file")
        if st.st_size > MAX_FILE:
            raise UnpackError(f"{st.st_size:,} bytes, over the {MAX_FILE >> 20} MiB lptui reads of a module")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise UnpackError(f"cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE:  # it grew while being read
        raise UnpackError(f"over the {MAX_FILE >> 20} MiB lptui reads of a module")
    if budget is not None:
        budget.spend(len(data))
    return data


class _Image:
    """Decoded pieces, counted as they come."""

    def __init__(self, budget: Budget | None) -> None:
        self.pieces: list[bytes] = []
        self.size = 0
        self.budget = budget

    def add(self, piece: bytes) -> None:
        if self.budget is not None:
            self.budget.spend(len(piece))
        self.size += len(piece)
        if self.size > MAX_IMAGE:
            raise UnpackError(f"unpacks to over {MAX_IMAGE >> 20} MiB: not a module lptui reads")
        self.pieces.append(piece)

    def bytes(self) -> bytes:
        return b"".join(self.pieces)


def _xz(raw: bytes, image: _Image) -> None:
    unpacker = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    data = raw
    while not unpacker.eof:
        image.add(unpacker.decompress(data, PIECE))
        data = b""
        if unpacker.needs_input and not unpacker.eof:
            raise UnpackError("truncated xz stream")
    if unpacker.unused_data.strip(b"\0"):  # xz allows zero padding after a stream, nothing else here
        raise UnpackError("data after the xz stream")


def _gzip(raw: bytes, image: _Image) -> None:
    rest = raw
    while rest:  # gzip allows several members, decoded one after the other (as gzip -d does)
        if rest[:2] != GZIP_MAGIC:
            raise UnpackError("data after the gzip stream")
        unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = rest
        while not unpacker.eof:
            piece = unpacker.decompress(data, PIECE)
            image.add(piece)
            data = unpacker.unconsumed_tail
            if not data and not piece and not unpacker.eof:
                raise UnpackError("truncated gzip stream")
        rest = unpacker.unused_data


def _zstd(raw: bytes, image: _Image) -> None:
    import zstandard  # only for a .ko.zst

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True) as reader:
            while piece := reader.read(PIECE):
                image.add(piece)
    except zstandard.ZstdError as exc:
        raise UnpackError(f"corrupt zstd stream ({exc})") from None


_FORMATS = ((XZ_MAGIC, "xz", _xz), (GZIP_MAGIC, "gzip", _gzip), (ZSTD_MAGIC, "zstd", _zstd))


def unpack(raw: bytes, budget: Budget | None = None) -> tuple[bytes, str | None]:
    """The ELF image and how it was compressed ("xz", "gzip", "zstd", None)."""
    for magic, kind, decode in _FORMATS:
        if raw.startswith(magic):
            image = _Image(budget)
            try:
                decode(raw, image)
            except (lzma.LZMAError, zlib.error, EOFError) as exc:
                raise UnpackError(f"corrupt compressed module ({exc})") from None
            return image.bytes(), kind
    return raw, None
