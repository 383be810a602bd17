"""A minimal kernel module file for the demo's installed patches: an ELF64 relocatable object with the
two sections every module has and a reader needs (`.modinfo`, `.gnu.linkonce.this_module`), so
provenance reads the demo's files exactly as it reads real ones."""

from __future__ import annotations

import struct

_EM = {"x86_64": 62, "aarch64": 183, "s390x": 22, "ppc64le": 21}
_SHT_PROGBITS, _SHT_STRTAB = 1, 3
_SHF_WRITE, _SHF_ALLOC = 1, 2


def module_image(
    modinfo: dict[str, str], machine: str = "x86_64", extra: dict[str, bytes] | None = None
) -> bytes:
    """`extra`: more sections by name (e.g. `__versions`, whose presence means symbol CRCs)."""
    sections = [
        (
            ".modinfo",
            _SHT_PROGBITS,
            _SHF_ALLOC,
            b"".join(f"{k}={v}".encode() + b"\0" for k, v in modinfo.items()),
        ),
        (".gnu.linkonce.this_module", _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC, bytes(64)),
        *((name, _SHT_PROGBITS, _SHF_ALLOC, data) for name, data in (extra or {}).items()),
    ]
    names = b"\0" + b"".join(name.encode() + b"\0" for name, *_ in sections) + b".shstrtab\0"
    sections.append((".shstrtab", _SHT_STRTAB, 0, names))
    body, offsets, offset = b"", [], 64
    for *_, data in sections:
        offsets.append(offset + len(body))
        body += data + bytes(-len(data) % 8)
    shoff = 64 + len(body)
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, version 1
    header += struct.pack("<HHIQQQIHHHHHH", 1, _EM.get(machine, 62), 1, 0, 0, shoff, 0, 64, 0, 0, 64,
                          len(sections) + 1, len(sections))  # fmt: skip
    table = bytes(64)  # section 0: SHN_UNDEF
    name_at = 1
    for (name, kind, flags, data), at in zip(sections, offsets, strict=True):
        table += struct.pack("<IIQQQQIIQQ", name_at, kind, flags, 0, at, len(data), 0, 0, 8, 0)
        name_at += len(name) + 1
    return header + body + table
