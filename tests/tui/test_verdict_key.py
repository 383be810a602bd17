"""The console's k: the kernel's own verdict per task, beside lptui's reason, in the table and the
task screen; and before it, the key that asks for it."""

from lptui.tui.screens.task_detail import TaskScreen
from lptui.tui.widgets.pending_table import PendingTable
from tests.tui.helpers import settle


def kernel_column(app) -> list[str]:
    table = app.screen.query_one(PendingTable)
    return [str(table.get_cell_at((row, len(table.columns) - 1))).strip() for row in range(table.row_count)]


async def test_k_fetches_the_kernels_verdicts_and_the_table_shows_them(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert kernel_column(app) == ["-", "-", "-"]
        await pilot.press("k")
        await settle(pilot)
        await settle(pilot)  # the action's end asks for a poll
        assert kernel_column(app) == ["sleeping on"] * 3
        assert any("flag(s) restored" in n.message for n in app._notifications)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskScreen)
        said = str(app.screen.query_one("#verdict").render())
        assert "xfsaild/dm-0:1105 is sleeping on function xfsaild" in said


async def test_before_any_verdict_the_task_screen_says_how_to_get_one(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "press k" in str(app.screen.query_one("#verdict").render())


async def test_k_without_a_transition_says_why_in_one_line(app_for):
    app = app_for("idle")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await pilot.pause()
        assert any("no transition" in n.message for n in app._notifications)
