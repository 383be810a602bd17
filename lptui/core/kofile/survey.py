"""An ELF image's section table, checked against bounds before pyelftools reads any of it.

pyelftools trusts the headers: it builds one object per section the header counts, and reads a name
64 bytes at a time until a NUL, however far that is (a 4 MB file of 32,000 sections sharing one name
that never ends took minutes). So the header is read here first, with struct, and refused when it
counts more sections than MAX_SECTIONS, when a section lies past the end of the file, or when a name
has no NUL within MAX_NAME bytes. The same holds for the symbol names klpelf reads (`symbol_names_end`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_SECTIONS = 16_384  # a kpatch-build module has one or two per changed function: a few hundred
MAX_NAME = 4_096  # bytes of a section or symbol name, its NUL included
SHT_SYMTAB, SHT_NOBITS = 2, 8
SHN_XINDEX = 0xFFFF
_HEADER = "IIQQQQIIQQ"  # Elf64_Shdr


class SurveyError(Exception):
    """Why the image cannot be a module lptui reads (one line, without the path)."""


@dataclass(frozen=True, slots=True)
class SectionHeader:
    index: int
    name: str
    kind: int
    offset: int
    size: int
    link: int
    entsize: int


def _name_at(strtab: bytes, at: int) -> str | None:
    """The NUL-terminated name at `at`, or None when it has no NUL within MAX_NAME bytes."""
    end = strtab.find(b"\0", at, at + MAX_NAME)
    return None if at >= len(strtab) or end < 0 else strtab[at:end].decode("utf-8", "replace")


def survey(data: bytes) -> tuple[SectionHeader, ...]:
    """Every section header of a 64-bit ELF image, each within the file and named; raises SurveyError."""
    if data[:4] != b"\x7fELF":
        raise SurveyError("not an ELF file (a kernel module is an ELF relocatable object)")
    if len(data) < 64:
        raise SurveyError("truncated or corrupt ELF (shorter than its header)")
    if data[4] == 1:
        raise SurveyError("32-bit ELF: not a module for a 64-bit kernel")
    order = {1: "<", 2: ">"}.get(data[5])
    if data[4] != 2 or order is None:
        raise SurveyError("corrupt ELF (neither 32- nor 64-bit, or of no known byte order)")
    shoff, entsize, count, strndx = struct.unpack_from(order + "Q10xHHH", data, 0x28)
    if shoff == 0:
        raise SurveyError("no section table: not a kernel module")
    if entsize != 64 or shoff + 64 > len(data):
        raise SurveyError("truncated or corrupt ELF (its section table is not where it says)")
    first = struct.unpack_from(order + _HEADER, data, shoff)
    count = count or first[5]  # more than 0xff00 sections: the count is in section 0's sh_size
    strndx = first[6] if strndx == SHN_XINDEX else strndx
    if count > MAX_SECTIONS:
        raise SurveyError(f"{count:,} sections, over the {MAX_SECTIONS:,} lptui reads: not a kernel module")
    if shoff + count * 64 > len(data) or not 0 < strndx < count:
        raise SurveyError("truncated or corrupt ELF (its section table runs past the end of the file)")
    raw = list(struct.iter_unpack(order + _HEADER, data[shoff : shoff + count * 64]))
    names_at, names_size = raw[strndx][4], raw[strndx][5]
    if names_at + names_size > len(data):
        raise SurveyError("truncated or corrupt ELF (its section names lie past the end of the file)")
    strtab = data[names_at : names_at + names_size]
    out = []
    for i, (name_at, kind, _flags, _addr, offset, size, link, _info, _align, ent) in enumerate(raw):
        name = _name_at(strtab, name_at) if i else ""
        if name is None:
            raise SurveyError(f"section {i}'s name has no end within {MAX_NAME:,} bytes: not a kernel module")
        if kind != SHT_NOBITS and i and offset + size > len(data):
            raise SurveyError(f"section {i} ({name}) runs past the end of the file: truncated or corrupt ELF")
        out.append(SectionHeader(i, name, kind, offset, size, link, ent))
    return tuple(out)


def symbol_names_end(data: bytes, sections: tuple[SectionHeader, ...], symtab: SectionHeader) -> bool:
    """Whether every symbol of `symtab` has a name that ends (a NUL within MAX_NAME in its string table)."""
    if not 0 < symtab.link < len(sections) or symtab.entsize != 24:
        return False
    strings = sections[symtab.link]
    strtab = data[strings.offset : strings.offset + strings.size]
    table = data[symtab.offset : symtab.offset + symtab.size - symtab.size % 24]
    order = "<" if data[5] == 1 else ">"
    return all(
        at == 0 or _name_at(strtab, at) is not None for (at,) in struct.iter_unpack(order + "I20x", table)
    )
