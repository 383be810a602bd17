"""Everything the console needs from the kernel, behind one lock, with no UI code.

The app's worker threads call `poll()` and the actions; the lock keeps the simulated kernel
(advanced in real time on each poll) and the task scanner from being used by two threads at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lptui.core.actions import LIVE_LOCK, Actions
from lptui.core.audit import Audit
from lptui.core.control import LiveControl
from lptui.core.kmsg import KmsgReader, LogLine
from lptui.core.model import Snapshot, TaskInfo
from lptui.core.snapshot import SnapshotReader, read_all_tasks_of
from lptui.core.tree import Tree
from lptui.sim.control import SimControl
from lptui.sim.session import SimSession

FAST_INTERVAL = 0.5  # while a transition runs
SLOW_INTERVAL = 3.0  # idle: module events wake us anyway


@dataclass
class Backend:
    tree: Tree
    session: SimSession | None = None
    read_only: bool = False
    label: str = "/"
    lock: threading.RLock = field(default_factory=threading.RLock)
    audit: Audit = field(default_factory=Audit)

    def __post_init__(self) -> None:
        self.reader = SnapshotReader(self.tree)
        kmsg = str(self.tree.root / "dev/kmsg") if self.session is not None else "/dev/kmsg"
        self.kmsg = KmsgReader(kmsg) if not self.read_only else None
        self.actions: Actions | None = None
        if self.session is not None:
            self.audit = Audit(kmsg=None, use_syslog=False, echo=self.session.sim.user_log)
            lock = self.session.root / "lptui.lock"
            control = SimControl(self.session)
            self.actions = Actions(self.tree, control, self.audit, lock_path=lock, require_root=False)
        elif not self.read_only:
            self.actions = Actions(self.tree, LiveControl(self.tree.root), self.audit, lock_path=LIVE_LOCK)

    @classmethod
    def demo(cls, scenario: str, speed: float = 1.0) -> Backend:
        session = SimSession.from_scenario(scenario, speed=speed)
        return cls(Tree(session.root), session=session, label=f"demo:{scenario}")

    @property
    def can_act(self) -> bool:
        return self.actions is not None and (self.session is not None or os.geteuid() == 0)

    @property
    def why_read_only(self) -> str | None:
        if self.read_only:
            return f"reading a saved tree ({self.label}): read-only"
        if self.session is None and os.geteuid() != 0:
            return "not root: actions are disabled and per-task state is hidden (run with sudo)"
        return None

    def poll(self) -> tuple[Snapshot, list[LogLine]]:
        with self.lock:
            if self.session is not None:
                self.session.sync()
            snap = self.reader.read()
            lines = self.kmsg.read_new() if self.kmsg else []
            return snap, lines

    def boot_wall(self, wall_now: float) -> float | None:
        """Wall-clock time of boot, to turn kernel-log timestamps into times of day."""
        if self.session is not None:
            return wall_now - self.session.sim.now
        read = self.tree.read("proc/uptime")
        try:
            return wall_now - float((read.text or "").split()[0])
        except (IndexError, ValueError):
            return None

    def all_tasks(self, snap: Snapshot) -> tuple[TaskInfo, ...]:
        with self.lock:
            return read_all_tasks_of(self.tree, snap)

    def module_dirs(self, release: str | None) -> list[Path]:
        """Where patch modules usually live, then the current directory."""
        dirs = []
        if release:
            for base in ("var/lib/kpatch", "usr/lib/kpatch"):
                dirs.append(Path("/") / base / release)
            dirs.append(Path("/lib/modules") / release / "livepatch")
        dirs.append(Path.cwd())
        return dirs

    def close(self) -> None:
        if self.kmsg:
            self.kmsg.close()
        if self.session is not None:
            self.session.close()
