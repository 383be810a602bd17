"""A .tar.gz read header by header, as raw 512-byte blocks, before any archive library builds anything.

Python's tarfile trusts what it reads: it builds a PAX sparse map before anyone can refuse it (a 19 KB
bundle cost 543 MB and 12 s), follows a chain of extended headers by recursion (400 of them: a
RecursionError), and reads only the first gzip member of a stream that `tar xzf` reads whole (the second
member held a link to /etc/shadow that the survey never saw). So a bundle is read here, sequentially and
without recursion:

- the gzip stream is decoded member after member, to its end; anything after it is refused;
- each header's checksum is checked; a sparse member (GNU 'S', or any `GNU.sparse` pax key), a global pax
  header, a link, a device or a FIFO is refused from its header alone;
- an extended header (pax 'x', GNU long name 'L') is at most MAX_HEADER bytes, and at most one of each may
  precede a member: a chain is refused;
- after the end-of-archive blocks only zeros may follow (a second archive behind the end is refused).

`members` yields each file and directory with its name and size, the stream placed at its data; the
caller reads the data in pieces (`read`) or leaves it (`skip`). It works in bounded memory: one header, one
extended header, one piece.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BLOCK = 512
PIECE = 64 << 10
MAX_HEADER = 64 << 10  # a pax or GNU long-name header: a long path is a few hundred bytes
MAX_NAME = 1_024  # bytes of a member's name: a capture's longest is ~100
MAX_DEPTH = 32  # components of a member's name: a capture's deepest is ~8
MAX_TRAILER = 1 << 20  # zeros after the end-of-archive blocks (tar pads to its record size, 10 KiB)


class TarRefused(Exception):
    """Why the archive is refused: one line."""


class TarUnreadable(TarRefused):
    """The archive is cut short or corrupt: not a readable bundle at all."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # relative, normalised: no ".", "..", empty or leading component
    is_dir: bool
    size: int

    @property
    def parent(self) -> str:
        return self.name.rpartition("/")[0]


class GzipStream:
    """The decoded bytes of a gzip file, every member of it, read as they are asked for."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""  # input for the next member, read past the end of the last one
        self.buffer = bytearray()
        self.ended = False
        self.decoded = 0  # bytes decoded so far: the work done, whatever the archive says

    def _next_member(self) -> None:
        rest = self.unpacker.unused_data
        while len(rest) < 2 and (more := self.fh.read(PIECE)):
            rest += more
        if not rest:
            self.ended = True
        elif not rest.startswith(b"\x1f\x8b"):
            raise TarRefused("data after the gzip stream")
        else:  # another member: decoded too, as gzip -d and tar xzf do
            self.unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.pending = rest

    def _fill(self, want: int) -> None:
        while len(self.buffer) < want and not self.ended:
            if self.unpacker.eof:
                self._next_member()
                continue
            data = self.pending or self.unpacker.unconsumed_tail or self.fh.read(PIECE)
            self.pending = b""
            piece = self.unpacker.decompress(data, PIECE)
            if not data and not piece:
                raise TarUnreadable("truncated gzip stream")
            self.decoded += len(piece)
            self.buffer += piece

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes, or fewer at the end of the stream."""
        self._fill(size)
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out

    def skip(self, size: int) -> None:
        while size > 0:
            got = len(self.read(min(size, PIECE)))
            if not got:
                raise TarUnreadable("truncated archive")
            size -= got


def _number(field: bytes) -> int:
    """A header's numeric field: octal ASCII, or GNU's base-256 when its first bit is set."""
    if field[:1] and field[0] & 0x80:
        return int.from_bytes(field[1:], "big")
    text = field.replace(b"\0", b" ").strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise TarUnreadable("a corrupt header (a number that is not octal)") from None


_SIGNED = struct.Struct("512b")


def _checked(block: bytes) -> None:
    """The header's checksum: its bytes summed with the checksum field as spaces, unsigned (POSIX) or
    signed (some old tars)."""
    stored = _number(block[148:156])
    field = sum(block[148:156])
    if stored == sum(block) - field + 8 * 32:
        return
    if stored != sum(_SIGNED.unpack(block)) - sum(struct.unpack("8b", block[148:156])) + 8 * 32:
        raise TarUnreadable("a corrupt header (its checksum does not match)")


def _pax(data: bytes) -> dict[str, str]:
    """`len key=value\\n` records (POSIX.1-2001 extended headers)."""
    out: dict[str, str] = {}
    at = 0
    while at < len(data):
        space = data.find(b" ", at, at + 20)
        length = int(data[at:space]) if space > at and data[at:space].isdigit() else 0
        record = data[space + 1 : at + length]
        if length <= 0 or at + length > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise TarUnreadable("a corrupt extended header")
        key, _, value = record[:-1].partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        at += length
    if any(key.startswith("GNU.sparse") for key in out):
        raise TarRefused("a sparse member (a GNU.sparse extended header)")
    return out


def _name(text: str) -> str:
    """The member's name, normalised; refused when it leaves the bundle or is deeper or longer than
    a capture's."""
    if text.startswith("/") or "\0" in text:
        raise TarRefused(f"entry {text[:80]!r} points outside the bundle")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise TarRefused(f"entry {text[:80]!r} points outside the bundle")
    if not parts:
        raise TarRefused(f"entry {text[:80]!r} has no name")
    if len(text.encode("utf-8", "surrogateescape")) > MAX_NAME or len(parts) > MAX_DEPTH:
        raise TarRefused(f"entry {text[:80]!r}… is named deeper or longer than a capture's")
    return "/".join(parts)


KINDS = {b"0": False, b"\0": False, b"5": True}  # regular file, regular file (old tar), directory


def members(stream: GzipStream) -> Iterator[Member]:
    """Each member in order, the stream at its data; see the module's docstring for what is refused."""
    pax: dict[str, str] | None = None
    long_name: str | None = None
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            raise TarUnreadable("truncated archive (no end-of-archive blocks)")
        if block == bytes(BLOCK):
            _trailer(stream)
            return
        _checked(block)
        kind = block[156:157]
        size = _number(block[124:136])
        if kind in (b"x", b"L"):
            if (kind == b"x" and pax is not None) or (kind == b"L" and long_name is not None):
                raise TarRefused("a chain of extended headers")
            if size > MAX_HEADER:
                raise TarRefused(f"an extended header of {size:,} bytes (over {MAX_HEADER:,})")
            data = stream.read(size)
            stream.skip(-size % BLOCK)
            if kind == b"x":
                pax = _pax(data)
            else:
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue
        text = _header_name(block)
        if pax is not None and "path" in pax:
            text = pax["path"]
        elif long_name is not None:
            text = long_name
        name = _name(text)
        if kind == b"S":
            raise TarRefused(f"entry {text!r} is a sparse file")
        if kind not in KINDS:
            raise TarRefused(f"entry {text!r} is not a plain file or directory")
        if pax is not None and "size" in pax:
            size = int(pax["size"]) if pax["size"].isdecimal() else -1
        if size < 0:
            raise TarUnreadable(f"entry {text!r} has a corrupt size")
        pax = long_name = None
        is_dir = KINDS[kind]
        yield Member(name, is_dir, 0 if is_dir else size)
        if is_dir and size:
            stream.skip(size + (-size % BLOCK))


def _header_name(block: bytes) -> str:
    name = block[0:100].split(b"\0", 1)[0]
    if block[257:262] == b"ustar":
        prefix = block[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name.decode("utf-8", "surrogateescape")


def _trailer(stream: GzipStream) -> None:
    """After the end-of-archive block: zeros only, to the end of the stream (a bounded amount)."""
    seen = 0
    while piece := stream.read(PIECE):
        if piece.count(0) != len(piece):
            raise TarRefused("data after the end of the archive (a second archive hidden behind it)")
        seen += len(piece)
        if seen > MAX_TRAILER:
            raise TarRefused(f"over {MAX_TRAILER:,} bytes after the end of the archive")


def data_pieces(stream: GzipStream, member: Member) -> Iterator[bytes]:
    """A file member's data, in pieces; then the stream is past its padding."""
    left = member.size
    while left:
        piece = stream.read(min(left, PIECE))
        if not piece:
            raise TarUnreadable(f"truncated archive (in {member.name})")
        left -= len(piece)
        yield piece
    stream.skip(-member.size % BLOCK)
