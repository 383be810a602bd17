"""The simulated kernel behind the core's `Control` protocol (lptui.core.actions.control): writes and module
loads answer with the errno the real kernel gives."""

from __future__ import annotations

import errno
from pathlib import Path

from lptui.core.kofile.klpelf import plan_patch
from lptui.core.kofile.modfile import open_module
from lptui.core.kofile.vermagic import has_crcs
from lptui.sim.state import PatchSpec


class SimControl:
    """Actions against a `SimSession`: the simulated kernel answers with the real kernel's errno."""

    simulated = True

    def __init__(self, session) -> None:
        self.session = session
        self.root = session.root

    def reading(self):
        """The session's one lock: no render (by a poll, an advance or another action) meanwhile."""
        return self.session.lock

    def write_attr(self, patch: str, attr: str, value: str) -> None:
        sim = self.session.sim
        writer = {"enabled": sim.write_enabled, "force": sim.write_force, "signal": sim.write_signal}.get(
            attr
        )
        if writer is None:
            raise OSError(errno.EACCES, f"{attr} is not writable")
        with self.session.lock:
            try:
                writer(patch, value)
            finally:
                self.session.render()

    def write_path(self, rel: str, value: str) -> None:
        """Writes to the older systems' attributes: only the kpatch core's `enabled` is writable."""
        sim = self.session.sim
        parts = rel.split("/")
        if rel.startswith("sys/kernel/kpatch/") and parts[-1] == "enabled" and sim.kpatch_core is not None:
            with self.session.lock:
                try:
                    sim.kpatch_write_enabled(parts[-2], value)
                finally:
                    self.session.render()
            return
        raise OSError(errno.EACCES, f"{rel} is not writable")

    def load_module(self, path: str) -> None:
        """finit_module of a real module file: the patch it declares, as inspect reads it."""
        mod = open_module(path)
        name = mod.name or Path(path).name.split(".")[0].replace("-", "_")
        spec = None
        if mod.is_livepatch:
            plan = plan_patch(mod)
            spec = PatchSpec(
                name,
                plan.objects,
                replace=bool(plan.replace),
                srcversion=mod.info("srcversion") or "",
                states=plan.states or (),
            )
        taint = "" if mod.info("intree") == "Y" else "O"
        taint += "" if mod.signed else "E"
        with self.session.lock:
            try:
                magic = mod.info("vermagic") or ""
                self.session.sim.load_module(
                    name,
                    patch=spec,
                    livepatch=mod.is_livepatch,
                    taint=taint,
                    vermagic=magic,
                    crcs=has_crcs(mod),
                )
            finally:
                self.session.render()

    def unload_module(self, name: str) -> None:
        with self.session.lock:
            try:
                self.session.sim.unload_module(name)
            finally:
                self.session.render()

    def settle(self, seconds: float) -> None:
        self.session.settle(seconds)
