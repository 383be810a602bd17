"""Actions on live patches: load, revert/reverse, force, unload, signal.

Each action: root required (live kernel), one at a time across lptui processes (a lock), checks
the state first so the refusal names the reason, then asks the kernel, maps its errno to plain
words, and records the outcome in the kernel log and syslog (`Audit`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec

from lptui.core import errors, exits
from lptui.core.actions.audit import Audit
from lptui.core.actions.consequences import force_consequences, not_here
from lptui.core.actions.control import Control
from lptui.core.actions.lock import action_lock
from lptui.core.actions.preflight import Inspection, inspect_file
from lptui.core.errors import ActionError
from lptui.core.kofile.modfile import ModuleFileError
from lptui.core.legacy.kpatch_core import patch_dir
from lptui.core.livepatch.kernel import LIVEPATCH_DIR
from lptui.core.livepatch.patches import read_module
from lptui.core.model import Mechanism, PatchInfo, Snapshot, TaskInfo, TransitionInfo
from lptui.core.oncall.facts import read_history
from lptui.core.oncall.history import forced_evidence
from lptui.core.oncall.kmsg import KmsgReader, LogLine
from lptui.core.snapshot import SnapshotReader
from lptui.core.tree import Tree, file_in_root, parse_int

POLL = 0.5

Progress = Callable[[Snapshot, float], None]
P = ParamSpec("P")


class WaitTimeout(ActionError):
    """--wait ran out of time; the system is left as it is."""

    def __init__(self, message: str, pending: tuple[TaskInfo, ...], snapshot: Snapshot) -> None:
        super().__init__(message, code=exits.TIMEOUT)
        self.pending = pending
        self.snapshot = snapshot


def kernel_lines_about(log: KmsgReader, module: str) -> list[str]:
    """The kernel's log lines naming `module`, and every livepatch line, since `log` was opened (a failed
    load's own words: "livepatch: Livepatch patch (x) is not compatible with the already installed
    livepatches.", or "livepatch: failed to register ftrace handler for function 'f' (-16)", which names
    the function, not the module)."""

    def keep(line: LogLine) -> bool:
        return module in line.text or "livepatch: " in line.text

    return [line.text.strip() for line in log.read_new(keep=keep)]


@dataclass(frozen=True)
class Outcome:
    message: str
    snapshot: Snapshot | None = None


def core_transition(snap: Snapshot) -> TransitionInfo | None:
    """The upstream core's transition, if that is the one in progress (kGraft's and a stopped Ksplice
    update are not the core's: they neither block nor can be reversed through it)."""
    t = snap.transition
    return t if t is not None and t.mechanism is Mechanism.LIVEPATCH else None


class Actions:
    def __init__(
        self,
        tree: Tree,
        control: Control,
        audit: Audit,
        *,
        lock_path: Path,
        require_root: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tree = tree
        self.control = control
        self.audit = audit
        self.lock_path = lock_path
        self.require_root = require_root
        self.clock = clock
        self.reader = SnapshotReader(tree)

    # ----- plumbing -----
    def snapshot(self) -> Snapshot:
        with self.control.reading():
            return self.reader.read()

    def _audited(self, what: str, run: Callable[P, Outcome], *args: P.args, **kwargs: P.kwargs) -> Outcome:
        """`run` under the action lock, its outcome or its refusal recorded (`Audit`) after the lock is
        released."""
        try:
            with action_lock(what, self.lock_path, require_root=self.require_root):
                outcome = run(*args, **kwargs)
        except ActionError as exc:
            self.audit.record(f"{what}: failed: {exc}", ok=False)
            raise
        self.audit.record(f"{what}: {outcome.message}", ok=True)
        return outcome

    def _follow(self, name: str, timeout: float, progress: Progress | None) -> Snapshot:
        """Wait until `name` is no longer in transition; WaitTimeout after `timeout` seconds."""
        start = self.clock()
        while True:
            snap = self.snapshot()
            t = core_transition(snap)
            if t is None or t.patch != name:
                return snap
            elapsed = self.clock() - start
            if progress:
                progress(snap, elapsed)
            if elapsed >= timeout:
                raise WaitTimeout(
                    f"patch {name!r} is still {t.direction} after {timeout:g}s: "
                    f"{t.tasks_pending} of {t.tasks_total} tasks pending; left as it is",
                    snap.pending_tasks,
                    snap,
                )
            self.control.settle(POLL)

    # ----- inspect / load -----
    def inspect(self, path: str) -> Inspection:
        path = file_in_root(path, self.control.root)
        try:
            snap = self.snapshot()
            with self.control.reading():
                history, _ = read_history(str(Path(self.control.root) / "dev/kmsg"))
                return inspect_file(path, snap, self.tree, forced_evidence(snap, history))
        except ModuleFileError as exc:
            raise ActionError(str(exc)) from None

    def load(
        self, path: str, *, wait: bool = False, timeout: float = 60.0, progress: Progress | None = None
    ) -> Outcome:
        path = file_in_root(path, self.control.root)
        return self._audited(f"load {path}", self._load, path, wait, timeout, progress)

    def _load(self, path: str, wait: bool, timeout: float, progress: Progress | None) -> Outcome:
        ins = self.inspect(path)
        name = ins.module.name or Path(path).name
        if not ins.loadable:
            raise ActionError(f"refusing to load {name}: " + "; ".join(ins.errors))
        log = KmsgReader(str(Path(self.control.root) / "dev/kmsg"))
        log.skip_to_end()
        try:
            self.control.load_module(path)
        except ModuleFileError as exc:
            raise ActionError(str(exc)) from None
        except OSError as exc:
            said = kernel_lines_about(log, name)
            why = errors.load_failure(exc.errno, checked_livepatch=ins.module.is_livepatch, kernel_said=said)
            from lptui.core.livepatch.ftrace import ebusy_cause

            cause = ebusy_cause(said, self.tree)
            why += f"; {cause}" if cause else ""
            raise ActionError(f"loading {name} failed: {why}", errno_value=exc.errno) from None
        finally:
            log.close()
        snap = self.snapshot()
        if ins.module.is_livepatch and wait:
            snap = self._follow(name, timeout, progress)
            return Outcome(f"loaded patch {name!r}; transition complete", snap)
        state = "in transition" if snap.transition and snap.transition.patch == name else "applied"
        return Outcome(f"loaded patch {name!r} from {path} ({state})", snap)

    # ----- revert / reverse -----
    def revert(
        self,
        name: str,
        *,
        wait: bool = False,
        unload: bool = False,
        timeout: float = 60.0,
        progress: Progress | None = None,
    ) -> Outcome:
        return self._audited(f"revert {name}", self._revert, name, wait, unload, timeout, progress)

    def _revert(
        self, name: str, wait: bool, unload: bool, timeout: float, progress: Progress | None
    ) -> Outcome:
        snap = self.snapshot()
        patch = snap.patch(name)
        if patch is None:
            if any(m.name == name for m in snap.inactive_modules):
                raise ActionError(
                    f"patch {name!r} is already disabled; its module is still loaded "
                    f"(`lptui unload {name}` removes it)"
                )
            names = ", ".join(p.name for p in snap.patches) or "none"
            raise ActionError(f"no patch named {name!r} (loaded patches: {names})")
        if patch.mechanism is Mechanism.KPATCH_CORE:
            return self._kpatch_disable(patch, unload=unload)
        if patch.mechanism is not Mechanism.LIVEPATCH:
            raise not_here(patch, "revert")
        t = core_transition(snap)
        if t is not None and t.patch == name:
            new = "0" if t.target == 1 else "1"
            verb = f"reversed the {t.direction} transition of {name!r}"
        elif t is not None:
            raise ActionError(
                f"patch {t.patch!r} is in transition ({t.direction}): the kernel allows one "
                "transition at a time; wait for it, or reverse or force it first"
            )
        elif not patch.enabled:
            raise ActionError(f"patch {name!r} is already disabled")
        else:
            new, verb = "0", f"disabled patch {name!r}"
        try:
            self.control.write_attr(name, "enabled", new)
        except OSError as exc:
            why = errors.explain(errors.ENABLED, exc.errno)
            message = f"{verb.split()[0]} {name!r} failed: {why}"
            raise ActionError(message, errno_value=exc.errno) from None
        after = self.snapshot()
        if wait or unload:
            after = self._follow(name, timeout, progress)
            verb += "; transition complete"
        if unload:
            if after.patch(name) is not None:
                raise ActionError(
                    f"{verb}, but patch {name!r} is enabled again (a reversal re-applied it); not unloading"
                )
            self._unload_now(name)
            verb += f"; module {name!r} unloaded"
        return Outcome(verb, after)

    def _kpatch_disable(self, patch: PatchInfo, *, unload: bool) -> Outcome:
        """kpatch core: `enabled` 0 runs kpatch_unregister (kmod/patch/kpatch-patch-hook.c
        patch_enabled_store), all at once under stop_machine; EBUSY when a patched function is in use."""
        name = patch.name
        if patch.enabled is False:
            if not unload:
                raise ActionError(f"kpatch patch {name!r} is already disabled")
        else:
            try:
                self.control.write_path(f"{patch_dir(patch)}/enabled", "0")
            except OSError as exc:
                why = errors.explain(errors.KPATCH_ENABLED, exc.errno)
                raise ActionError(
                    f"disabling kpatch patch {name!r} failed: {why}", errno_value=exc.errno
                ) from None
        verb = f"disabled kpatch patch {name!r}"
        if unload:
            self._unload_now(patch.module.name)
            verb += f"; module {patch.module.name!r} unloaded"
        return Outcome(verb, self.snapshot())

    # ----- force -----
    def force(self, name: str, *, yes: bool) -> Outcome:
        return self._audited(f"force {name}", self._force, name, yes)

    def _force(self, name: str, yes: bool) -> Outcome:
        snap = self.snapshot()
        self._core_only(snap, name, "force")
        t = core_transition(snap)
        if t is None or t.patch != name:
            where = f" ({t.patch!r} is)" if t else " (no transition is in progress)"
            raise ActionError(
                f"patch {name!r} is not in transition{where}: force applies only to the patch in transition"
            )
        if not yes:
            raise ActionError(
                f"refusing to force {name!r} without --yes.", detail=force_consequences(snap, name)
            )
        pending = ", ".join(f"{p.comm}({p.pid})" for p in snap.pending_tasks) or "none visible"
        try:
            self.control.write_attr(name, "force", "1")
        except OSError as exc:
            raise ActionError(
                f"force {name!r} failed: {errors.explain(errors.FORCE, exc.errno)}", errno_value=exc.errno
            ) from None
        after = self._follow(name, 10.0, None)
        return Outcome(f"forced the {t.direction} transition of {name!r} (pending were: {pending})", after)

    @staticmethod
    def _core_only(snap: Snapshot, name: str, what: str) -> None:
        patch = snap.patch(name)
        if patch is None or patch.mechanism is Mechanism.LIVEPATCH:
            return
        if patch.mechanism is Mechanism.KPATCH_CORE:
            raise ActionError(
                f"{name!r} is a kpatch core patch: it has no transition to {what} (the kpatch core "
                "switches every function at once under stop_machine, or fails with EBUSY)"
            )
        raise not_here(patch, what)

    # ----- unload -----
    def _refcnt(self, name: str) -> int | None:
        with self.control.reading():
            return parse_int(self.tree.read(f"sys/module/{name}/refcnt")).value

    def _unload_now(self, name: str) -> None:
        deadline = self.clock() + 5.0  # module_put after unpatching is asynchronous
        while (self._refcnt(name) or 0) > 0 and self.clock() < deadline:
            self.control.settle(0.1)
        refcnt = self._refcnt(name)
        if refcnt:
            with self.control.reading():
                holders = self.tree.listdir(f"sys/module/{name}/holders")
            if holders:
                raise ActionError(f"module {name!r} is in use by {', '.join(holders)}")
            raise ActionError(
                f"module {name!r} keeps a reference (refcnt {refcnt}) with its patch gone: the patch was "
                "forced while being removed, so the module cannot be unloaded until reboot"
            )
        try:
            self.control.unload_module(name)
        except OSError as exc:
            raise ActionError(
                f"unloading {name!r} failed: {errors.explain(errors.UNLOAD, exc.errno)}",
                errno_value=exc.errno,
            ) from None

    def unload(self, name: str) -> Outcome:
        return self._audited(f"unload {name}", self._unload, name)

    def _unload(self, name: str) -> Outcome:
        snap = self.snapshot()
        patch = snap.patch(name)
        if patch is not None and patch.mechanism is Mechanism.KPATCH_CORE:
            if patch.enabled is not False:
                raise ActionError(
                    f"kpatch patch {name!r} is still enabled: `lptui revert {name} --unload` disables "
                    "and unloads it"
                )
            self._unload_now(patch.module.name)
            return Outcome(f"unloaded module {patch.module.name!r}", self.snapshot())
        if patch is not None and patch.mechanism is not Mechanism.LIVEPATCH:
            raise not_here(patch, "unload")
        if patch is not None:
            if patch.transition:
                raise ActionError(f"patch {name!r} is in transition: wait for it, reverse it, or force it")
            raise ActionError(
                f"patch {name!r} is still enabled: `lptui revert {name} --unload` disables and unloads it"
            )
        module = read_module(self.tree, name)
        if not module.loaded:
            raise ActionError(f"no module named {name!r} is loaded")
        if not module.is_livepatch:
            raise ActionError(
                f"module {name!r} is not a livepatch module; lptui only unloads livepatch modules (use rmmod)"
            )
        self._unload_now(name)
        return Outcome(f"unloaded module {name!r}", self.snapshot())

    # ----- signal (4.15-5.0) -----
    def signal(self, name: str) -> Outcome:
        return self._audited(f"signal {name}", self._signal, name)

    def _signal(self, name: str) -> Outcome:
        snap = self.snapshot()
        if snap.patch(name) is None:
            raise ActionError(f"no patch named {name!r}")
        self._core_only(snap, name, "signal")
        with self.control.reading():
            has_signal = self.tree.exists(f"{LIVEPATCH_DIR}/{name}/signal")
        if not has_signal:
            raise ActionError(
                "this kernel has no signal attribute: since 5.1 the kernel sends a fake "
                "signal to the remaining tasks by itself every 15 seconds"
            )
        t = core_transition(snap)
        if t is None or t.patch != name:
            raise ActionError(
                f"patch {name!r} is not in transition: signal applies only to the patch in transition"
            )
        try:
            self.control.write_attr(name, "signal", "1")
        except OSError as exc:
            raise ActionError(
                f"signal {name!r} failed: {errors.explain(errors.SIGNAL, exc.errno)}",
                errno_value=exc.errno,
            ) from None
        return Outcome(f"signalled the tasks still pending for {name!r}", self.snapshot())
