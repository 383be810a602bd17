"""A livepatch module's relocations, read once and bounded: which symbol (and section offset) each
pointer field of its data points at. The readers of klp_patch (`klpelf`) and of klp-build's tables
(`klpext`) walk structures through this, so struct sizes never matter where a pointer is relocated.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from lptui.core.kofile.modfile import ModuleFile
from lptui.core.kofile.survey import MAX_NAME, SHT_SYMTAB, symbol_names_end

SHF_EXECINSTR = 0x4
SHF_WRITE = 0x1
SHT_RELA = 4


# A livepatch module holds a few hundred symbols and relocations; pyelftools reads each at 15-30 us, so
# these bound the walk to about two seconds whatever the file says (10 million relocations took minutes).
MAX_SYMBOLS = 32_768
MAX_RELOCATIONS = 65_536


class TooLarge(Exception):
    """A table past its bound: the plan says it cannot tell, and why."""


@dataclass(frozen=True)
class Target:
    symbol: str
    shndx: int | None  # None: undefined / special section
    offset: int


def _check_tables(mod: ModuleFile) -> None:
    """The symbol and relocation counts, from the survey's headers, before pyelftools walks them."""
    symbols = sum(h.size // 24 for h in mod.sections if h.kind == SHT_SYMTAB)
    relocations = sum(h.size // 24 for h in mod.sections if h.kind == SHT_RELA)
    if symbols > MAX_SYMBOLS:
        raise TooLarge(f"{symbols:,} symbols, over the {MAX_SYMBOLS:,} lptui reads")
    if relocations > MAX_RELOCATIONS:
        raise TooLarge(f"{relocations:,} relocations, over the {MAX_RELOCATIONS:,} lptui reads")
    for h in mod.sections:
        if h.kind == SHT_SYMTAB and not symbol_names_end(mod.data, mod.sections, h):
            raise TooLarge(f"a symbol name in {h.name} has no end within {MAX_NAME:,} bytes")


class Relocs:
    def __init__(self, mod: ModuleFile) -> None:
        _check_tables(mod)
        elf = mod.elf
        self.elf = elf
        self.sections = list(elf.iter_sections())
        self._data: dict[int, bytes] = {}
        symtab = elf.get_section_by_name(".symtab")
        self.symtab = symtab if isinstance(symtab, SymbolTableSection) else None
        self.by_section: dict[int, dict[int, Target]] = {}
        self.offsets: dict[int, list[int]] = {}  # each section's relocated offsets, sorted
        self.funcs_at: dict[tuple[int, int], str] = {}
        if self.symtab is None:
            return
        symbols = []  # read once: pyelftools parses a symbol again on every get_symbol
        for sym in self.symtab.iter_symbols():
            shndx = sym["st_shndx"] if self.real_section(sym["st_shndx"]) else None
            symbols.append((sym.name, shndx, sym["st_value"] if shndx is not None else 0))
            if sym["st_info"]["type"] == "STT_FUNC" and shndx is not None:
                self.funcs_at[(shndx, sym["st_value"])] = sym.name
        for sec in self.sections:
            if not isinstance(sec, RelocationSection) or sec["sh_type"] != "SHT_RELA":
                continue
            table = self.by_section.setdefault(sec["sh_info"], {})
            for rel in sec.iter_relocations():
                index = rel["r_info_sym"]
                if index < len(symbols):
                    name, shndx, value = symbols[index]
                    table[rel["r_offset"]] = Target(name, shndx, value + rel["r_addend"])
        self.offsets = {shndx: sorted(table) for shndx, table in self.by_section.items()}

    def real_section(self, shndx: object) -> bool:
        """A real section index: not a special one (SHN_ABS, SHN_COMMON, klp-convert's SHN_LIVEPATCH)."""
        return isinstance(shndx, int) and 0 < shndx < len(self.sections)

    def data(self, shndx: int) -> bytes:
        """A section's bytes, read once (pyelftools copies them out of the image on every call)."""
        if shndx not in self._data:
            self._data[shndx] = self.sections[shndx].data()
        return self._data[shndx]

    def relocated(self, shndx: int, start: int, stop: int) -> list[int]:
        """The relocated offsets of a section in [start, stop), in order."""
        offsets = self.offsets.get(shndx, [])
        return offsets[bisect_left(offsets, start) : bisect_left(offsets, stop)]

    def flags(self, shndx: int) -> int:
        return self.sections[shndx]["sh_flags"]

    def is_code(self, t: Target) -> bool:
        return t.shndx is not None and bool(self.flags(t.shndx) & SHF_EXECINSTR)

    def is_data(self, t: Target, *, zeroed_too: bool = False) -> bool:
        """Initialised data; with `zeroed_too`, .bss as well (where an all-zero array lands)."""
        kinds = ("SHT_PROGBITS", "SHT_NOBITS") if zeroed_too else ("SHT_PROGBITS",)
        return t.shndx is not None and not self.is_code(t) and self.sections[t.shndx]["sh_type"] in kinds

    def string(self, t: Target) -> str | None:
        if t.shndx is None or self.is_code(t):
            return None
        data = self.data(t.shndx)
        end = data.find(b"\x00", t.offset, t.offset + MAX_NAME)
        if t.offset >= len(data) or end <= t.offset:
            return None
        raw = data[t.offset : end]
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
        return text if text.isprintable() else None

    def code_name(self, t: Target) -> str | None:
        if not self.is_code(t):
            return t.symbol or None
        named = self.funcs_at.get((t.shndx, t.offset)) if t.shndx is not None else None
        return named or (t.symbol if t.symbol else None)

    def u64(self, shndx: int, offset: int, size: int = 8) -> int | None:
        data = self.data(shndx)
        if offset + size > len(data):
            return None
        return int.from_bytes(data[offset : offset + size], "little")

    def is_empty_func_array(self, t: Target) -> bool:
        """A `klp_func[]` holding only its `{}` end marker: zero bytes where old_name would be, and
        no relocation there (the sentinel the kernel's klp_for_each_func() stops at)."""
        if t.shndx is None:
            return False
        if self.sections[t.shndx]["sh_type"] == "SHT_NOBITS":
            return True  # .bss: all zeros, nothing relocated
        if t.offset in self.by_section.get(t.shndx, {}):
            return False
        return self.u64(t.shndx, t.offset) == 0
