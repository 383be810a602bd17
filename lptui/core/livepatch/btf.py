"""Names of BTF type ids, read from the kernel's own BTF (/sys/kernel/btf/vmlinux), with bounds.

No well-kept Python BTF reader exists (PyPI has placeholders and libbpf wrappers that compile C), so
this reads the format itself (include/uapi/linux/btf.h, Documentation/bpf/btf.rst): a header, then
the type section, each `struct btf_type` (name_off, info, size_or_type: 12 bytes) followed by data
whose length its kind and vlen decide, then the string section. Type ids count from 1 in section
order; vmlinux is BTF object 1, and a module's split BTF continues vmlinux's numbering.
Every offset is checked against the buffer: a malformed or hostile file gives None, never an error.
"""

from __future__ import annotations

import struct

MAGIC = 0xEB9F
MAX_BYTES = 64 << 20  # Debian's vmlinux BTF is ~6 MiB
MAX_TYPES = (
    2_000_000  # types walked at most (Debian 12's vmlinux has ~130,000): a saved tree's BTF is hostile
)
KIND_FUNC = 12
# bytes after the 12-byte btf_type, by kind: (fixed, per vlen item)
_TRAILING = {
    1: (4, 0),  # INT: u32 encoding
    2: (0, 0),  # PTR
    3: (12, 0),  # ARRAY: struct btf_array
    4: (0, 12),  # STRUCT: btf_member each
    5: (0, 12),  # UNION
    6: (0, 8),  # ENUM: btf_enum each
    7: (0, 0),  # FWD
    8: (0, 0),  # TYPEDEF
    9: (0, 0),  # VOLATILE
    10: (0, 0),  # CONST
    11: (0, 0),  # RESTRICT
    12: (0, 0),  # FUNC
    13: (0, 8),  # FUNC_PROTO: btf_param each
    14: (4, 0),  # VAR: btf_var
    15: (0, 12),  # DATASEC: btf_var_secinfo each
    16: (0, 0),  # FLOAT
    17: (4, 0),  # DECL_TAG: btf_decl_tag
    18: (0, 0),  # TYPE_TAG
    19: (0, 12),  # ENUM64: btf_enum64 each
}


def type_names(data: bytes, wanted: set[int]) -> dict[int, tuple[int, str]] | None:
    """{type id: (kind, name)} for the `wanted` ids found; None when the data is not BTF this reader
    can walk (wrong magic, an offset outside the data, an unknown kind)."""
    if len(data) < 24 or int.from_bytes(data[:2], "little") != MAGIC:
        return None
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<5I", data, 4)
    types, strings = hdr_len + type_off, hdr_len + str_off
    if hdr_len < 24 or types + type_len > len(data) or strings + str_len > len(data):
        return None
    found: dict[int, tuple[int, str]] = {}
    last = max(wanted, default=0)
    pos, end, type_id = types, types + type_len, 1
    while pos + 12 <= end and type_id <= min(last, MAX_TYPES):
        name_off, info = struct.unpack_from("<2I", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        trailing = _TRAILING.get(kind)
        if trailing is None:
            return None
        if type_id in wanted:
            found[type_id] = (kind, _string(data, strings, str_len, name_off))
        pos += 12 + trailing[0] + trailing[1] * vlen
        type_id += 1
    return found


def _string(data: bytes, start: int, length: int, offset: int) -> str:
    if offset >= length:
        return "?"
    at = start + offset
    stop = data.find(b"\0", at, min(start + length, at + 256))
    return data[at : stop if stop >= 0 else min(start + length, at + 256)].decode("ascii", "replace")
