"""The kpatch core module (kpatch.ko, Red Hat's pre-core live patching), read-only.

Sources (dynup/kpatch, before the core module was removed):
- kmod/core/core.c `kpatch_init`: the root /sys/kernel/kpatch and, in the early revisions, a
  `patches` directory under it (`kpatch_patches_kobj`).
- kmod/patch/kpatch-patch-hook.c @0c9a546 and @97c2bea ("patches" layout):
  /sys/kernel/kpatch/patches/<module>/{enabled (0644, "%d\\n"), checksum (0444, "%s\\n"),
  functions/<function>/{old_addr, new_addr}}.
- kmod/patch/kpatch-patch-hook.c, the revision with per-object kobjects ("objects" layout):
  /sys/kernel/kpatch/<module>/{enabled, checksum, <object>/<function>,<sympos>/{old_addr, new_addr}}
  (sympos printed as 1 when the patch gave 0, as the upstream core does).
- `enabled` is written by `patch_enabled_store`: 1 calls kpatch_register, 0 kpatch_unregister (all
  functions restored under stop_machine after the activeness safety check); `kpatch unload` does this
  and then rmmod. There is no transition: the switch is atomic, or fails with EBUSY.
- The patch directory is named after the patch module (THIS_MODULE->name); the core holds a module
  reference on each enabled patch (try_module_get in kpatch_register).
"""

from __future__ import annotations

from lptui.core.livepatch.patches import module_loaded, read_module
from lptui.core.model import OBJECT_NOT_SHOWN, FunctionInfo, Mechanism, ObjectInfo, PatchInfo, SystemInfo
from lptui.core.tree import Problems, Tree, parse_bool01, parse_line

KPATCH_DIR = "sys/kernel/kpatch"
CORE_MODULE = "kpatch"
ANY_OBJECT = OBJECT_NOT_SHOWN  # the "patches" layout lists functions without their object


def _function(entry: str) -> FunctionInfo:
    name, sep, pos = entry.rpartition(",")
    if sep and name and pos.isdecimal():
        return FunctionInfo(name, int(pos))
    return FunctionInfo(entry, 0)


def read_kpatch_patch(tree: Tree, base: str, name: str, layout: str) -> PatchInfo | None:
    if not tree.is_dir(base):
        return None
    problems = Problems()
    enabled = problems.field("enabled", parse_bool01(tree.read(f"{base}/enabled")))
    details: list[tuple[str, str]] = [("layout", layout)]
    checksum = parse_line(tree.read(f"{base}/checksum"))
    if checksum.value:
        details.append(("checksum", str(checksum.value)))
    elif tree.exists(f"{base}/checksum"):
        problems.append(f"checksum: {checksum.problem}")
    objects: list[ObjectInfo] = []
    if layout == "patches":
        funcs = tuple(_function(f) for f in tree.subdirs(f"{base}/functions"))
        if funcs:
            objects.append(ObjectInfo(ANY_OBJECT, True, None, funcs))
    else:
        for obj in tree.subdirs(base):
            funcs = tuple(_function(f) for f in tree.subdirs(f"{base}/{obj}"))
            loaded = obj == "vmlinux" or module_loaded(tree, obj)
            objects.append(ObjectInfo(obj, loaded, None, funcs))
    return PatchInfo(
        name=name,
        enabled=enabled,
        transition=False,
        replace=None,
        stack_order=None,
        module=read_module(tree, name),
        objects=tuple(objects),
        problems=tuple(problems),
        mechanism=Mechanism.KPATCH_CORE,
        stage=None if enabled is None else ("enabled" if enabled else "disabled"),
        details=tuple(details),
    )


def patch_dir(patch: PatchInfo) -> str:
    """Where the patch's `enabled` lives, by the layout it was read from."""
    if dict(patch.details).get("layout") == "patches":
        return f"{KPATCH_DIR}/patches/{patch.name}"
    return f"{KPATCH_DIR}/{patch.name}"


def read_kpatch_core(tree: Tree) -> tuple[SystemInfo, tuple[PatchInfo, ...]] | None:
    if not tree.is_dir(KPATCH_DIR):
        return None
    patches: list[PatchInfo] = []
    for entry in tree.subdirs(KPATCH_DIR):
        if entry == "patches" and not tree.exists(f"{KPATCH_DIR}/patches/enabled"):
            for name in tree.subdirs(f"{KPATCH_DIR}/patches"):
                patch = read_kpatch_patch(tree, f"{KPATCH_DIR}/patches/{name}", name, "patches")
                if patch is not None:
                    patches.append(patch)
        elif tree.exists(f"{KPATCH_DIR}/{entry}/enabled"):
            patch = read_kpatch_patch(tree, f"{KPATCH_DIR}/{entry}", entry, "objects")
            if patch is not None:
                patches.append(patch)
    core = read_module(tree, CORE_MODULE)
    if core.loaded:
        version = f" {core.version}" if core.version else ""
        detail = f"{CORE_MODULE}.ko{version} loaded, refcnt {core.refcnt}"
    else:
        detail = f"{CORE_MODULE}.ko not listed in /sys/module"
    return SystemInfo(Mechanism.KPATCH_CORE, KPATCH_DIR, detail, core.problems), tuple(patches)
