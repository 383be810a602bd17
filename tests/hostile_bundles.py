"""Capture bundles built block by block, as an adversary would: headers tarfile would never write (a sparse
map of millions of entries, chains of extended headers, a second gzip member behind the first), and ones
inside every old bound that still cost seconds and gigabytes. Shared by tests/core/oncall and
benchmarks/hostile.py."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

META = "lptui-capture.json"
MANIFEST = json.dumps({"lptui_version": "0.1.0", "members": 2, "captured_at_unix": 1_800_000_000.0}).encode()
BLOCK = 512


def header(name: str | bytes, size: int = 0, kind: bytes = b"0", prefix: bytes = b"") -> bytes:
    """One ustar header with its checksum right."""
    raw = name.encode() if isinstance(name, str) else name
    block = bytearray(BLOCK)
    block[0 : len(raw[:100])] = raw[:100]
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = f"{size:011o}\0".encode() if size < 8**11 else b"\x80" + size.to_bytes(11, "big")
    block[136:148] = b"00000000000\0"
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[345 : 345 + len(prefix)] = prefix
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: str, data: bytes = b"", kind: bytes = b"0") -> bytes:
    return header(name, len(data), kind) + padded(data)


def pax(records: dict[str, str]) -> bytes:
    """A pax extended header ('x') holding `records`."""
    body = b""
    for key, value in records.items():
        text = f" {key}={value}\n".encode()
        length = len(text) + len(str(len(text)))
        length = len(text) + len(str(length))
        body += str(length).encode() + text
    return header("././@PaxHeader", len(body), b"x") + padded(body)


def end() -> bytes:
    return bytes(2 * BLOCK)


def manifest(meta: bytes = MANIFEST) -> bytes:
    return member(META, meta)


def gz(*parts: bytes, level: int = 6) -> bytes:
    return gzip.compress(b"".join(parts), compresslevel=level)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sparse_map(entries: int = 10_000_000) -> bytes:
    """A GNU sparse 1.0 member: its map (a count, then offset and size pairs) is the start of its data,
    which tarfile reads into a list before anyone can refuse it (the issue's 19 KB bundle: 543 MB, 12 s)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    records = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "proc/x"}
    records["GNU.sparse.realsize"] = str(entries)
    data_size = len(f"{entries}\n") + 4 * entries
    out = [pack.compress(manifest() + pax(records) + header("proc/x", data_size))]
    out.append(pack.compress(f"{entries}\n".encode()))
    pair = b"0\n1\n" * (1 << 18)
    for _ in range(entries // (1 << 18)):
        out.append(pack.compress(pair))
    out.append(pack.compress(b"0\n1\n" * (entries % (1 << 18)) + bytes(-data_size % BLOCK) + end()))
    return b"".join(out) + pack.flush()


def extension_chain(length: int = 400, kind: bytes = b"x") -> bytes:
    """`length` extended headers in a row (tarfile recursed through them: RecursionError)."""
    if kind == b"x":
        chain = pax({"path": "proc/a"}) * length
    else:
        name = b"proc/a\0"
        chain = (header("././@LongLink", len(name), b"L") + padded(name)) * length
    return gz(manifest(), chain, member("proc/b", b"1"), end())


def nested(depth: int = 1_200) -> bytes:
    """A file `depth` directories deep (the clean-up recursed: an internal error, and the tree stayed)."""
    name = "/".join(["d"] * depth) + "/f"
    return gz(manifest(), pax({"path": name}), member("x", b"1"), end())


def directories(count: int = 400_000) -> bytes:
    """`count` empty directories (they counted toward no bound: 36.9 s, 325 MB, 400,000 inodes)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [pack.compress(manifest())]
    out += [pack.compress(header(f"d{i}/", 0, b"5")) for i in range(count)]
    return b"".join(out) + pack.compress(end()) + pack.flush()


def zero_files(count: int = 15, size: int = 64 << 20) -> bytes:
    """`count` files of `size` zero bytes (inside the old bounds: 24.8 s and 960 MiB written)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [pack.compress(manifest())]
    zeros = bytes(1 << 20)
    for i in range(count):
        out.append(pack.compress(header(f"proc/{i}", size)))
        out += [pack.compress(zeros) for _ in range(size >> 20)]
    return b"".join(out) + pack.compress(end()) + pack.flush()


def two_members(with_end: bool) -> bytes:
    """A capture, then a second gzip member holding a link to /etc/shadow (tar xzf extracts it too)."""
    first = gz(manifest(), member("proc/uptime", b"1 1\n"), end() if with_end else b"")
    link = header("proc/shadow", 0, b"2")
    link = link[:157] + b"/etc/shadow".ljust(100, b"\0") + link[257:]
    block = bytearray(link)
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return first + gz(bytes(block), end())


def most_inodes(threads: int = 124_990) -> bytes:
    """The biggest bundle lptui takes: a capture's shape (proc/<pid>/task/<tid>/patch_state, a file and three
    directories a thread) up to the inode bound, 500,000."""
    pack = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [pack.compress(manifest() + member("proc/sys/kernel/osrelease", b"6.1.0-28-amd64\n"))]
    for i in range(threads):
        out.append(pack.compress(member(f"proc/{i + 1}/task/{i + 1}/patch_state", b"-1\n")))
    return b"".join(out) + pack.compress(end()) + pack.flush()
