"""The worst module files this project can think of, built here (tests and benchmarks/hostile.py share
them): each is small on disk and costly to a careless reader."""

from __future__ import annotations

import gzip
import lzma
import zlib
from pathlib import Path

from tests.elfbuild import SHF_ALLOC, SHF_EXECINSTR, Section, module, rela, symbol, with_tables

MiB = 1 << 20
LIVEPATCH = {
    "name": "lp_evil",
    "livepatch": "Y",
    "license": "GPL",
    "vermagic": "6.1.0-28-amd64 SMP mod_unload",
}


def plain_module() -> bytes:
    """The baseline: a small, well-formed livepatch module."""
    return module(LIVEPATCH).image()


def modinfo_pairs(megabytes: int = 60) -> bytes:
    """A .modinfo of `megabytes` MB of `a=b` pairs (the issue's 9 KB .ko.xz: 60 MB of them)."""
    return module(LIVEPATCH, raw_modinfo=b"a=b\0" * (megabytes * 1_000_000 // 4)).image()


def _name(length: int) -> bytes:
    return b"\0" + b"f" * (length - 1) + b"\0"  # at 1: a name of `length` bytes, its NUL included


def many_symbols(count: int, name_length: int = 2) -> bytes:
    """A .symtab of `count` function symbols sharing one name of `name_length` bytes."""
    elf = module(LIVEPATCH)
    text = elf.add(Section(".text", flags=SHF_ALLOC | SHF_EXECINSTR, data=bytes(16)))
    one = symbol(1, 0, text, kind=2)
    return with_tables(elf, bytes(24) + one * count, _name(name_length)).image()


def many_relocations(count: int, name_length: int = 2) -> bytes:
    """`count` relocations in one .rela section, each against one symbol (its name `name_length` bytes)."""
    elf = module(LIVEPATCH)
    data = elf.add(Section(".data", flags=SHF_ALLOC, data=bytes(64)))
    syms = bytes(24) + symbol(1, 0, data, kind=1)
    one = rela(0, 1)
    return with_tables(elf, syms, _name(name_length), one * count, applies_to=".data").image()


def many_sections(count: int, name_length: int = 2) -> bytes:
    """`count` empty sections, all named by one name of `name_length` bytes."""
    elf = module(LIVEPATCH)
    for _ in range(count):
        elf.add(Section("x"))
    names = b"\0.modinfo\0.gnu.linkonce.this_module\0" + b"f" * (name_length - 1) + b"\0"
    elf.raw_names = names
    elf.name_offsets = [1, 10] + [36] * (count + 1)
    return elf.image()


def unterminated_names(size: int = 4 * MiB) -> bytes:
    """Section names that never end: half of `size` in section headers, half in a .shstrtab without a
    NUL, every name at its start (the issue's 4 MB file: 24.5 s)."""
    elf = module(LIVEPATCH)
    for i in range(size // 2 // 64):
        elf.add(Section(f".s{i}", data=b""))
    elf.raw_names = b"A" * (size // 2)
    elf.name_offsets = [0] * (len(elf.sections) + 1)
    return elf.image()


def trailing_zeros(megabytes: int) -> bytes:
    """A loadable-looking module followed by `megabytes` MiB of zeros: held whole, a bomb."""
    return plain_module() + bytes(megabytes * MiB)


def gzip_of(data: bytes | None = None, *, module_then_zeros: int = 0) -> bytes:
    """gzip of `data`, or of a module followed by that many MiB of zeros, compressed as it is made."""
    if data is not None:
        return gzip.compress(data, compresslevel=6)
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [pack.compress(plain_module())]
    zeros = bytes(MiB)
    out += [pack.compress(zeros) for _ in range(module_then_zeros)]
    return b"".join(out) + pack.flush()


def xz_of(data: bytes | None = None, *, module_then_zeros: int = 0) -> bytes:
    if data is not None:
        return lzma.compress(data, format=lzma.FORMAT_XZ, preset=0)
    pack = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=0)
    out = [pack.compress(plain_module())]
    zeros = bytes(MiB)
    out += [pack.compress(zeros) for _ in range(module_then_zeros)]
    return b"".join(out) + pack.flush()


def zstd_of(data: bytes | None = None, *, module_then_zeros: int = 0) -> bytes:
    import zstandard

    pack = zstandard.ZstdCompressor(level=3).compressobj()
    if data is not None:
        return pack.compress(data) + pack.flush()
    out = [pack.compress(plain_module())]
    zeros = bytes(MiB)
    out += [pack.compress(zeros) for _ in range(module_then_zeros)]
    return b"".join(out) + pack.flush()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
