"""A module's vermagic against the running kernel's, compared as the kernel compares them.

The kernel's rule is `same_magic()` (kernel/module/version.c, called from check_modinfo() in
kernel/module/main.c): when the module carries symbol CRCs (a `__versions` section; the kernel built
with CONFIG_MODVERSIONS), the first word, the release, is skipped and the rest must match exactly; then
every imported symbol's CRC is checked against the kernel's (check_version()). Without CRCs the whole
string must match. A mismatch is ENOEXEC with "version magic '%s' should be '%s'" in the kernel log.

The running kernel's own string (VERMAGIC_STRING, compiled in) is not exported anywhere a reader can
see; every in-tree module built with that kernel carries it, byte for byte, in its `.modinfo`. So the
reference is the first in-tree module (`intree=Y`) under /lib/modules/<release>/kernel, in sorted order
(the same one every time), read with this package's own reader. Without one, lptui cannot tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lptui.core.kofile.files import module_files_under
from lptui.core.kofile.modfile import ModuleFile, ModuleFileError, open_module
from lptui.core.kofile.unpack import Budget

MAX_TRIED = 40  # module files opened in search of an in-tree one; a kernel's first ones all are
SEARCH_BYTES = 128 << 20  # what those opens may read and unpack in all: 40 bombs cost one


@dataclass(frozen=True)
class Reference:
    vermagic: str | None  # the running kernel's, or None when it cannot be found
    source: str  # the module it was read from, or why there is none


def intree_modules(root: str, release: str, limit: int = MAX_TRIED) -> Iterator[tuple[Path, ModuleFile]]:
    """The release's own in-tree modules (intree=Y, built for `release`) under /lib/modules/<release>/kernel,
    in sorted order, at most `limit` files opened and SEARCH_BYTES read and unpacked in all."""
    base = Path(root) / "lib/modules" / release / "kernel"
    if not root or not release or not base.is_dir():
        return
    budget = Budget(SEARCH_BYTES)
    for path in module_files_under(base, max_entries=10_000).files[:limit]:
        try:
            mod = open_module(str(path), budget)
        except ModuleFileError:
            if budget.left == 0:
                return
            continue
        magic = mod.info("vermagic")
        if magic and mod.info("intree") == "Y" and magic.split()[0] == release:
            yield path, mod


@lru_cache(maxsize=8)
def kernel_vermagic(root: str, release: str) -> Reference:
    if not root or not release:
        return Reference(None, "no kernel tree to compare with")
    base = Path(root) / "lib/modules" / release / "kernel"
    if not base.is_dir():
        return Reference(None, f"no in-tree modules of {release} (no {base})")
    for path, mod in intree_modules(root, release):
        return Reference(mod.info("vermagic"), str(path))
    return Reference(
        None, f"no readable in-tree module of {release} among the first {MAX_TRIED} under {base}"
    )


def has_crcs(mod: ModuleFile) -> bool:
    """The kernel's `info->index.vers != 0`: the module has a __versions section."""
    return mod.elf.get_section_by_name("__versions") is not None


def same_magic(module_magic: str, kernel_magic: str, crcs: bool) -> bool:
    """kernel/module/version.c same_magic(): with CRCs, each string from its first space on."""
    if crcs:
        module_magic = module_magic[module_magic.find(" ") :] if " " in module_magic else ""
        kernel_magic = kernel_magic[kernel_magic.find(" ") :] if " " in kernel_magic else ""
    return module_magic == kernel_magic


def word_differences(module_magic: str, kernel_magic: str) -> list[str]:
    """The flags that differ, in words: "mod_unl0ad where this kernel has mod_unload"."""
    ours, theirs = module_magic.split()[1:], kernel_magic.split()[1:]
    out = []
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        if a == b:
            continue
        if a is None:
            out.append(f"lacks {b!r}, which this kernel has")
        elif b is None:
            out.append(f"{a!r}, which this kernel does not have")
        else:
            out.append(f"{a!r} where this kernel has {b!r}")
    return out
