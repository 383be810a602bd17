"""Pilot tests of every action through the keys, with their cancel paths, and read-only modes."""

import os

from textual.widgets import Button, Input

from lptui.core.model import Direction
from lptui.core.tree import Tree
from lptui.sim.kernel import SimKernel
from lptui.sim.rules import PROFILES
from lptui.sim.state import SimTask
from lptui.source import Source
from lptui.tui.screens.confirm import ConfirmScreen, ForceScreen
from lptui.tui.screens.load import LoadScreen
from lptui.tui.status_line import badge_of
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.patch_table import PatchTable
from tests.tui.helpers import KO, make_app, settle, sim_source


async def test_reverse_needs_confirmation_and_cancel_changes_nothing(app_for):
    app = app_for("stuck")
    sim = app.source.session.sim
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused.id == "cancel"
        await pilot.press("n")
        await settle(pilot)
        assert sim.transition.target == 1  # unchanged
        await pilot.press("v")
        await pilot.press("y")
        await settle(pilot)
        assert sim.transition is None or sim.transition.target == 0
        assert app.snapshot.transition is None or app.snapshot.transition.direction is Direction.UNPATCHING
        log_text = "".join(str(line.text) for line in app.screen.query_one(EventLog).lines)
        assert "reversed the patching transition" in log_text  # the audit line, via the kernel log


async def test_force_requires_typing_the_patch_name(app_for):
    app = app_for("stuck")
    sim = app.source.session.sim
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, ForceScreen)
        body = str(screen.query_one(".dialog-body").render())
        assert "consistency guarantee" in body and "xfsaild/dm-0" in body
        button = screen.query_one("#confirm", Button)
        assert button.disabled
        screen.query_one(Input).value = "kpatch_cve_2026"
        await pilot.pause()
        assert button.disabled
        await pilot.press("escape")
        await settle(pilot)
        assert sim.transition is not None and not any("forcing" in r.text for r in sim.log)
        await pilot.press("f")
        app.screen.query_one(Input).value = "kpatch_cve_2026_4242"
        await pilot.pause()
        assert not app.screen.query_one("#confirm", Button).disabled
        await pilot.click("#confirm")
        await settle(pilot)
        assert any("forcing remaining tasks" in r.text for r in sim.log)


async def test_unload_inactive_module(app_for):
    app = app_for("replace")
    sim = app.source.session.sim
    async with app.run_test(size=(110, 36)) as pilot:
        app.source.session.advance(30)  # the cumulative patch completes; old modules stay loaded
        app.poll()
        await settle(pilot)
        table = app.screen.query_one(PatchTable)
        assert "livepatch_nfsd_fix" in table.rows
        table.move_cursor(row=table.get_row_index("livepatch_nfsd_fix"))
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert "livepatch_nfsd_fix" in sim.modules
        await pilot.press("u")
        await pilot.press("y")
        await settle(pilot)
        assert "livepatch_nfsd_fix" not in sim.modules
        assert "livepatch_nfsd_fix" not in table.rows


def fixture_kernel() -> SimKernel:
    sim = SimKernel(release="6.1.0-56-amd64", features=PROFILES["6.1"])
    sim.add_task(SimTask(1, 1, "systemd", stack=[("ep_poll", None)]))
    return sim


async def test_load_picker_inspects_then_loads(monkeypatch):
    source = sim_source(fixture_kernel())
    app = make_app(source)
    monkeypatch.setattr(app, "module_dirs", lambda release: [KO])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        screen = app.screen
        assert isinstance(screen, LoadScreen)
        options = screen.query_one("#modules")
        names = [
            str(options.get_option_at_index(i).id).rsplit("/", 1)[-1] for i in range(options.option_count)
        ]
        assert "lptui_lp_cmdline.ko" in names and "lptui_plain.ko" in names
        # an unfit module: inspection shown, Load disabled
        screen._inspect(str(KO / "lptui_plain.ko"))
        await settle(pilot)
        assert screen.query_one("#confirm", Button).disabled
        assert "not marked as a livepatch" in str(screen.query_one("#inspection").render())
        # cancel loads nothing
        await pilot.press("escape")
        assert "lptui_lp_cmdline" not in source.session.sim.modules
        await pilot.press("l")
        screen = app.screen
        screen._inspect(str(KO / "lptui_lp_cmdline.ko"))
        await settle(pilot)
        assert "cmdline_proc_show" in str(screen.query_one("#inspection").render())
        await pilot.click("#confirm")
        await settle(pilot)
        assert "lptui_lp_cmdline" in source.session.sim.modules
        assert app.snapshot.patch("lptui_lp_cmdline") is not None


async def test_load_error_arrives_as_a_notification(monkeypatch, tmp_path):
    source = sim_source(fixture_kernel())
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.start_action("load x", lambda: source.actions().load(str(tmp_path / "missing.ko")))
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("no such file" in m for m in messages)


async def test_read_only_root_disables_actions(fake):
    fake.patch("lp_fix", transition="1")
    fake.task(5, comm="worker", patch_state="0")
    app = make_app(Source(Tree(fake.root), str(fake.root), read_only=True))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for action in ("load", "revert", "force", "unload"):
            assert app.check_action(action, ()) is None
        await pilot.press("v")
        await pilot.press("f")
        assert not isinstance(app.screen, (ConfirmScreen, ForceScreen))
        assert "read-only" in str(app.screen.query_one("#status-line").render())
        assert app.view.read_only and badge_of(app.view)[0] == "READ-ONLY"


async def test_not_root_on_a_live_kernel(fake, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    app = make_app(Source(Tree(fake.root), "/", read_only=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.check_action("load", ()) is None
        assert "not root" in str(app.screen.query_one("#status-line").render())
        app.action_load()
        await pilot.pause()
        assert not isinstance(app.screen, LoadScreen)


async def test_command_palette_runs_the_same_action(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"reverse the patching")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
