"""What a newcomer meets in the console: 80x24 shows the blockers' function and reason, dimmed
actions say why when pressed, the all-threads view sorts by number and shows unknowns as `?`,
the force dialog starts empty, and help says how to close it."""

import os

from lptui.core.model import Reason, TaskInfo
from lptui.core.tree import Tree
from lptui.source import Source
from lptui.tui.screens.all_tasks import AllTasksScreen
from lptui.tui.screens.confirm import ForceScreen
from lptui.tui.screens.help import HelpScreen
from lptui.tui.widgets.patch_table import PatchTable
from lptui.tui.widgets.pending_table import PendingTable
from tests.tui.helpers import make_app, settle


async def test_80x24_shows_function_reason_badge_and_status(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PendingTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert "Function" in labels and "Reason" in labels
        # every shown column fits inside the table's width
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.content_region.width, (used, table.content_region.width)
        fn, why = labels.index("Function"), labels.index("Reason")
        rows = {table.get_row_at(i)[fn].plain: table.get_row_at(i)[why].plain for i in range(table.row_count)}
        assert rows["xfsaild"] == "kthread in patched fn" and rows["ext4_sync_file"] == "D-state sleep"
        patches = app.screen.query_one(PatchTable)
        used = sum(c.get_render_width(patches) for c in patches.columns.values())
        assert used <= patches.content_region.width
        header = str(app.screen.query_one("#kernel").render())
        assert header.rstrip().endswith("DEMO") and len(header.rstrip()) <= 80
        status = str(app.screen.query_one("#status-line").render())
        assert "kthread in patched fn" in status  # the whole sentence, over two lines at most
        assert app.screen.query_one("#status-line").size.height <= 2


async def test_wide_terminal_keeps_every_column(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        labels = [str(c.label) for c in app.screen.query_one(PendingTable).columns.values()]
        assert labels == [
            "PID",
            "TID",
            "Command",
            "St",
            "Kthr",
            "Seen for",
            "Blocking function",
            "Reason",
            "Kernel",
        ]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        table = app.screen.query_one(PendingTable)
        assert "St" not in [str(c.label) for c in table.columns.values()] and table.row_count == 3


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_dimmed_actions_say_why_when_pressed(fake, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    fake.patch("lp_fix")
    app = make_app(Source(Tree(fake.root), "/", read_only=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key in ("v", "u", "l", "f", "k"):
            before = len(notifications(app))
            await pilot.press(key)
            await pilot.pause()
            new = notifications(app)[before:]
            assert len(new) == 1 and "not root" in new[0], (key, new)


async def test_demo_explains_what_is_missing(app_for):
    app = app_for("idle")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        assert any("no transition is in progress" in m for m in notifications(app))
        await pilot.press("u")
        await pilot.pause()
        assert any("no inactive livepatch module" in m for m in notifications(app))


async def test_all_threads_sorted_numerically_with_unknowns_as_question_marks(app_for):
    app = app_for("stuck")
    odd = TaskInfo(
        pid=7,
        tid=7,
        comm=None,
        state=None,
        kthread=None,
        patch_state=None,
        pending=False,
        reason_code=Reason.UNKNOWN_STATE,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AllTasksScreen)
        table = screen.query_one("#all-tasks")
        pids = [int(table.get_row_at(i)[0].plain) for i in range(table.row_count)]
        assert pids == sorted(pids) and pids != sorted(pids, key=str)  # numbers, not text
        screen.tasks = (odd,)
        screen._fill()
        row = [str(getattr(c, "plain", c)) for c in table.get_row_at(0)]
        assert row[2:6] == ["?", "?", "?", "?"] and "None" not in row


async def test_force_dialog_starts_empty_and_reads_whole_sentences(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ForceScreen)
        field = app.screen.query_one("#force-name")
        assert field.value == "" and field.placeholder != "kpatch_cve_2026_4242"
        assert "clearance from\n" not in app.screen.consequences


async def test_help_says_how_to_close_and_scroll(app_for):
    app = app_for("idle")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body")
        assert "Esc" in body.border_subtitle and "scroll" in body.border_subtitle
        assert body.max_scroll_y > 0  # at 80x24 it scrolls, and says so
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
