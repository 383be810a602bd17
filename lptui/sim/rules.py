"""The kernel's rules the simulator keeps without state of its own: `kstrtobool`, errno-carrying
errors, transition timings, which sysfs attributes each kernel has, the symbol table and how a
patch's targets resolve in it, and whether a patch's system states are compatible."""

from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Iterable, Mapping

from lptui.sim.state import PatchSpec, SimPatch, SimTask

# The simulated kernel's symbol table, beyond what task stacks show: the functions its scenarios and
# the suite's test modules patch, in vmlinux and in the modules that carry them.
VMLINUX_SYMBOLS = (
    "cmdline_proc_show",
    "meminfo_proc_show",
    "pipe_read",
    "do_sys_openat2",
    "tcp_recvmsg",
    "tcp_sendmsg",
    "msleep",
    "ep_poll",
    "schedule",
    "uptime_proc_show",
)
MODULE_SYMBOLS = {
    "xfs": ("xfsaild",),
    "ext4": ("ext4_sync_file",),
    "jbd2": ("jbd2_log_wait_commit",),
    "nfsd": ("nfsd4_process_open2", "nfsd_setattr"),
    "btrfs": ("btrfs_sync_file",),
    "lptui_target": ("lptui_target_sleep",),
}
ALL_FEATURES = frozenset({"transition", "force", "replace", "stack_order", "object_patched"})
# Livepatch sysfs attributes by kernel (Documentation/ABI/testing/sysfs-kernel-livepatch); the real-kernel
# suite checks 6.1 and 6.12.
PROFILES: dict[str, frozenset[str]] = {
    "5.0": frozenset({"transition", "force", "signal"}),
    "6.0": frozenset({"transition", "force"}),
    "6.1": frozenset({"transition", "force", "object_patched"}),
    "6.12": frozenset({"transition", "force", "object_patched", "replace"}),
    "6.14": ALL_FEATURES,
}
SIGNALS_TIMEOUT = 15  # transition.c: fake signals on the 16th failed try, then every 15
RETRY_INTERVAL = 1.0  # klp_try_complete_transition is re-queued with round_jiffies_relative(HZ)


def kernel_error(code: int, detail: str = "") -> OSError:
    """An OSError like the one a write(2) or syscall would raise."""
    message = os.strerror(code)
    return OSError(code, f"{message}{': ' + detail if detail else ''}")


def kstrtobool(text: str) -> bool:
    """lib/kstrtox.c: y/Y/t/T/1 and n/N/f/F/0 by first character, on/off; else -EINVAL."""
    s = text.strip("\n")
    if not s:
        raise kernel_error(errno.EINVAL)
    first = s[0]
    if first in "yYtT1":
        return True
    if first in "nNfF0":
        return False
    if first in "oO" and len(s) > 1:
        if s[1] in "nN":
            return True
        if s[1] in "fF":
            return False
    raise kernel_error(errno.EINVAL)


def symbol_table(
    extra: Counter[tuple[str, str]], modules: Iterable[str], tasks: Iterable[SimTask]
) -> Counter[tuple[str, str]]:
    """/proc/kallsyms: (object, name) -> how many symbols have that name."""
    loaded = set(modules)
    table: Counter[tuple[str, str]] = Counter(extra)
    for name in VMLINUX_SYMBOLS:
        table[("vmlinux", name)] = 1
    for module in loaded:
        for name in MODULE_SYMBOLS.get(module, ()):
            table[(module, name)] += 1
    for task in tasks:  # whatever a stack shows exists
        for func, mod in task.stack:
            if mod is None or mod in loaded:
                table[(mod or "vmlinux", func)] = max(table[(mod or "vmlinux", func)], 1)
    return table


def unresolved_target(spec: PatchSpec, table: Counter[tuple[str, str]], modules: Mapping) -> str | None:
    """klp_find_object_symbol() (kernel/livepatch/core.c) for the objects present now: its log line
    for the first target that does not resolve to exactly one symbol."""
    for obj in spec.objects:
        if obj.name != "vmlinux" and obj.name not in modules:
            continue  # resolved when that module loads
        for fn in obj.functions:
            n, pos = table[(obj.name, fn.name)], fn.wanted_sympos
            if n == 0:
                return f"symbol '{fn.name}' not found in symbol table"
            if n > 1 and pos == 0:
                return f"unresolvable ambiguity for symbol '{fn.name}' in object '{obj.name}'"
            if pos > n:
                return f"symbol position {pos} for symbol '{fn.name}' in object '{obj.name}' not found"
    return None


def states_compatible(spec: PatchSpec, installed: Iterable[SimPatch]) -> bool:
    """klp_is_patch_compatible() (kernel/livepatch/state.c), checked in klp_enable_patch() before
    the transition check: every state of every installed patch must be carried by the new patch
    at the same or a higher version; a non-cumulative patch may leave a state out."""
    new = {st.id: st.version for st in spec.states}
    for old in installed:
        for state_id, version in old.states.items():
            if state_id not in new:
                if spec.replace:
                    return False
            elif new[state_id] < version:
                return False
    return True


def vermagic(release: str) -> str:
    """The simulated kernel's VERMAGIC_STRING (include/linux/vermagic.h's shape for x86_64)."""
    return f"{release} SMP preempt mod_unload modversions "


def vermagic_refusal(name: str, magic: str, crcs: bool, release: str) -> str | None:
    """check_modinfo()'s same_magic() and, with CRCs, check_version(): the kernel's log line when the
    module is refused (ENOEXEC), else None. The simulator holds no CRC of another build: a module of
    another release with CRCs disagrees, as the real kernel finds at its first symbol."""
    from lptui.core.kofile.vermagic import same_magic

    own = vermagic(release)
    if not same_magic(magic, own, crcs):
        return f"{name}: version magic '{magic}' should be '{own}'"
    if crcs and magic.split()[0] != release:
        return f"{name}: disagrees about version of symbol module_layout"
    return None
