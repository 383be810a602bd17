"""The one place that changes kernel state: sysfs writes and module (un)loading.

`LiveControl` talks to the running kernel; the simulator implements the same `Control` protocol
(`lptui.sim.control.SimControl`). Both raise OSError carrying the kernel's errno, so the actions
above them map errors the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from lptui.core.livepatch.kernel import LIVEPATCH_DIR

# (finit_module, delete_module) syscall numbers by machine
_SYSCALLS = {
    "x86_64": (313, 176),
    "aarch64": (273, 106),
    "riscv64": (273, 106),
    "s390x": (344, 129),
    "ppc64le": (353, 106),
}
O_NONBLOCK = os.O_NONBLOCK


class Control(Protocol):
    root: Path
    simulated: bool

    def reading(self) -> AbstractContextManager[object]:
        """Held while reading the kernel's files: the simulated kernel rewrites them, the real one
        needs nothing."""
        ...

    def write_attr(self, patch: str, attr: str, value: str) -> None: ...
    def write_path(self, rel: str, value: str) -> None: ...
    def load_module(self, path: str) -> None: ...
    def unload_module(self, name: str) -> None: ...
    def settle(self, seconds: float) -> None: ...


class LiveControl:
    simulated = False

    def __init__(self, root: str | Path = "/") -> None:
        self.root = Path(root)

    def reading(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()

    def write_attr(self, patch: str, attr: str, value: str) -> None:
        self.write_path(f"{LIVEPATCH_DIR}/{patch}/{attr}", value)

    def write_path(self, rel: str, value: str) -> None:
        """One write to a sysfs attribute under the root (the kpatch core's `enabled`, say)."""
        fd = os.open(self.root / rel, os.O_WRONLY)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def _syscall(self, index: int, *args: object) -> None:
        numbers = _SYSCALLS.get(os.uname().machine)
        if numbers is None:
            raise OSError(errno.ENOSYS, f"unsupported architecture {os.uname().machine}")
        libc = ctypes.CDLL(None, use_errno=True)
        ret = libc.syscall(ctypes.c_long(numbers[index]), *args)
        if ret != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    def load_module(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._syscall(0, ctypes.c_int(fd), ctypes.c_char_p(b""), ctypes.c_int(0))
        finally:
            os.close(fd)

    def unload_module(self, name: str) -> None:
        self._syscall(1, ctypes.c_char_p(name.encode()), ctypes.c_uint(O_NONBLOCK))

    def settle(self, seconds: float) -> None:
        time.sleep(seconds)
