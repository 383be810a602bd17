"""ELF64 relocatable objects built byte by byte, for the module-file readers' tests: a well-formed
livepatch module's skeleton, and every way to make one costly (huge tables, names without an end,
.modinfo of millions of pairs). Nothing here is read from the host."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS = 1, 2, 3, 4, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
EM_X86_64 = 62


@dataclass
class Section:
    name: str
    kind: int = SHT_PROGBITS
    flags: int = SHF_ALLOC
    data: bytes = b""
    link: int = 0
    info: int = 0
    entsize: int = 0
    align: int = 8


@dataclass
class Elf:
    sections: list[Section] = field(default_factory=list)
    raw_names: bytes | None = None  # a .shstrtab of one's own (names without their NUL, say)
    name_offsets: list[int] | None = None

    def add(self, section: Section) -> int:
        self.sections.append(section)
        return len(self.sections)  # its index: section 0 is SHN_UNDEF

    def index(self, name: str) -> int:
        return next(i for i, s in enumerate(self.sections, 1) if s.name == name)

    def image(self) -> bytes:
        names = b"\0"
        offsets = []
        for s in self.sections:
            offsets.append(len(names))
            names += s.name.encode() + b"\0"
        offsets.append(len(names))
        names += b".shstrtab\0"
        if self.raw_names is not None:
            names, offsets = self.raw_names, (self.name_offsets or [0] * (len(self.sections) + 1))
        all_sections = [*self.sections, Section(".shstrtab", SHT_STRTAB, 0, names, align=1)]
        body = bytearray()
        placed = []
        for s in all_sections:
            body += bytes(-(64 + len(body)) % 8)
            placed.append(64 + len(body))
            if s.kind != SHT_NOBITS:
                body += s.data
        body += bytes(-(64 + len(body)) % 8)
        shoff = 64 + len(body)
        header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
        count = len(all_sections) + 1  # and section 0; .shstrtab is the last
        header += struct.pack(
            "<HHIQQQIHHHHHH", 1, EM_X86_64, 1, 0, 0, shoff, 0, 64, 0, 0, 64, count, count - 1
        )
        table = bytearray(64)
        for s, at, name_at in zip(all_sections, placed, offsets, strict=True):
            size = len(s.data)  # a NOBITS section's data only says its size
            table += struct.pack(
                "<IIQQQQIIQQ", name_at, s.kind, s.flags, 0, at, size, s.link, s.info, s.align, s.entsize
            )
        return bytes(header + body + table)


def modinfo(pairs: dict[str, str] | None = None, raw: bytes = b"") -> Section:
    blob = b"".join(f"{k}={v}".encode() + b"\0" for k, v in (pairs or {}).items()) + raw
    return Section(".modinfo", data=blob, align=1)


def module(info: dict[str, str] | None = None, *, raw_modinfo: bytes = b"") -> Elf:
    """The two sections every module has: .modinfo and .gnu.linkonce.this_module."""
    elf = Elf()
    elf.add(modinfo(info or {"name": "lp_evil", "livepatch": "Y", "license": "GPL"}, raw_modinfo))
    elf.add(Section(".gnu.linkonce.this_module", flags=SHF_WRITE | SHF_ALLOC, data=bytes(64)))
    return elf


def symbol(name_at: int, value: int = 0, shndx: int = 0, kind: int = 0, size: int = 0) -> bytes:
    """One Elf64_Sym: STB_GLOBAL with `kind` (STT_FUNC 2, STT_OBJECT 1)."""
    return struct.pack("<IBBHQQ", name_at, (1 << 4) | kind, 0, shndx, value, size)


def rela(offset: int, sym: int, addend: int = 0, kind: int = 1) -> bytes:
    """One Elf64_Rela (R_X86_64_64 by default)."""
    return struct.pack("<QQq", offset, (sym << 32) | kind, addend)


def with_tables(
    elf: Elf, symbols: bytes, names: bytes, relocations: bytes = b"", applies_to: str = ""
) -> Elf:
    """Add .symtab (its .strtab holding `names`) and, when given, one .rela section of `relocations`."""
    strtab = elf.add(Section(".strtab", SHT_STRTAB, 0, names, align=1))
    symtab = elf.add(Section(".symtab", SHT_SYMTAB, 0, symbols, link=strtab, info=1, entsize=24))
    if relocations:
        target = elf.index(applies_to) if applies_to else 1
        elf.add(Section(".rela" + (applies_to or ".modinfo"), SHT_RELA, 0, relocations, symtab, target, 24))
    return elf
