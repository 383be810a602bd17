"""Where lptui reads the kernel from, and whether and how it may write: the one way to open a source.

Three kinds, one shape: the live kernel (`/`, actions through `LiveControl` under the system-wide
lock), a saved tree (`--root DIR`, read-only) and a simulated kernel (`--demo SCENARIO`, actions
through the simulator under the session's lock). The CLI, the console's poller and the tests all
open sources here. No Textual, no Rich.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from lptui.core.exits import LptuiError
from lptui.core.model import Mechanism
from lptui.core.tree import Tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.actions.actions import Actions
    from lptui.core.actions.preflight import Inspection
    from lptui.core.actions.verdict_window import WindowResult
    from lptui.core.lifecycle.provenance import LifeCycle
    from lptui.core.model import Snapshot
    from lptui.core.oncall.facts import OnCall
    from lptui.core.oncall.history import KernelClock
    from lptui.sim.session import SimSession


class SourceError(LptuiError):
    """A one-line, user-facing problem with --root or --demo."""


@dataclass
class Source:
    tree: Tree
    label: str
    read_only: bool
    session: SimSession | None = None
    _actions: Actions | None = field(default=None, repr=False)
    _cleanup: Path | None = field(default=None, repr=False)  # an unpacked capture bundle

    @property
    def simulated(self) -> bool:
        return self.session is not None

    def reading(self) -> AbstractContextManager[object]:
        """Hold while reading the tree: the simulated kernel's lock (its files are rewritten by
        advances and actions from other threads); nothing for a real or saved tree."""
        return self.session.lock if self.session is not None else contextlib.nullcontext()

    def sync(self) -> None:
        """Bring a real-time simulated kernel up to now (a no-op elsewhere)."""
        if self.session is not None:
            self.session.sync()

    @property
    def kmsg_path(self) -> str | None:
        """The kernel log: /dev/kmsg, the demo's rendered log, or a saved tree's `dev/kmsg` file (a
        capture holds one); None when a saved tree has none."""
        if self.session is not None:
            return str(self.session.root / "dev/kmsg")
        if self.read_only:
            saved = self.tree.root / "dev/kmsg"
            return str(saved) if saved.is_file() else None
        return "/dev/kmsg"

    def on_call(
        self, snap: Snapshot, wall_now: float, observed_since: float | None = None, *, in_effect: bool = True
    ) -> OnCall:
        """The snapshot's on-call facts (real transition age, forced this boot, post-load health) from this
        source's log; with `in_effect`, whether the settled patches are in effect (ftrace's table)."""
        from lptui.core.oncall.facts import on_call, read_history

        with self.reading():
            history, problem = read_history(self.kmsg_path)
            clock = self.kernel_clock()
            effect = None
            if in_effect:
                from lptui.core.livepatch.effect import read_effect

                effect = read_effect(snap, self.tree)
        return on_call(
            snap, history, clock, wall_now, observed_since=observed_since, log_problem=problem, effect=effect
        )

    def kernel_clock(self) -> KernelClock:
        """The kernel's clocks now: this host's (live), the simulator's, a capture's own at capture time,
        or a saved tree's /proc/uptime (said so)."""
        from lptui.core.oncall.history import KernelClock, live_clock, tree_clock

        if self.session is not None:
            return KernelClock(self.session.sim.now, self.session.sim.now, "the simulated kernel's clock")
        if not self.read_only:
            return live_clock()
        meta = getattr(self.tree, "meta", None) or {}
        if isinstance(meta.get("monotonic"), int | float):  # checked by check_manifest
            boot = meta.get("boottime", meta["monotonic"])
            return KernelClock(float(meta["monotonic"]), float(boot), "the capture's CLOCK_MONOTONIC")
        return tree_clock(self.tree)

    def wall_now(self) -> float:
        """Now, for this source: a capture's own capture time (its uptime and log stop there)."""
        meta = getattr(self.tree, "meta", None)  # checked: a finite time from 1970 to 2100 (check_manifest)
        if meta and isinstance(meta.get("captured_at_unix"), int | float):
            return float(meta["captured_at_unix"])
        return time.time()

    @property
    def why_read_only(self) -> str | None:
        if self.read_only:
            return f"reading a saved tree ({self.label}): read-only"
        if self.session is None and os.geteuid() != 0:
            return "not root: actions are disabled and per-task state is hidden (run with sudo)"
        return None

    @property
    def can_act(self) -> bool:
        return self.why_read_only is None

    def boot_wall(self, wall_now: float) -> float | None:
        """Wall-clock time of boot on the kernel log's clock, to turn its timestamps into times of day."""
        monotonic = self.kernel_clock().monotonic
        return None if monotonic is None else wall_now - monotonic

    def inspect(self, path: str, life: LifeCycle | None = None) -> Inspection:
        """A module file against this kernel, without loading it (any source, read-only ones too).
        `life`: the patches' life cycle the caller already holds (the console's View)."""
        from lptui.core.actions.preflight import inspect_file
        from lptui.core.errors import ActionError
        from lptui.core.kofile.modfile import ModuleFileError
        from lptui.core.oncall.facts import read_history
        from lptui.core.oncall.history import forced_evidence
        from lptui.core.snapshot import read_snapshot
        from lptui.core.tree import file_in_root

        if self.session is not None:
            path = file_in_root(path, self.session.root)
        try:
            with self.reading():
                snap = read_snapshot(self.tree)
                history, _ = read_history(self.kmsg_path)
                return inspect_file(path, snap, self.tree, forced_evidence(snap, history), life)
        except ModuleFileError as exc:
            raise ActionError(str(exc)) from None

    def verdict_window(self, seconds: float, max_pending: int) -> WindowResult:
        """`lptui verdicts` and the console's k: klp_try_switch_task's debug lines on for `seconds`, gated,
        audited and every flag restored (lptui/core/actions/verdict_window.py); on a demo, the simulated
        kernel's dynamic debug, on its own clock."""
        from lptui.core.actions.verdict_window import check_gates, control_writer, run_window
        from lptui.core.errors import ActionError
        from lptui.core.snapshot import read_snapshot

        if self.read_only:
            raise ActionError("verdicts turns on the kernel's dynamic debug: run it on the live kernel")
        if self.session is None and os.geteuid() != 0:
            raise ActionError("verdicts writes /proc/dynamic_debug/control: run it as root")
        with self.reading():
            self.sync()
            snap = read_snapshot(self.tree)
            t = snap.transition
            if t is not None and t.mechanism is not Mechanism.LIVEPATCH:
                raise ActionError(f"verdicts: only the upstream core prints them (this is {t.mechanism})")
            gate = check_gates(
                self.tree, t.tasks_pending if t else None, t is not None, max_pending=max_pending
            )
        audit = self.actions().audit
        audit.record(f"verdicts: klp_try_switch_task debug on for {seconds:g} s", ok=True)
        kmsg = self.kmsg_path or "/dev/kmsg"
        if self.session is None:
            result = run_window(gate, seconds, kmsg, control_writer("/"))
        else:
            session = self.session

            def write(query: str) -> None:
                with session.lock:
                    session.sim.write_dyndbg(query)
                    session.render()

            record = str(session.root / "run/lptui/dyndbg-restore.json")

            def sim_clock() -> float:  # the window runs on the simulated kernel's own time
                return session.sim.now

            result = run_window(
                gate, seconds, kmsg, write, record=record, sleep=session.settle, clock=sim_clock, timer=False
            )
        audit.record(
            f"verdicts: {result.lines} line(s) in {result.seconds:.1f} s; "
            f"{result.restored} call site(s) restored",
            ok=True,
        )
        return result

    def actions(self) -> Actions:
        """The actions on this source, with the right control, audit and lock (built once)."""
        from lptui.core.errors import ActionError  # the actions' own error: not loaded by read-only commands

        if self.read_only:
            raise ActionError(
                f"--root {self.tree.root} is read-only: actions need the live kernel (or --demo)"
            )
        if self._actions is None:
            from lptui.core.actions.actions import Actions
            from lptui.core.actions.audit import Audit
            from lptui.core.actions.lock import LIVE_LOCK

            if self.session is not None:
                from lptui.sim.control import SimControl

                session = self.session

                def echo(line: str, ok: bool) -> None:
                    with session.lock:  # the simulated kernel log is the session's too
                        session.sim.user_log(line, ok)

                audit = Audit(kmsg=None, use_syslog=False, echo=echo)
                self._actions = Actions(
                    self.tree,
                    SimControl(session),
                    audit,
                    lock_path=session.root / "lptui.lock",
                    require_root=False,
                )
            else:
                from lptui.core.actions.control import LiveControl

                self._actions = Actions(self.tree, LiveControl(self.tree.root), Audit(), lock_path=LIVE_LOCK)
        return self._actions

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if self._cleanup is not None:
            from lptui.core.oncall.bundle import remove

            remove(self._cleanup)
            self._cleanup = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(root: str | None = None, demo: str | None = None, *, speed: float = 0.0) -> Source:
    """The live kernel (neither given), a saved tree or a demo scenario; SourceError says why not.

    `speed` runs a demo on the clock (the console: 1.0); commands read it frozen (0)."""
    if root is not None and demo is not None:
        raise SourceError("--root and --demo cannot be used together")
    if demo is not None:
        from lptui.sim.session import SimSession, UnknownScenario

        try:
            session = SimSession.from_scenario(demo, speed=speed)
        except UnknownScenario as exc:
            raise SourceError(str(exc)) from None
        return Source(Tree(session.root), f"demo:{demo}", read_only=False, session=session)
    if root is None:
        return Source(Tree("/"), "/", read_only=False)
    path = Path(root)
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):  # a capture: replay a private copy
        from lptui.core.oncall.bundle import extract_bundle
        from lptui.core.oncall.capture import CaptureError, ReplayTree

        try:
            unpacked = extract_bundle(path)
        except CaptureError as exc:
            raise SourceError(f"--root {exc}") from None
        try:
            return Source(ReplayTree(unpacked), str(path), read_only=True, _cleanup=unpacked)
        except CaptureError as exc:  # checked by the survey already: the file changed since
            from lptui.core.oncall.bundle import remove

            remove(unpacked)
            raise SourceError(f"--root {path}: {exc}") from None
    if not path.exists():
        raise SourceError(f"--root {root}: no such directory")
    if not path.is_dir():
        raise SourceError(f"--root {root}: not a directory (nor a capture bundle: .tar.gz)")
    if not (path / "proc").is_dir() and not (path / "sys").is_dir():
        raise SourceError(
            f"--root {root}: holds neither proc/ nor sys/ (expected a copy of a kernel's / tree)"
        )
    # A saved tree is read-only even when it is the real root under another name: writes to a
    # copy would change nothing, and writes through a path the user gave as "saved" must not happen.
    if (path / "lptui-capture.json").is_file():  # an unpacked capture (core/capture.py META)
        from lptui.core.oncall.capture import CaptureError, ReplayTree

        try:
            return Source(ReplayTree(path), str(path), read_only=True)
        except CaptureError as exc:
            raise SourceError(f"--root {root}: {exc}") from None
    tree = Tree(path)
    return Source(tree, str(path), read_only=True)


@contextlib.contextmanager
def opened(root: str | None = None, demo: str | None = None, *, speed: float = 0.0) -> Iterator[Source]:
    source = open_source(root, demo, speed=speed)
    try:
        yield source
    finally:
        source.close()
