"""Read a kernel module file (.ko, optionally .xz/.gz/.zst) without loading it: ELF checks, .modinfo,
signature. Hostile files are expected (a module directory, a bundle, a vendor's download): the bytes are
read and unpacked within caps (`unpack`), the section table is checked before pyelftools sees it
(`survey`), and .modinfo is read only up to MAX_MODINFO.

Every malformed input gives a `ModuleFileError` with one clear line; nothing here raises anything else.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from lptui.core.exits import LptuiError
from lptui.core.kofile.survey import SectionHeader, SurveyError, survey
from lptui.core.kofile.unpack import MAX_IMAGE, Budget, UnpackError, read_file, unpack

SIGNATURE_MARKER = b"~Module signature appended~\n"
MAX_MODULE_SIZE = MAX_IMAGE
# A livepatch module's .modinfo is a few hundred bytes; an in-tree driver's, with its aliases, tens of
# KiB. Past this it is not parsed: 60 MB of `a=b` pairs cost 1 GB as a dict of lists.
MAX_MODINFO = 256 << 10
_MACHINES = {
    "EM_X86_64": "x86_64",
    "EM_AARCH64": "aarch64",
    "EM_S390": "s390x",
    "EM_PPC64": "ppc64le",
    "EM_RISCV": "riscv64",
    "EM_386": "i386",
    "EM_ARM": "arm",
}


class ModuleFileError(LptuiError):
    """A file that cannot be a loadable kernel module; the message is one line for the user."""


@dataclass(frozen=True)
class ModuleFile:
    path: str
    data: bytes  # the ELF image (decompressed, signature stripped)
    elf: ELFFile
    modinfo: dict[str, list[str]]
    signed: bool
    signature_len: int | None
    compressed: str | None
    machine: str
    sections: tuple[SectionHeader, ...] = ()  # as the survey read them, before pyelftools

    def info(self, key: str) -> str | None:
        values = self.modinfo.get(key)
        return values[0] if values else None

    @property
    def name(self) -> str | None:
        return self.info("name")

    @property
    def is_livepatch(self) -> bool:
        return self.info("livepatch") == "Y"

    @property
    def vermagic_release(self) -> str | None:
        vermagic = self.info("vermagic")
        return vermagic.split()[0] if vermagic else None


def _strip_signature(raw: bytes) -> tuple[bytes, bool, int | None]:
    """Appended signature: ELF | PKCS#7 | struct module_signature (12 bytes) | marker (28 bytes)."""
    if not raw.endswith(SIGNATURE_MARKER):
        return raw, False, None
    if len(raw) < len(SIGNATURE_MARKER) + 12:
        return raw, True, None
    sig_len = int.from_bytes(raw[-len(SIGNATURE_MARKER) - 4 : -len(SIGNATURE_MARKER)], "big")
    end = len(raw) - len(SIGNATURE_MARKER) - 12 - sig_len
    if end <= 0:
        return raw, True, None
    return raw[:end], True, sig_len


def parse_modinfo(blob: bytes) -> dict[str, list[str]]:
    info: dict[str, list[str]] = {}
    for entry in blob.split(b"\x00"):
        if b"=" not in entry:
            continue
        key, _, value = entry.partition(b"=")
        info.setdefault(key.decode("ascii", "replace"), []).append(value.decode("utf-8", "replace"))
    return info


def _image(path: str, budget: Budget | None) -> tuple[bytes, str | None]:
    try:
        return unpack(read_file(path, budget), budget)
    except UnpackError as exc:
        raise ModuleFileError(f"{path}: {exc}") from None


def open_module(path: str, budget: Budget | None = None) -> ModuleFile:
    """`budget`: what this read may spend of bytes shared with other reads (the life cycle's)."""
    raw, compressed = _image(path, budget)
    data, signed, sig_len = _strip_signature(raw)
    if data[:4] != b"\x7fELF":
        raise ModuleFileError(f"{path}: not an ELF file (a kernel module is an ELF relocatable object)")
    try:
        headers = survey(data)
    except SurveyError as exc:
        raise ModuleFileError(f"{path}: {exc}") from None
    try:
        elf = ELFFile(io.BytesIO(data))
        kind = elf.header["e_type"]
        machine_key = elf.header["e_machine"]
        sections = {s.name: s for s in elf.iter_sections()}
    except (ELFError, ValueError, KeyError, OSError, AssertionError, UnicodeDecodeError) as exc:
        raise ModuleFileError(f"{path}: truncated or corrupt ELF ({exc})") from None
    except Exception as exc:  # pyelftools raises assorted errors on hostile input
        raise ModuleFileError(f"{path}: corrupt ELF ({type(exc).__name__}: {exc})") from None
    if kind != "ET_REL":
        raise ModuleFileError(f"{path}: ELF type {kind}, not a relocatable object: not a kernel module")
    machine = _MACHINES.get(machine_key, str(machine_key))
    if ".gnu.linkonce.this_module" not in sections:
        raise ModuleFileError(f"{path}: no .gnu.linkonce.this_module section: not a kernel module")
    if ".modinfo" not in sections:
        raise ModuleFileError(f"{path}: no .modinfo section: not a kernel module")
    size = sections[".modinfo"]["sh_size"]
    if size > MAX_MODINFO:
        raise ModuleFileError(
            f"{path}: a .modinfo of {size:,} bytes, over the {MAX_MODINFO >> 10} KiB lptui reads: "
            "not a module lptui reads"
        )
    try:
        modinfo = parse_modinfo(sections[".modinfo"].data())
    except Exception as exc:
        raise ModuleFileError(f"{path}: unreadable .modinfo ({exc})") from None
    return ModuleFile(path, data, elf, modinfo, signed, sig_len, compressed, machine, headers)
