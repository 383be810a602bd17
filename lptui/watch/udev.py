"""Module add/remove events from the kernel's netlink socket (pyudev), to refresh at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    import pyudev


class ModuleEvents:
    """Calls `on_event(action, name)` from a background thread; `start()` says why it could not start."""

    def __init__(self, on_event: Callable[[str, str], object]) -> None:
        self.on_event = on_event
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._monitor: pyudev.Monitor | None = None

    def start(self) -> str | None:
        try:
            import pyudev

            context = pyudev.Context()
            # "kernel" works without udevd (e.g. in a minimal VM); udevd re-broadcasts on "udev".
            monitor = pyudev.Monitor.from_netlink(context, source="kernel")
            monitor.filter_by(subsystem="module")
            monitor.start()
        except Exception as exc:  # no netlink permission, no libudev: fall back to polling
            return f"module events unavailable ({type(exc).__name__}: {exc}); polling only"
        self._monitor = monitor
        self._thread = threading.Thread(target=self._run, name="lptui-udev", daemon=True)
        self._thread.start()
        return None

    def _run(self) -> None:
        monitor = self._monitor
        assert monitor is not None  # `start` sets it before the thread runs
        while not self._stop.is_set():
            device = monitor.poll(timeout=0.5)
            if device is None:
                continue
            name = (device.device_path or "").rsplit("/", 1)[-1]
            self.on_event(device.action or "change", name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
