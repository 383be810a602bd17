"""The kernel's taint bits (kernel/panic.c `taint_flags`, Documentation/admin-guide/tainted-kernels.rst)."""

from __future__ import annotations

from lptui.core.model import TaintFlag

TAINT_LIVEPATCH_BIT = 15

_TABLE: tuple[tuple[int, str, str], ...] = (
    (0, "P", "proprietary module loaded"),
    (1, "F", "module force-loaded"),
    (2, "S", "running on an out-of-spec system"),
    (3, "R", "module force-unloaded"),
    (4, "M", "machine check exception"),
    (5, "B", "bad page referenced"),
    (6, "U", "taint requested by user space"),
    (7, "D", "kernel died recently (oops or BUG)"),
    (8, "A", "ACPI table overridden"),
    (9, "W", "kernel issued a warning"),
    (10, "C", "staging driver loaded"),
    (11, "I", "firmware bug workaround in use"),
    (12, "O", "out-of-tree module loaded"),
    (13, "E", "unsigned module loaded"),
    (14, "L", "soft lockup occurred"),
    (15, "K", "kernel has been live patched"),
    (16, "X", "auxiliary taint (distribution-defined)"),
    (17, "T", "built with struct randomization"),
    (18, "N", "in-kernel test module loaded"),
    (19, "J", "fwctl misuse by user space"),
)


def decode_taint(value: int) -> tuple[TaintFlag, ...]:
    """Letters for each set bit, in bit order; unknown bits are reported as '?'."""
    flags = []
    known = {bit for bit, _, _ in _TABLE}
    for bit, letter, meaning in _TABLE:
        if value & (1 << bit):
            flags.append(TaintFlag(bit, letter, meaning))
    rest = value & ~sum(1 << b for b in known)
    bit = 0
    while rest >> bit:
        if rest & (1 << bit):
            flags.append(TaintFlag(bit, "?", f"unknown taint bit {bit}"))
        bit += 1
    return tuple(flags)
