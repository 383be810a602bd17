"""A module's symbol CRCs against the running kernel's: the check_version() the kernel makes on a module
built for another release (kernel/module/version.c).

- The module's: its `__versions` section, an array of `struct modversion_info` { unsigned long crc;
  char name[64 - sizeof(unsigned long)]; } (include/linux/module.h): 64 bytes a record on 64-bit.
- The kernel's: `Module.symvers` of the running release (`/lib/modules/<release>/build/Module.symvers`,
  installed with the headers: "0x%08x\t%s\t%s\t%s\t%s" crc, symbol, module, export type, namespace);
  without it, the `__versions` of the release's own in-tree modules, which carry the kernel's CRCs of
  the symbols they import (module_layout among them on kernels that still check it).
A differing CRC makes the kernel refuse the module: "disagrees about version of symbol %s".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from lptui.core.kofile.modfile import ModuleFile
from lptui.core.kofile.vermagic import intree_modules

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Literal

RECORD = 64
MAX_RECORDS = 1 << 16  # imported symbols read from one module
MAX_SYMVERS = 64 << 20  # Debian's Module.symvers is ~2 MiB
MAX_MODULES = 40  # in-tree modules read when there is no Module.symvers


def module_crcs(mod: ModuleFile) -> dict[str, int]:
    """Symbol -> CRC from the module's __versions (empty without one)."""
    sec = mod.elf.get_section_by_name("__versions")
    if sec is None:
        return {}
    data = sec.data()[: RECORD * MAX_RECORDS]
    out = {}
    for at in range(0, len(data) - RECORD + 1, RECORD):
        crc = struct.unpack_from("<Q", data, at)[0] & 0xFFFFFFFF
        name = data[at + 8 : at + RECORD].split(b"\0", 1)[0].decode("ascii", "replace")
        if name:
            out[name] = crc
    return out


@dataclass(frozen=True)
class KernelCrcs:
    crcs: dict[str, int]
    source: str  # where they were read, or why none


def parse_symvers(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].startswith("0x"):
            try:
                out[parts[1]] = int(parts[0], 16)
            except ValueError:
                continue
    return out


def kernel_crcs(root: str, release: str, wanted: set[str]) -> KernelCrcs:
    """The running release's CRCs of `wanted`, from Module.symvers, else from its in-tree modules."""
    base = Path(root) / "lib/modules" / release
    symvers = base / "build/Module.symvers"
    try:
        if symvers.is_file() and symvers.stat().st_size <= MAX_SYMVERS:
            return KernelCrcs(parse_symvers(symvers.read_text(errors="replace")), str(symvers))
    except OSError:
        pass
    found: dict[str, int] = {}
    for _, mod in intree_modules(root, release, MAX_MODULES):
        found.update(module_crcs(mod))
        if wanted <= found.keys():
            break
    where = (
        f"the __versions of {release}'s in-tree modules"
        if found
        else (f"no Module.symvers under {base}, no in-tree module with __versions")
    )
    return KernelCrcs(found, where)


def crc_verdict(mod: ModuleFile, root: str, release: str) -> tuple[Literal["ok", "error", "unknown"], str]:
    """(level, text) of check_version() for a module built for another release."""
    theirs = module_crcs(mod)
    if not theirs:
        return "unknown", "no symbol CRCs read from its __versions"
    kernel = kernel_crcs(root, release, set(theirs))
    differ = [name for name, crc in theirs.items() if name in kernel.crcs and kernel.crcs[name] != crc]
    if differ:
        name = differ[0]
        return "error", (
            f"the CRC of {name} is {theirs[name]:#010x} in the module and {kernel.crcs[name]:#010x} in this "
            f'kernel ({kernel.source}): the kernel refuses it ("disagrees about version of symbol {name}")'
        )
    missing = [name for name in theirs if name not in kernel.crcs]
    if not kernel.crcs:
        return "unknown", f"cannot tell: nothing here holds this kernel's symbol CRCs ({kernel.source})"
    if missing:
        return "unknown", (
            f"cannot tell: no CRC of {len(missing)} of its {len(theirs)} imported symbols "
            f"({', '.join(missing[:3])}) in {kernel.source}"
        )
    return "ok", f"every imported symbol's CRC ({len(theirs)}) matches this kernel's ({kernel.source})"
