"""A kernel BTF blob as /sys/kernel/btf/vmlinux holds it (include/uapi/linux/btf.h), with FUNC types at
the ids a scenario's trampolines name and PTR types filling the ids between: the simulated kernel's own,
and the tests' input for the bounded reader (lptui/core/livepatch/btf.py)."""

from __future__ import annotations

import struct

KIND_PTR, KIND_FUNC = 2, 12


def build_btf(funcs: dict[int, str]) -> bytes:
    """BTF whose type `id` is FUNC `name` for each item; every other id up to the largest a PTR."""
    strings = bytearray(b"\0")
    types = bytearray()
    for type_id in range(1, max(funcs, default=0) + 1):
        name = funcs.get(type_id)
        if name is None:
            types += struct.pack("<3I", 0, KIND_PTR << 24, 0)
            continue
        types += struct.pack("<3I", len(strings), KIND_FUNC << 24, 0)
        strings += name.encode() + b"\0"
    header = struct.pack("<HBBI4I", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + bytes(types) + bytes(strings)
