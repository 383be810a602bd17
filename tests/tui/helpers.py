"""Helpers for the console's tests: an app on a source with frozen clocks, and a settle step."""

from __future__ import annotations

from pathlib import Path

from textual.worker import WorkerFailed

from lptui.core.tree import Tree
from lptui.sim.kernel import SimKernel
from lptui.sim.scenarios import SCENARIOS
from lptui.sim.session import SimSession
from lptui.source import Source, open_source
from lptui.tui.app import LptuiApp

KO = Path(__file__).resolve().parents[1] / "data/ko"
FROZEN_WALL = 1_800_000_000.0


def make_app(source: Source) -> LptuiApp:
    return LptuiApp(
        source, auto_poll=False, watch_modules=False, clock=lambda: 100.0, wall=lambda: FROZEN_WALL
    )


def demo_source(scenario: str) -> Source:
    return open_source(demo=scenario, speed=0)


def sim_source(sim: SimKernel) -> Source:
    session = SimSession(sim, speed=0)
    return Source(Tree(session.root), "test", read_only=False, session=session)


async def settle(pilot, *, failures_ok: bool = False) -> None:
    """Workers done, messages handled, and a full repaint (DataTable sizes columns lazily).
    `failures_ok`: a worker may fail (the test checks what the user is shown instead)."""
    for _ in range(2):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            if not failures_ok:
                raise
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)


__all__ = ["KO", "SCENARIOS", "make_app", "settle", "sim_source"]
