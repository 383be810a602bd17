"""Find what a livepatch module will patch, statically, from its ELF relocations.

Hand-written modules (samples, selftests, vendor sources) hold static `klp_patch`, `klp_object`
and `klp_func` arrays whose pointer fields are filled by relocations, so the struct sizes (which
vary by kernel version and config) never matter:
  klp_patch  { mod -> __this_module; objs -> klp_object[]; states -> klp_state[] (5.5+); replace ... }
  klp_object { name -> string or NULL (vmlinux); funcs -> klp_func[] (may be just the `{}` end
               marker: an object with callbacks only, as in the selftests' callbacks_demo); callbacks }
  klp_func   { old_name -> string; new_func -> code; old_sympos (u64) ; ... }
  klp_state  { id (unsigned long); version (unsigned int); data (pointer) }: 24 bytes, ends at id 0
kpatch-build modules carry `.kpatch.funcs` instead: 56-byte entries whose name (+40) and object
name (+48) point into `.kpatch.strings`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from lptui.core.declared import PatchPlan, PlannedFunction, PlannedObject, PlannedState
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
class _Target:
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


class _Relocs:
    def __init__(self, mod: ModuleFile) -> None:
        _check_tables(mod)
        elf = mod.elf
        self.elf = elf
        self.sections = list(elf.iter_sections())
        self._data: dict[int, bytes] = {}
        symtab = elf.get_section_by_name(".symtab")
        self.symtab = symtab if isinstance(symtab, SymbolTableSection) else None
        self.by_section: dict[int, dict[int, _Target]] = {}
        self.offsets: dict[int, list[int]] = {}  # each section's relocated offsets, sorted
        self.funcs_at: dict[tuple[int, int], str] = {}
        if self.symtab is None:
            return
        symbols = []  # read once: pyelftools parses a symbol again on every get_symbol
        for sym in self.symtab.iter_symbols():
            shndx = sym["st_shndx"] if self._section(sym["st_shndx"]) else None
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
                    table[rel["r_offset"]] = _Target(name, shndx, value + rel["r_addend"])
        self.offsets = {shndx: sorted(table) for shndx, table in self.by_section.items()}

    def _section(self, shndx: object) -> bool:
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

    def is_code(self, t: _Target) -> bool:
        return t.shndx is not None and bool(self.flags(t.shndx) & SHF_EXECINSTR)

    def is_data(self, t: _Target, *, zeroed_too: bool = False) -> bool:
        """Initialised data; with `zeroed_too`, .bss as well (where an all-zero array lands)."""
        kinds = ("SHT_PROGBITS", "SHT_NOBITS") if zeroed_too else ("SHT_PROGBITS",)
        return t.shndx is not None and not self.is_code(t) and self.sections[t.shndx]["sh_type"] in kinds

    def string(self, t: _Target) -> str | None:
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

    def code_name(self, t: _Target) -> str | None:
        if not self.is_code(t):
            return t.symbol or None
        return self.funcs_at.get((t.shndx, t.offset)) or (t.symbol if t.symbol else None)

    def u64(self, shndx: int, offset: int, size: int = 8) -> int | None:
        data = self.data(shndx)
        if offset + size > len(data):
            return None
        return int.from_bytes(data[offset : offset + size], "little")

    def is_empty_func_array(self, t: _Target) -> bool:
        """A `klp_func[]` holding only its `{}` end marker: zero bytes where old_name would be, and
        no relocation there (the sentinel the kernel's klp_for_each_func() stops at)."""
        if t.shndx is None:
            return False
        if self.sections[t.shndx]["sh_type"] == "SHT_NOBITS":
            return True  # .bss: all zeros, nothing relocated
        if t.offset in self.by_section.get(t.shndx, {}):
            return False
        return self.u64(t.shndx, t.offset) == 0


def _release_tuple(release: str | None) -> tuple[int, int]:
    try:
        major, minor = (release or "").split(".")[:2]
        return int(major), int("".join(c for c in minor if c.isdecimal()) or 0)
    except ValueError:
        return (0, 0)


def _func_entries(r: _Relocs, shndx: int, start: int, stop: int) -> list[PlannedFunction]:
    """Consecutive {old_name string, new_func code, u64 sympos} entries from `start`."""
    relocs = r.by_section.get(shndx, {})
    found: list[tuple[int, PlannedFunction]] = []
    for off in r.relocated(shndx, start, stop):
        name_t, code_t = relocs[off], relocs.get(off + 8)
        if code_t is None or not r.is_code(code_t):
            continue
        name = r.string(name_t)
        if not name:
            continue
        if len(found) >= 2 and off - found[-1][0] != found[1][0] - found[0][0]:
            break  # the array's stride broke: past its end
        sympos = r.u64(shndx, off + 16) or 0
        found.append((off, PlannedFunction(name, max(sympos, 1), r.code_name(code_t), sympos)))
    return [f for _, f in found]


def _from_klp_patch(mod: ModuleFile, r: _Relocs) -> PatchPlan | None:
    for shndx, relocs in r.by_section.items():
        for off, target in sorted(relocs.items()):
            if target.symbol != "__this_module" or not r._section(shndx):
                continue
            if r.sections[shndx].name == ".gnu.linkonce.this_module":
                continue
            objs = relocs.get(off + 8)
            if objs is None or not r.is_data(objs):
                continue
            return _walk_patch(mod, r, shndx, off, objs)
    return None


def _walk_patch(mod: ModuleFile, r: _Relocs, pshndx: int, poff: int, objs: _Target) -> PatchPlan:
    sec = objs.shndx
    assert sec is not None
    relocs = r.by_section.get(sec, {})
    # funcs pointers: relocations at or after the object array that point at other data
    candidates = [
        (o, t) for o, t in sorted(relocs.items()) if o >= objs.offset + 8 and r.is_data(t, zeroed_too=True)
    ]
    starts = {t.offset for _, t in candidates if t.shndx == sec} | ({poff} if pshndx == sec else set())
    bound = min((s for s in starts if s > objs.offset), default=len(r.data(sec)))
    # where each funcs array may end: the next array, object array or patch in its section (sorted once,
    # so a patch of many objects is read in one pass)
    ends: dict[int, list[int]] = {}
    for _, t in candidates:
        ends.setdefault(t.shndx, []).append(t.offset)
    for found in ends.values():
        found.extend((objs.offset, poff))
        found.sort()
    walked: dict[tuple[int, int, int], list[PlannedFunction]] = {}
    objects = []
    for off, funcs_t in candidates:
        if off >= bound or (off - 8 - objs.offset) < 0:
            break
        if r.string(funcs_t) is not None:
            continue  # a pointer to a string: the next object's name, not a funcs array
        name_t = relocs.get(off - 8)
        name = r.string(name_t) if name_t is not None else "vmlinux"
        if name is None:
            continue
        assert funcs_t.shndx is not None
        fsec = funcs_t.shndx
        fends = ends[fsec]
        after = bisect_right(fends, funcs_t.offset)
        fstop = fends[after] if after < len(fends) else len(r.data(fsec))
        key = (fsec, funcs_t.offset, fstop)
        if key not in walked:  # many objects may point at one array: it is read once
            walked[key] = _func_entries(r, fsec, funcs_t.offset, fstop)
        funcs = walked[key]
        if funcs or r.is_empty_func_array(funcs_t):
            objects.append(PlannedObject(name, tuple(funcs)))
    replace = None
    states = None
    major_minor = _release_tuple(mod.vermagic_release)
    notes = []
    if major_minor >= (5, 5):
        replace = bool(r.data(pshndx)[poff + 24 : poff + 25] == b"\x01")
        states = _states(r, r.by_section.get(pshndx, {}).get(poff + 16))
    elif major_minor >= (5, 1):
        replace = bool(r.data(pshndx)[poff + 16 : poff + 17] == b"\x01")
    if replace is not None:
        notes.append("replace read from the static klp_patch (a module may still set it at init)")
    return PatchPlan("klp_patch", tuple(objects), replace, tuple(notes), states)


def _states(r: _Relocs, states_t: _Target | None) -> tuple[PlannedState, ...]:
    """The `klp_state[]` a klp_patch points at, up to its id-0 end marker; () when it has none."""
    if states_t is None or states_t.shndx is None:
        return ()
    out = []
    for entry in range(64):  # far more states than any patch declares
        base = states_t.offset + 24 * entry
        state_id = r.u64(states_t.shndx, base)
        version = r.u64(states_t.shndx, base + 8, 4)
        if not state_id or version is None:
            break
        out.append(PlannedState(state_id, version))
    return tuple(out)


def _from_kpatch_funcs(r: _Relocs) -> PatchPlan | None:
    sec = r.elf.get_section_by_name(".kpatch.funcs")
    if sec is None:
        return None
    shndx = r.sections.index(sec)
    relocs = r.by_section.get(shndx, {})
    by_object: dict[str, list[PlannedFunction]] = {}
    for entry in range(len(r.data(shndx)) // 56):  # what the section holds, not what its header says
        base = entry * 56
        name_t, obj_t = relocs.get(base + 40), relocs.get(base + 48)
        name = r.string(name_t) if name_t else None
        obj = r.string(obj_t) if obj_t else None
        if not name or not obj:
            continue
        sympos = r.u64(shndx, base + 32) or 0
        by_object.setdefault(obj, []).append(PlannedFunction(name, max(sympos, 1), declared_sympos=sympos))
    objects = tuple(PlannedObject(o, tuple(f)) for o, f in by_object.items())
    return PatchPlan("kpatch.funcs", objects, True, ("kpatch-build patches replace by default",))


def plan_patch(mod: ModuleFile) -> PatchPlan:
    try:
        r = _Relocs(mod)
        plan = _from_kpatch_funcs(r) or _from_klp_patch(mod, r)
    except TooLarge as why:
        return PatchPlan("unknown", notes=(f"cannot tell which functions it patches: {why}",))
    except Exception as exc:  # hostile ELF content: the verdict says we cannot tell
        return PatchPlan("unknown", notes=(f"cannot read the patch structures ({type(exc).__name__})",))
    if plan is None or not plan.objects:
        why = "no klp_patch structure or .kpatch.funcs found"
        if r.elf.get_section_by_name("__klp_funcs") or r.elf.get_section_by_name(".init.klp_funcs"):
            why = "klp-build module: its function list is not read yet"
        return PatchPlan("unknown", notes=(f"cannot tell which functions it patches: {why}",))
    return plan
