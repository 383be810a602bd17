from __future__ import annotations

from pathlib import Path

import pytest

from lptui.core.tree import Tree
from lptui.sim.kernel import SimKernel
from lptui.sim.scenarios import SCENARIOS
from lptui.sim.session import SimSession
from lptui.tui.app import LptuiApp
from lptui.watch.backend import Backend

KO = Path(__file__).resolve().parents[1] / "data/ko"
FROZEN_WALL = 1_800_000_000.0


def make_app(backend: Backend) -> LptuiApp:
    return LptuiApp(
        backend, auto_poll=False, watch_modules=False, clock=lambda: 100.0, wall=lambda: FROZEN_WALL
    )


def demo_backend(scenario: str) -> Backend:
    return Backend.demo(scenario, speed=0)


def sim_backend(sim: SimKernel) -> Backend:
    session = SimSession(sim, speed=0)
    return Backend(Tree(session.root), session=session, label="test")


@pytest.fixture
def app_for():
    return lambda scenario: make_app(demo_backend(scenario))


async def settle(pilot) -> None:
    """Workers done, messages handled, and a full repaint (DataTable sizes columns lazily)."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)


__all__ = ["KO", "SCENARIOS", "make_app", "settle", "sim_backend"]
