"""A minimal kernel module file for the demo's installed patches: an ELF64 relocatable object with the
two sections every module has and a reader needs (`.modinfo`, `.gnu.linkonce.this_module`), so
provenance reads the demo's files exactly as it reads real ones."""

from __future__ import annotations

import struct

_EM = {"x86_64": 62, "aarch64": 183, "s390x": 22, "ppc64le": 21}
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB, _SHT_RELA = 1, 2, 3, 4
_SHF_WRITE, _SHF_ALLOC = 1, 2


def module_image(
    modinfo: dict[str, str],
    machine: str = "x86_64",
    extra: dict[str, bytes] | None = None,
    funcs: tuple[tuple[str, str, int], ...] = (),
) -> bytes:
    """`extra`: more sections by name (e.g. `__versions`, whose presence means symbol CRCs). `funcs`:
    (object, function, sympos) the patch declares, as kpatch-build lays them out (`_kpatch_tables`)."""
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
    links: dict[int, tuple[int, int, int]] = {}  # section index -> (sh_link, sh_info, sh_entsize)
    if funcs:
        _kpatch_tables(sections, links, funcs)
    names = b"\0" + b"".join(name.encode() + b"\0" for name, *_ in sections) + b".shstrtab\0"
    sections.append((".shstrtab", _SHT_STRTAB, 0, names))
    body, offsets, offset = b"", [], 64
    for *_, data in sections:
        offsets.append(offset + len(body))
        body += data + bytes(-len(data) % 8)
    shoff = 64 + len(body)
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, version 1
    counts = (len(sections) + 1, len(sections))
    header += struct.pack("<HHIQQQIHHHHHH", 1, _EM.get(machine, 62), 1, 0, 0, shoff, 0, 64, 0, 0, 64, *counts)
    table = bytes(64)  # section 0: SHN_UNDEF
    name_at = 1
    for index, ((name, kind, flags, data), at) in enumerate(zip(sections, offsets, strict=True), start=1):
        link, info, entsize = links.get(index, (0, 0, 0))
        table += struct.pack("<IIQQQQIIQQ", name_at, kind, flags, 0, at, len(data), link, info, 8, entsize)
        name_at += len(name) + 1
    return header + body + table


def _kpatch_tables(sections: list, links: dict, funcs: tuple[tuple[str, str, int], ...]) -> None:
    """.kpatch.funcs (56-byte `struct kpatch_patch_func`, sympos at +32, name at +40 and object name at
    +48 relocated into .kpatch.strings), its RELA table and the symbol table they need."""
    strings, at = b"", {}
    for text in dict.fromkeys(t for obj, fn, _ in funcs for t in (obj, fn)):
        at[text] = len(strings)
        strings += text.encode() + b"\0"
    table = b"".join(struct.pack("<5Q", 0, 0, 0, 0, sympos) + bytes(16) for _, _, sympos in funcs)
    funcs_index, strings_index = len(sections) + 1, len(sections) + 2
    symtab_index, strtab_index = len(sections) + 3, len(sections) + 4
    # symbol 1: the section symbol of .kpatch.strings (STT_SECTION, local)
    symbols = bytes(24) + struct.pack("<IBBHQQ", 0, 3, 0, strings_index, 0, 0)
    rela = b"".join(
        struct.pack("<QQq", i * 56 + off, (1 << 32) | 1, at[text])  # R_X86_64_64 against symbol 1
        for i, (obj, fn, _) in enumerate(funcs)
        for off, text in ((40, fn), (48, obj))
    )
    sections += [
        (".kpatch.funcs", _SHT_PROGBITS, _SHF_ALLOC, table),
        (".kpatch.strings", _SHT_PROGBITS, _SHF_ALLOC, strings),
        (".symtab", _SHT_SYMTAB, 0, symbols),
        (".strtab", _SHT_STRTAB, 0, b"\0"),
        (".rela.kpatch.funcs", _SHT_RELA, 0, rela),
    ]
    links[symtab_index] = (strtab_index, 2, 24)
    links[len(sections)] = (symtab_index, funcs_index, 24)
