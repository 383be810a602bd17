"""A simulated kernel rendered into a temporary root, with an optional real-time clock."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from lptui.sim.kernel import SimKernel
from lptui.sim.render import Renderer
from lptui.sim.scenarios import SCENARIOS


class UnknownScenario(ValueError):
    pass


class SimSession:
    """Owns a SimKernel and the directory it is rendered into.

    `sync()` advances simulated time by the wall-clock time since the last sync times `speed`
    (tests pass `speed=0` and call `advance()` themselves).

    `lock` is the simulated kernel's one lock: every read of the rendered tree, every advance,
    render and action takes it, so no thread reads files another is rewriting.
    """

    def __init__(
        self,
        sim: SimKernel,
        root: Path | None = None,
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sim = sim
        self._own_root = root is None
        self.root = (
            Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="lptui-sim-", dir=_scratch()))
        )
        # removed at close(), or when the session is collected or Python exits without a close (tests,
        # an exception): a demo never leaves its tree behind in /dev/shm
        self._remove = weakref.finalize(self, _rmtree, self.root) if self._own_root else None
        self.renderer = Renderer(sim, self.root)
        self.speed = speed
        self._clock = clock
        self._last = clock()
        self.lock = threading.RLock()
        self.renderer.render()

    @classmethod
    def from_scenario(cls, name: str, root: Path | None = None, **kw) -> SimSession:
        scenario = SCENARIOS.get(name)
        if scenario is None:
            raise UnknownScenario(f"unknown demo scenario {name!r} (choose from: {', '.join(SCENARIOS)})")
        return cls(scenario.build(), root, **kw)

    def sync(self) -> None:
        with self.lock:
            now = self._clock()
            elapsed, self._last = now - self._last, now
            if self.speed and elapsed > 0:
                self.sim.advance(elapsed * self.speed)
            self.renderer.render()

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.sim.advance(seconds)
            self.renderer.render()

    def settle(self, seconds: float) -> None:
        """Let `seconds` of kernel time pass for an action that waits: in real time when the
        session runs on the clock (a poll elsewhere may sync meanwhile), at once when it does not."""
        if self.speed:
            time.sleep(seconds / self.speed)
            self.sync()
        else:
            self.advance(seconds)

    def render(self) -> None:
        with self.lock:
            self.renderer.render()

    def close(self) -> None:
        if self._remove is not None:
            self._remove()

    def __enter__(self) -> SimSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scratch() -> str | None:
    """tmpfs when there is one: the demo tree is hundreds of small files, rewritten often."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _rmtree(root: Path) -> None:
    # Unreadable-stack directories are mode 000; make them removable first.
    for path in root.rglob("stack"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)
