"""Worker failures are shown: a failing poll, all-threads read or inspection reaches the user in one
line (notification and event log), polling goes on, and no spinner waits forever."""

from __future__ import annotations

from textual.widgets import LoadingIndicator

from lptui.core.errors import ActionError
from lptui.core.model import Reason, TaskInfo
from lptui.core.tree import Tree
from lptui.source import Source
from lptui.tui.screens.all_tasks import AllTasksScreen
from lptui.tui.screens.load import LoadScreen
from lptui.tui.screens.task_detail import TaskScreen
from lptui.tui.widgets.event_log import EventLog
from tests.tui.helpers import KO, make_app, settle


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def log_text(app) -> str:
    return "\n".join(str(line.text) for line in app.screen_stack[0].query_one(EventLog).lines)


async def test_failing_poll_is_shown_and_polling_resumes(app_for, monkeypatch):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot, failures_ok=True)
        shown = app.polls
        real = app.poller.reader.read
        monkeypatch.setattr(app.poller.reader, "read", lambda: (_ for _ in ()).throw(OSError("disk on fire")))
        app.poll()
        await settle(pilot, failures_ok=True)
        assert any("disk on fire" in n for n in notes(app))
        monkeypatch.setattr(app.poller.reader, "read", real)
        app.poll()
        await settle(pilot, failures_ok=True)
        assert app.polls == shown + 1  # the next poll went through
        assert "cannot read the kernel state: OSError: disk on fire" in log_text(app)


async def test_failing_all_tasks_read_replaces_the_spinner(app_for):
    app = app_for("stuck")

    def broken():
        raise PermissionError("no /proc for you")

    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot, failures_ok=True)
        await app.push_screen(AllTasksScreen(broken))
        await settle(pilot, failures_ok=True)
        screen = app.screen
        assert not screen.query_one(LoadingIndicator).display
        assert "no /proc for you" in screen.query_one("#all-tasks").border_title
        assert any("no /proc for you" in n for n in notes(app))
        await pilot.press("escape")
        await settle(pilot, failures_ok=True)
        assert "no /proc for you" in log_text(app)


async def test_failing_inspection_is_shown_in_place(app_for):
    app = app_for("idle")

    def inspect(path):
        if path.endswith("bad.ko"):
            raise RuntimeError("pyelftools exploded")
        raise ActionError("never reached")

    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot, failures_ok=True)
        await app.push_screen(LoadScreen([KO], inspect))
        await settle(pilot, failures_ok=True)
        app.screen._inspect("bad.ko")
        await settle(pilot, failures_ok=True)
        shown = str(app.screen.query_one("#inspection").render())
        assert "cannot inspect it: RuntimeError: pyelftools exploded" in shown
        assert app.screen.query_one("#confirm").disabled
        assert any("pyelftools exploded" in n for n in notes(app))


async def test_task_details_come_from_the_tree_not_the_host(fake):
    fake.task(4242, comm="worker", patch_state="0")
    fake.write("proc/4242/status", "Name:\tworker\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\n")
    fake.write("proc/4242/cmdline", "/usr/bin/worker\x00--serve\x00")
    fake.write("proc/1/comm", "init-of-the-tree\n")
    fake.write("proc/stat", "cpu 0 0 0 0\nbtime 1700000000\n")
    fake.task(77, comm="ghost", patch_state="0")  # listed, but no status file: not in this tree
    app = make_app(Source(Tree(fake.root), str(fake.root), read_only=True))
    task = TaskInfo(4242, 4242, "worker", "S", False, 0, True, stack=(), reason_code=Reason.WAITING)
    ghost = TaskInfo(77, 77, "ghost", "S", False, 0, True, stack=(), reason_code=Reason.WAITING)
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot, failures_ok=True)
        await app.push_screen(TaskScreen(task, Tree(fake.root), simulated=False))
        await settle(pilot, failures_ok=True)
        facts = str(app.screen.query_one("#facts").render())
        assert "/usr/bin/worker --serve" in facts and "1 (init-of-the-tree)" in facts and "1000" in facts
        await pilot.press("escape")
        await app.push_screen(TaskScreen(ghost, Tree(fake.root), simulated=False))
        await settle(pilot, failures_ok=True)
        assert "not in this tree" in str(app.screen.query_one("#facts").render())


async def test_own_poll_loop_starts_and_quits_cleanly():
    """With its real poll loop (not the tests' on-demand polls), views that arrive while the app is
    closing are dropped, not raised."""
    import asyncio

    from lptui.tui.app import LptuiApp
    from tests.tui.helpers import demo_source

    for _ in range(5):
        app = LptuiApp(demo_source("stuck"), watch_modules=False)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(100):
                if app.polls >= 1:
                    break
                await asyncio.sleep(0.05)
            assert app.polls >= 1
            for _ in range(20):
                app.poller.request()  # views in flight as the app quits
            await pilot.pause()
        app.source.close()
