"""Read loaded patches from /sys/kernel/livepatch and their modules from /sys/module."""

from __future__ import annotations

from lptui.core.livepatch.kernel import LIVEPATCH_DIR
from lptui.core.model import FunctionInfo, ModuleInfo, ObjectInfo, PatchInfo
from lptui.core.tree import Problems, Tree, parse_bool01, parse_int, parse_line

# Files in a patch directory that are attributes, not objects.
_PATCH_ATTRS = frozenset({"enabled", "transition", "force", "signal", "replace", "stack_order"})


def module_loaded(tree: Tree, name: str) -> bool:
    """A loaded module has `initstate`/`refcnt`; built-in ones only have a parameters dir."""
    base = f"sys/module/{name}"
    return tree.exists(f"{base}/initstate") or tree.exists(f"{base}/refcnt")


def read_module(tree: Tree, name: str) -> ModuleInfo:
    base = f"sys/module/{name}"
    if not module_loaded(tree, name):
        return ModuleInfo(name=name, loaded=False)
    problems = Problems()
    refcnt = problems.field("refcnt", parse_int(tree.read(f"{base}/refcnt")))
    taint_read = tree.read(f"{base}/taint")
    taint: str | None
    if taint_read.ok:
        taint = (taint_read.text or "").strip()
        if taint and not taint.isalpha():
            problems.append(f"taint: garbage {taint[:20]!r}")
            taint = None
    else:
        taint = None
        problems.append(f"taint: {taint_read.error}")
    src = parse_line(tree.read(f"{base}/srcversion")) if tree.exists(f"{base}/srcversion") else None
    ver = parse_line(tree.read(f"{base}/version")) if tree.exists(f"{base}/version") else None
    return ModuleInfo(
        name=name,
        loaded=True,
        refcnt=refcnt,
        taint=taint,
        srcversion=src.value if src else None,
        version=ver.value if ver else None,
        problems=tuple(problems),
    )


def _parse_function_dir(name: str) -> FunctionInfo | None:
    func, sep, pos = name.rpartition(",")
    if not sep or not func:
        return None
    try:
        sympos = int(pos, 10)
    except ValueError:
        return None
    return FunctionInfo(func, sympos)


def read_object(tree: Tree, patch: str, obj: str) -> tuple[ObjectInfo, list[str]]:
    base = f"{LIVEPATCH_DIR}/{patch}/{obj}"
    problems = Problems()
    patched: bool | None = None
    if tree.exists(f"{base}/patched"):
        patched = problems.field(f"{obj}/patched", parse_bool01(tree.read(f"{base}/patched")))
    functions = []
    for entry in tree.subdirs(base):
        fn = _parse_function_dir(entry)
        if fn is None:
            problems.append(f"{obj}: unexpected entry {entry!r}")
            continue
        functions.append(fn)
    loaded = obj == "vmlinux" or module_loaded(tree, obj)
    return ObjectInfo(obj, loaded, patched, tuple(functions)), problems


def read_patch(tree: Tree, name: str) -> PatchInfo | None:
    """None when the patch directory vanished (its unpatching completed) while we read."""
    base = f"{LIVEPATCH_DIR}/{name}"
    if not tree.is_dir(base):
        return None
    problems = Problems()

    def attr_bool(attr: str, optional: bool) -> bool | None:
        if optional and not tree.exists(f"{base}/{attr}"):
            return None
        return problems.field(attr, parse_bool01(tree.read(f"{base}/{attr}")))

    enabled = attr_bool("enabled", optional=False)
    transition = attr_bool("transition", optional=True)
    replace = attr_bool("replace", optional=True)
    stack_order: int | None = None
    if tree.exists(f"{base}/stack_order"):
        parsed = parse_int(tree.read(f"{base}/stack_order"))
        if parsed.problem:
            problems.append(f"stack_order: {parsed.problem}")
        elif isinstance(parsed.value, int) and parsed.value < 1:
            problems.append(f"stack_order: unexpected value {parsed.value}")
        else:
            stack_order = parsed.value

    objects = []
    for entry in tree.subdirs(base):
        if entry in _PATCH_ATTRS:
            continue
        obj, obj_problems = read_object(tree, name, entry)
        objects.append(obj)
        problems.extend(obj_problems)
    if not tree.is_dir(base):
        return None  # freed while we were reading it
    return PatchInfo(
        name=name,
        enabled=enabled,
        transition=transition,
        replace=replace,
        stack_order=stack_order,
        module=read_module(tree, name),
        objects=tuple(objects),
        problems=tuple(problems),
    )


def read_patches(tree: Tree) -> tuple[PatchInfo, ...]:
    patches = []
    for name in tree.subdirs(LIVEPATCH_DIR):
        patch = read_patch(tree, name)
        if patch is not None:
            patches.append(patch)
    # Order by stack order where the kernel tells it, else by name (stable for scripts).
    return tuple(sorted(patches, key=lambda p: (p.stack_order is None, p.stack_order or 0, p.name)))


def livepatch_modules(tree: Tree) -> frozenset[str]:
    """Loaded modules whose taint has K (set at load for every livepatch module)."""
    names = []
    for name in tree.subdirs("sys/module"):
        taint = tree.read(f"sys/module/{name}/taint")
        if taint.ok and "K" in (taint.text or ""):
            names.append(name)
    return frozenset(names)


def read_inactive_modules(
    tree: Tree, patch_names: set[str], candidates: frozenset[str] | None = None
) -> tuple[ModuleInfo, ...]:
    """Livepatch modules (module taint K) still loaded whose patch directory is gone."""
    if candidates is None:
        candidates = livepatch_modules(tree)
    inactive = []
    for name in sorted(candidates - patch_names):
        module = read_module(tree, name)
        if module.loaded:
            inactive.append(module)
    return tuple(inactive)
