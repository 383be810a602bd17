"""klp-build's tables: the objects and functions of a module made by `scripts/livepatch/klp-build`
(Linux 6.19+), which has no static klp_patch: `scripts/livepatch/init.c` builds one at init from

  struct klp_object_ext { const char *name; struct klp_func_ext *funcs;
                          struct klp_callbacks callbacks; unsigned int nr_funcs; }   (64 bytes)
  struct klp_func_ext   { const char *old_name; void *new_func; unsigned long sympos; } (24 bytes)

(include/linux/livepatch_external.h), kept in `.init.klp_objects`/`.init.klp_funcs` (6.19 final, freed
after init) or `__klp_objects`/`__klp_funcs` (6.19-rc). objtool's klp-diff writes every pointer as a
relocation and no name relocation for vmlinux. An earlier revision ordered the object as {funcs,
nr_funcs, name, callbacks}, so the funcs relocation's offset says which layout a record has.
"""

from __future__ import annotations

from lptui.core.declared import PatchPlan, PlannedFunction, PlannedObject, PlanSource
from lptui.core.kofile.relocs import Relocs

OBJECTS = (".init.klp_objects", "__klp_objects")
FUNCS = (".init.klp_funcs", "__klp_funcs")
OBJECT_SIZE = 64
FUNC_SIZE = 24
# struct klp_callbacks (include/linux/livepatch.h): four hooks, then post_unpatch_enabled
HOOKS = ("pre_patch", "post_patch", "pre_unpatch", "post_unpatch")
# scripts/livepatch/init.c: `patch->replace = true` unless built with -DKLP_NO_REPLACE
REPLACE = (
    "klp-build builds replace (cumulative) patches unless run with --no-replace; that choice is "
    "compiled into the init code, not data lptui can read"
)


def _section(r: Relocs, names: tuple[str, ...]) -> int | None:
    for name in names:
        sec = r.elf.get_section_by_name(name)
        if sec is not None:
            return r.sections.index(sec)
    return None


def _stride(r: Relocs, shndx: int, default: int) -> int:
    """objtool creates the section with sh_entsize = sizeof(record); a linker may drop it."""
    entsize = r.sections[shndx]["sh_entsize"]
    size = len(r.data(shndx))
    return entsize if entsize >= default and size % entsize == 0 else default


def _functions(r: Relocs, fshndx: int, start: int, count: int) -> list[PlannedFunction]:
    relocs = r.by_section.get(fshndx, {})
    stride = _stride(r, fshndx, FUNC_SIZE)
    out = []
    for base in range(start, min(start + count * stride, len(r.data(fshndx))), stride):
        name_t, new_t = relocs.get(base), relocs.get(base + 8)
        name = r.string(name_t) if name_t is not None else None
        if not name:
            continue
        sympos = r.u64(fshndx, base + 16) or 0
        new_func = r.code_name(new_t) if new_t is not None else None
        out.append(PlannedFunction(name, max(sympos, 1), new_func, sympos))
    return out


def _record(r: Relocs, oshndx: int, base: int, fshndx: int) -> PlannedObject | None:
    relocs = r.by_section.get(oshndx, {})
    funcs_t = next((relocs[o] for o in (base + 8, base) if o in relocs and relocs[o].shndx == fshndx), None)
    if funcs_t is None:
        return None
    new_layout = base + 8 in relocs and relocs[base + 8] is funcs_t
    name_at, hooks_at, count_at = (
        (base, base + 16, base + 56) if new_layout else (base + 16, base + 24, base + 8)
    )
    name_t = relocs.get(name_at)
    name = r.string(name_t) if name_t is not None else "vmlinux"
    count = r.u64(oshndx, count_at, 4)
    if not name or count is None:
        return None
    hooks = []
    for i, hook in enumerate(HOOKS):
        t = relocs.get(hooks_at + 8 * i)
        fn = r.code_name(t) if t is not None and r.is_code(t) else None
        if fn:
            hooks.append((hook, fn))
    return PlannedObject(name, tuple(_functions(r, fshndx, funcs_t.offset, count)), tuple(hooks))


def from_klp_ext(r: Relocs) -> PatchPlan | None:
    """The plan of a klp-build module, or None when it has no klp-build tables."""
    oshndx, fshndx = _section(r, OBJECTS), _section(r, FUNCS)
    if oshndx is None or fshndx is None:
        return None
    merged: dict[str, PlannedObject] = {}
    stride = _stride(r, oshndx, OBJECT_SIZE)
    for base in range(0, len(r.data(oshndx)) - stride + 1, stride):
        obj = _record(r, oshndx, base, fshndx)
        if obj is None:
            continue
        had = merged.get(obj.name)
        if had is not None:  # one record per diffed object; merged should a file hold two
            obj = PlannedObject(obj.name, had.functions + obj.functions, had.callbacks + obj.callbacks)
        merged[obj.name] = obj
    objects = tuple(o for o in merged.values() if o.functions or o.callbacks)
    if not objects:
        why = "its klp-build tables (.init.klp_objects) hold no object lptui can read"
        return PatchPlan(PlanSource.UNKNOWN, notes=(f"cannot tell which functions it patches: {why}",))
    # init.c never sets patch->states (`/* TODO patch->states */`): klp-build modules carry none
    return PatchPlan(PlanSource.KLP_BUILD, objects, True, (REPLACE,), states=(), replace_by_default=True)
