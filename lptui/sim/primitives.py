"""Kernel primitives the simulator shares: `kstrtobool`, errno-carrying errors, transition timings."""

from __future__ import annotations

import errno
import os

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
