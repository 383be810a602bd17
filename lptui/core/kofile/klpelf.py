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
name (+48) point into `.kpatch.strings`; klp-build modules carry `.init.klp_objects`/`.init.klp_funcs`
(read by `klpext`).
"""

from __future__ import annotations

from bisect import bisect_right

from lptui.core.declared import PatchPlan, PlannedFunction, PlannedObject, PlannedState, PlanSource
from lptui.core.kofile.klpext import from_klp_ext
from lptui.core.kofile.modfile import ModuleFile
from lptui.core.kofile.relocs import SHF_EXECINSTR, Relocs, Target, TooLarge


def _release_tuple(release: str | None) -> tuple[int, int]:
    try:
        major, minor = (release or "").split(".")[:2]
        return int(major), int("".join(c for c in minor if c.isdecimal()) or 0)
    except ValueError:
        return (0, 0)


def _func_entries(r: Relocs, shndx: int, start: int, stop: int) -> list[PlannedFunction]:
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


def _from_klp_patch(mod: ModuleFile, r: Relocs) -> PatchPlan | None:
    for shndx, relocs in r.by_section.items():
        for off, target in sorted(relocs.items()):
            if target.symbol != "__this_module" or not r.real_section(shndx):
                continue
            if r.flags(shndx) & SHF_EXECINSTR:
                continue  # code taking THIS_MODULE (klp-build's init.c does, twice), not a klp_patch
            if r.sections[shndx].name == ".gnu.linkonce.this_module":
                continue
            objs = relocs.get(off + 8)
            if objs is None or not r.is_data(objs):
                continue
            return _walk_patch(mod, r, shndx, off, objs)
    return None


def _walk_patch(mod: ModuleFile, r: Relocs, pshndx: int, poff: int, objs: Target) -> PatchPlan:
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
        if t.shndx is not None:
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
    return PatchPlan(PlanSource.KLP_PATCH, tuple(objects), replace, tuple(notes), states)


def _states(r: Relocs, states_t: Target | None) -> tuple[PlannedState, ...]:
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


# kpatch-build (kpatch-build/kpatch-build, livepatch-patch-hook.c) compiles `lpatch->replace =
# KLP_REPLACE_ENABLE` into its init code: true unless built with -R/--non-replace, and not in the data.
KPATCH_REPLACE = (
    "kpatch-build builds replace (cumulative) patches unless run with --non-replace (-R); that choice "
    "is compiled into the init code, not data lptui can read"
)


def _kpatch_layout(size: int) -> tuple[int, int, int | None] | None:
    """(entry size, name offset, sympos offset) of `struct kpatch_patch_func` (kmod/patch/kpatch-patch.h):
    56 bytes since kpatch b64ab2b (2016, sympos at +32), 48 before it (no sympos)."""
    if size % 56 == 0:
        return 56, 40, 32
    if size % 48 == 0:
        return 48, 32, None
    return None


def _from_kpatch_funcs(r: Relocs) -> PatchPlan | None:
    sec = r.elf.get_section_by_name(".kpatch.funcs")
    if sec is None:
        return None
    shndx = r.sections.index(sec)
    relocs = r.by_section.get(shndx, {})
    layout = _kpatch_layout(len(r.data(shndx)))  # what the section holds, not what its header says
    if layout is None:
        return PatchPlan(
            PlanSource.UNKNOWN,
            notes=(
                "cannot tell which functions it patches: .kpatch.funcs is neither 56- nor 48-byte entries",
            ),
        )
    size, name_at, sympos_at = layout
    by_object: dict[str, list[PlannedFunction]] = {}
    for base in range(0, len(r.data(shndx)), size):
        name_t, obj_t, new_t = relocs.get(base + name_at), relocs.get(base + name_at + 8), relocs.get(base)
        name = r.string(name_t) if name_t else None
        obj = r.string(obj_t) if obj_t else None
        if not name or not obj:
            continue
        sympos = (r.u64(shndx, base + sympos_at) or 0) if sympos_at is not None else 0
        new_func = r.code_name(new_t) if new_t else None
        by_object.setdefault(obj, []).append(PlannedFunction(name, max(sympos, 1), new_func, sympos))
    objects = tuple(PlannedObject(o, tuple(f)) for o, f in by_object.items())
    return PatchPlan(PlanSource.KPATCH_FUNCS, objects, True, (KPATCH_REPLACE,), replace_by_default=True)


def plan_patch(mod: ModuleFile) -> PatchPlan:
    try:
        r = Relocs(mod)
        plan = _from_kpatch_funcs(r) or from_klp_ext(r) or _from_klp_patch(mod, r)
    except TooLarge as too_large:
        return PatchPlan(PlanSource.UNKNOWN, notes=(f"cannot tell which functions it patches: {too_large}",))
    except Exception as exc:  # hostile ELF content: the verdict says we cannot tell
        return PatchPlan(
            PlanSource.UNKNOWN, notes=(f"cannot read the patch structures ({type(exc).__name__})",)
        )
    if plan is None or not plan.objects:
        why = "no klp_patch structure, klp-build table or .kpatch.funcs found"
        if plan is not None and plan.source is PlanSource.UNKNOWN:
            return plan
        return PatchPlan(PlanSource.UNKNOWN, notes=(f"cannot tell which functions it patches: {why}",))
    return plan
