"""Snapshot tests: the dashboard in each demo scenario, at 80x24, and every modal and drill-down.

Deterministic: the simulated kernel does not advance (speed 0), the clocks are frozen, no timer
re-arms polling. Update with `pytest tests/tui/test_snapshots.py --snapshot-update` after looking
at snapshot_report.html.
"""

from __future__ import annotations

import os

import pytest

from tests.tui.helpers import KO, demo_source, make_app, settle


def app(scenario: str):
    return make_app(demo_source(scenario))


async def ready(pilot) -> None:
    await settle(pilot)


def after(*keys: str):
    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("scenario", ["idle", "stuck", "replace", "unpatch"])
def test_dashboard(snap_compare, scenario):
    assert snap_compare(app(scenario), terminal_size=(110, 36), run_before=ready)


def test_dashboard_80x24(snap_compare):
    assert snap_compare(app("stuck"), terminal_size=(80, 24), run_before=ready)


def test_task_screen(snap_compare):
    async def run(pilot) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#pending").focus()
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app("stuck"), terminal_size=(110, 36), run_before=run)


def test_patch_screen(snap_compare):
    async def run(pilot) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#patches").focus()
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app("stuck"), terminal_size=(110, 36), run_before=run)


def test_revert_confirm_modal(snap_compare):
    assert snap_compare(app("stuck"), terminal_size=(110, 36), run_before=after("v"))


def test_force_modal(snap_compare):
    async def run(pilot) -> None:
        await after("f")(pilot)
        from textual.widgets import Input

        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor makes the capture time-dependent
        await settle(pilot)

    assert snap_compare(app("stuck"), terminal_size=(110, 36), run_before=run)


def test_help_modal(snap_compare):
    assert snap_compare(app("idle"), terminal_size=(110, 36), run_before=after("question_mark"))


def test_load_modal(snap_compare, monkeypatch):
    monkeypatch.chdir(KO)
    app = make_app(demo_source("idle"))
    monkeypatch.setattr(app, "module_dirs", lambda release: [type(KO)(".")])

    async def run(pilot) -> None:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        pilot.app.screen._inspect("lptui_lp_replace.ko")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 40), run_before=run)


def test_no_color(snap_compare, monkeypatch):
    monkeypatch.setitem(os.environ, "NO_COLOR", "1")
    assert snap_compare(app("stuck"), terminal_size=(110, 36), run_before=ready)
