"""Read a kernel module file (.ko, optionally .xz/.gz) without loading it: ELF checks, .modinfo, signature.

Every malformed input gives a `ModuleFileError` with one clear line; nothing here raises anything else.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import stat
import zlib
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

SIGNATURE_MARKER = b"~Module signature appended~\n"
MAX_MODULE_SIZE = 256 * 1024 * 1024
_MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_S390": "s390x", "EM_PPC64": "ppc64le",
             "EM_RISCV": "riscv64", "EM_386": "i386", "EM_ARM": "arm"}  # fmt: skip


class ModuleFileError(Exception):
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


def _read_bytes(path: str) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ModuleFileError(f"{path}: no such file") from None
    except PermissionError:
        raise ModuleFileError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ModuleFileError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ModuleFileError(f"{path}: is a directory, not a module file")
    if not stat.S_ISREG(st.st_mode):
        raise ModuleFileError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise ModuleFileError(f"{path}: empty file")
    if st.st_size > MAX_MODULE_SIZE:
        raise ModuleFileError(f"{path}: {st.st_size} bytes is too large for a kernel module")
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_MODULE_SIZE + 1)
    except PermissionError:
        raise ModuleFileError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ModuleFileError(f"{path}: cannot read ({exc.strerror})") from None


def _decompress(path: str, raw: bytes) -> tuple[bytes, str | None]:
    try:
        if raw[:6] == b"\xfd7zXZ\x00":  # bounded: a small .ko.xz may unpack to gigabytes
            out = lzma.LZMADecompressor().decompress(raw, max_length=MAX_MODULE_SIZE + 1)
            if len(out) > MAX_MODULE_SIZE:
                raise ModuleFileError(f"{path}: unpacks to over {MAX_MODULE_SIZE >> 20} MiB: not a module")
            return out, "xz"
        if raw[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=io.BytesIO(raw)).read(MAX_MODULE_SIZE + 1), "gzip"
    except (lzma.LZMAError, zlib.error, OSError, EOFError) as exc:
        raise ModuleFileError(f"{path}: corrupt compressed module ({exc})") from None
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raise ModuleFileError(f"{path}: zstd-compressed module: decompress it first (unzstd {path})")
    return raw, None


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


def open_module(path: str) -> ModuleFile:
    raw = _read_bytes(path)
    raw, compressed = _decompress(path, raw)
    data, signed, sig_len = _strip_signature(raw)
    if data[:4] != b"\x7fELF":
        raise ModuleFileError(f"{path}: not an ELF file (a kernel module is an ELF relocatable object)")
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
    if elf.elfclass != 64:
        raise ModuleFileError(f"{path}: 32-bit ELF: not a module for a 64-bit kernel")
    machine = _MACHINES.get(machine_key, str(machine_key))
    if ".gnu.linkonce.this_module" not in sections:
        raise ModuleFileError(f"{path}: no .gnu.linkonce.this_module section: not a kernel module")
    if ".modinfo" not in sections:
        raise ModuleFileError(f"{path}: no .modinfo section: not a kernel module")
    try:
        modinfo = parse_modinfo(sections[".modinfo"].data())
    except Exception as exc:
        raise ModuleFileError(f"{path}: unreadable .modinfo ({exc})") from None
    return ModuleFile(path, data, elf, modinfo, signed, sig_len, compressed, machine)
