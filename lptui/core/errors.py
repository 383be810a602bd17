"""Kernel errno values turned into plain words, per action, and the error an action raises. The errnos are
the kernel's own: finit_module's (kernel/module/main.c load_module, klp_enable_patch in
kernel/livepatch/core.c), the sysfs stores (enabled_store, force_store, signal_store in
kernel/livepatch/core.c; kpatch's patch_enabled_store) and delete_module's."""

from __future__ import annotations

import errno
import os

from lptui.core.exits import LptuiError


class ActionError(LptuiError):
    """An action that failed or was refused; `errno` is the kernel's, when it refused."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        errno_value: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, code=code, detail=detail)
        self.errno = errno_value


LOAD = {
    errno.EEXIST: "a module with this name is already loaded (an older copy of this patch?): unload it first",
    errno.EBUSY: "the kernel is busy: another patch is in transition, or ftrace could not attach "
    "(kernel.ftrace_enabled=0, or a kprobe with a post handler on a patched function); see the kernel log",
    errno.EINVAL: "the kernel refused it: not marked as a livepatch, incompatible with the installed "
    "livepatches (klp_state), or invalid parameters; see the kernel log",
    errno.ENOEXEC: "not a valid module for this kernel (wrong format or architecture, or the kernel "
    "was built without livepatch support)",
    errno.EPERM: "not permitted: needs CAP_SYS_MODULE, or module loading is disabled "
    "(kernel.modules_disabled, lockdown)",
    errno.EACCES: "permission denied opening or loading the module",
    errno.EKEYREJECTED: "its signature was rejected: not signed by a key the kernel trusts (Secure Boot, "
    "module.sig_enforce)",
    errno.ENOKEY: "it is not signed, or signed with an unknown key, and this kernel requires signed modules",
    errno.EBADMSG: "its signature is malformed",
    errno.ENOENT: "the module needs a symbol this kernel does not have (unknown symbol); see the kernel log",
    errno.ENODEV: "livepatch is not initialised in this kernel",
    errno.ENOMEM: "the kernel is out of memory",
    errno.ENOSPC: "the kernel is out of module space",
    errno.ETXTBSY: "the module file is being written to",
    errno.EFBIG: "the module file is too large",
    errno.ENOSYS: "this kernel does not support finit_module",
}

ENABLED = {
    errno.EINVAL: "the patch is already in that state, or is disabled for good (unload and load it again to "
    "re-enable it)",
    errno.EBUSY: "another patch is in transition: wait for it, or reverse or force that one first",
    errno.ENOENT: "the patch is gone (its unpatching already completed)",
    errno.EPERM: "not permitted: run as root",
    errno.EACCES: "permission denied: run as root",
}

# kpatch core's `enabled` store (kmod/core/core.c kpatch_unregister): EINVAL when not enabled, EBUSY when
# the activeness safety check finds a function it restores on a thread's stack (kpatch retries it too).
KPATCH_ENABLED = {
    errno.EINVAL: "the patch is not enabled",
    errno.EBUSY: "a function it changes is on some thread's stack (kpatch's activeness safety check): try "
    "again in a moment",
    errno.ENOENT: "the patch is gone",
    errno.EPERM: "not permitted: run as root",
    errno.EACCES: "permission denied: run as root",
}

FORCE = {
    errno.EINVAL: "the patch is not in transition: force applies only to the patch in transition",
    errno.ENOENT: "the patch is gone, or this kernel has no force attribute",
    errno.EPERM: "not permitted: run as root",
    errno.EACCES: "permission denied: run as root",
}

SIGNAL = {
    errno.EINVAL: "the patch is not in transition: signal applies only to the patch in transition",
    errno.ENOENT: "the patch is gone, or this kernel has no signal attribute "
    "(5.1 and later signal stragglers by themselves)",
    errno.EPERM: "not permitted: run as root",
    errno.EACCES: "permission denied: run as root",
}

UNLOAD = {
    errno.EWOULDBLOCK: "the module is in use: its patch is still enabled or in transition, another module "
    "depends on it, or the patch was forced (a forced patch's module stays until reboot)",
    errno.EBUSY: "the module is in use",
    errno.ENOENT: "no such module is loaded",
    errno.EPERM: "not permitted: needs CAP_SYS_MODULE, or unloading is disabled",
    errno.EFAULT: "bad module name",
}


# EINVAL from a livepatch load that lptui has already checked (marked livepatch=Y, built for this
# kernel): the causes left are klp_enable_patch()'s (kernel/livepatch/core.c): system states not
# compatible with the installed patches (klp_is_patch_compatible), or a malformed klp_patch
# (klp_init_patch_early: an object without funcs, a function without a name); or the module's own
# init or parameters.
LIVEPATCH_EINVAL = (
    "the kernel refused the patch: its system states (klp_state) are not compatible with the "
    "installed livepatches, its klp_patch structure is malformed, or its own init or parameters "
    "failed"
)


def load_failure(code: int | None, *, checked_livepatch: bool, kernel_said: list[str]) -> str:
    """Why a load failed, in plain words: the kernel's own log lines for the module first (they name
    the real cause), then the errno's causes that are still possible after lptui's own checks."""
    if code == errno.EINVAL and checked_livepatch:
        words = f"{LIVEPATCH_EINVAL} (EINVAL)"
    else:
        words = explain(LOAD, code)
    if kernel_said:
        quoted = " | ".join(kernel_said[-3:])
        return f"the kernel said: {quoted} — {words}"
    return words


def explain(table: dict[int, str], code: int | None) -> str:
    if code is None:
        return "failed"
    words = table.get(code)
    name = errno.errorcode.get(code, str(code))
    if words is None:
        return f"{os.strerror(code)} ({name})"
    return f"{words} ({name})"
