"""Pilot tests of the dashboard, drill-downs and navigation on the simulated kernel."""

from lptui.tui.screens.all_tasks import AllTasksScreen
from lptui.tui.screens.help import HelpScreen
from lptui.tui.screens.patch_detail import PatchScreen
from lptui.tui.screens.task_detail import TaskScreen
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.patch_table import PatchTable
from lptui.tui.widgets.pending_table import PendingTable
from tests.tui.helpers import settle


def cell_text(table, row: int, col: int) -> str:
    return str(getattr(table.get_row_at(row)[col], "plain", table.get_row_at(row)[col]))


async def test_stuck_dashboard_names_blockers(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        pending = app.screen.query_one(PendingTable)
        assert pending.display and pending.row_count == 3
        rows = {
            cell_text(pending, i, 2): (cell_text(pending, i, 6), cell_text(pending, i, 7)) for i in range(3)
        }
        assert rows["xfsaild/dm-0"] == ("xfsaild", "kthread in patched fn")
        assert rows["postgres"] == ("ext4_sync_file", "D-state sleep")
        assert rows["backup-agent"][1] == "stack unreadable"
        status = str(app.screen.query_one("#status-line").render())
        assert "3 tasks block kpatch_cve_2026_4242" in status
        assert app.screen.query_one("#transition").display
        log_text = "\n".join(str(line.text) for line in app.screen.query_one(EventLog).lines)
        assert "starting patching transition" in log_text


async def test_idle_dashboard_hides_transition_and_dims_force(app_for):
    app = app_for("idle")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(PendingTable).display
        assert not app.screen.query_one("#transition").display
        assert app.screen.query_one(PatchTable).row_count == 3  # two loaded, one installed but not loaded
        assert app.check_action("force", ()) is None  # nothing to force
        assert app.check_action("revert", ()) is True
        assert "No transition in progress" in str(app.screen.query_one("#status-line").render())


async def test_task_screen_shows_stack_reason_and_remedy(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one(PendingTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        task = app.screen.task_info
        assert task.comm == "xfsaild/dm-0"
        stack = str(app.screen.query_one("#stack").render())
        assert "▶ [<0>] xfsaild+" in stack
        texts = " ".join(str(w.render()) for w in app.screen.query(".section"))
        assert "Reverse the transition (v)" in texts and "Simulated task" in texts
        await pilot.press("escape")
        assert not isinstance(app.screen, TaskScreen)


async def test_patch_screen_shows_overrides(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PatchTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("livepatch_cve_2026_0815"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PatchScreen)
        functions = app.screen.query_one("#functions")
        live = {cell_text(functions, i, 3): cell_text(functions, i, 5) for i in range(functions.row_count)}
        assert live == {
            "cmdline_proc_show": "overridden by kpatch_cve_2026_4242",
            "meminfo_proc_show": "this patch",
        }


async def test_all_tasks_filters_by_name_and_state(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AllTasksScreen)
        table = screen.query_one("#all-tasks")
        assert table.row_count == app.snapshot.transition.tasks_total
        screen.query_one("#name-filter").value = "xfsaild"
        await pilot.pause()
        assert table.row_count == 1
        screen.query_one("#name-filter").value = ""
        screen.query_one("#state-filter").value = "pending"
        await pilot.pause()
        assert table.row_count == 3


async def test_help_screen(app_for):
    app = app_for("idle")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_polls_never_overlap_and_module_events_refresh(app_for):
    from lptui.tui.messages import ModuleEvent

    app = app_for("idle")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        before = app.polls
        app.poll()
        app.poll()  # while the first is in flight: coalesced into one more, never concurrent
        assert app.poller.running and app.poller.again
        await settle(pilot)
        assert app.polls == before + 2 and not app.poller.running
        app.post_message(ModuleEvent("add", "xfs"))
        await settle(pilot)
        assert app.polls == before + 3


async def test_pending_rows_are_updated_by_key_not_rebuilt(app_for):
    app = app_for("stuck")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PendingTable)
        calls = {"add": 0, "remove": 0}
        original_add, original_remove = table.add_row, table.remove_row

        def add(*a, **k):
            calls["add"] += 1
            return original_add(*a, **k)

        def remove(*a, **k):
            calls["remove"] += 1
            return original_remove(*a, **k)

        table.add_row, table.remove_row = add, remove
        sim = app.source.session.sim
        # xfsaild leaves the patched function: the next retry (about 1 s) switches it
        next(t for t in sim.tasks.values() if t.comm == "xfsaild/dm-0").stack = [("kthread", None)]
        app.source.session.advance(3)
        app.poll()
        await settle(pilot)
        assert table.row_count == 2 and calls == {"add": 0, "remove": 1}


async def test_a_view_that_only_ages_redraws_only_what_changed():
    """While a transition runs a view arrives every half second; the seconds change, the rest does
    not. Only changed lines are redrawn, and the footer (remounted on every binding refresh) is left
    alone unless what can be done changed (issue 11: following a transition cost 16% of a core)."""
    from lptui.tui.app import LptuiApp
    from lptui.tui.widgets.kernel_header import KernelHeader
    from tests.tui.helpers import FROZEN_WALL, demo_source

    now = [100.0]
    app = LptuiApp(
        demo_source("stuck"),
        auto_poll=False,
        watch_modules=False,
        clock=lambda: now[0],
        wall=lambda: FROZEN_WALL,
    )
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(KernelHeader)
        calls = {"bindings": 0, "header": 0}
        refresh_bindings, update = app.refresh_bindings, header.update

        def counting_bindings():
            calls["bindings"] += 1
            refresh_bindings()

        def counting_update(*args, **kwargs):
            calls["header"] += 1
            update(*args, **kwargs)

        app.refresh_bindings = counting_bindings
        header.update = counting_update
        pending = app.screen.query_one(PendingTable)
        first_seen = cell_text(pending, 0, 5)
        shown = app.polls
        for _ in range(3):
            now[0] += 2.0
            app.poll()
            await settle(pilot)
        assert app.polls == shown + 3
        assert cell_text(pending, 0, 5) != first_seen  # the "seen for" column did follow the clock
        assert calls == {"bindings": 0, "header": 0}


async def test_nothing_animates_between_polls(app_for):
    """No widget redraws on a timer of its own (a ProgressBar without a total animates at 15 frames a
    second, shown or hidden): between polls the console does only what Textual itself does."""
    for scenario in ("idle", "stuck"):
        app = app_for(scenario)
        async with app.run_test(size=(110, 36)) as pilot:
            await settle(pilot)
            animated = [w for w in app.screen.walk_children() if w.auto_refresh]
            assert animated == [], f"{scenario}: {animated}"


async def test_patch_screen_says_where_the_patch_came_from(app_for):
    """Provenance in the console: the file, what it fixes, and a patch that a reboot will lose."""
    app = app_for("idle")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = {}
        for name in ("livepatch_cve_2026_0815", "livepatch_nfsd_fix"):
            table = app.screen.query_one(PatchTable)
            table.focus()
            table.move_cursor(row=table.get_row_index(name))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PatchScreen)
            seen[name] = " ".join(str(s.render()) for s in app.screen.query(".section"))
            await pilot.press("escape")
            await pilot.pause()
        assert (
            "/var/lib/kpatch/6.16.0-lptui-demo/livepatch_cve_2026_0815.ko" in seen["livepatch_cve_2026_0815"]
        )
        assert "Fixes  CVE-2026-0815, CVE-2026-0816" in seen["livepatch_cve_2026_0815"]
        assert "gone after a reboot" in seen["livepatch_nfsd_fix"]


async def test_patches_area_shows_installed_and_lost(app_for):
    app = app_for("idle")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PatchTable)
        row = table.get_row_index("installed:livepatch_tcp_fix")
        assert cell_text(table, row, 5) == "on disk, not loaded"
        assert table.border_subtitle == "1 gone after a reboot (no file) · 1 installed, not loaded"
        table.focus()
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(
            "installed at /lib/modules/6.16.0-lptui-demo/livepatch/livepatch_tcp_fix.ko" in m
            for m in messages
        )


async def test_the_older_systems_in_the_console(app_for):
    app = app_for("kgraft")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        pending = app.screen.query_one(PendingTable)
        assert pending.display and pending.row_count == 3
        reasons = {cell_text(pending, i, 7) for i in range(3)}
        assert reasons == {"kthread off safe point", "not back to user yet"}
        table = app.screen.query_one(PatchTable)
        names = [cell_text(table, i, 0) for i in range(table.row_count)]
        assert names == ["kgraft_patch_1_2_1", "kgraft_patch_1_2_2"]  # one system: the subtitle names it
        assert table.border_subtitle == "systems: kgraft"
        assert "patching" in {cell_text(table, i, 2) for i in range(table.row_count)}
        line = str(app.screen.query_one("#transition-line").render())
        assert line.startswith("kGraft") and "3 pending" in line
        header = str(app.screen.query_one("#kernel").render())
        assert "kgraft ✓" in header and "livepatch ✗" not in header
        assert app.check_action("force", ()) is None  # dimmed: lptui does not force kGraft
    app = app_for("ksplice")
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(PendingTable).row_count == 2
        line = str(app.screen.query_one("#transition-line").render())
        assert "Ksplice" in line and "ABORTED (code_busy)" in line


async def test_patches_of_several_systems_are_each_tagged(fake):
    from lptui.source import open_source
    from tests import legacy_trees as lt
    from tests.tui.helpers import make_app

    fake.patch("livepatch_core_fix")
    lt.ksplice_in_kernel(fake, "u1", stage="applied", abort_cause="ok")
    app = make_app(open_source(root=str(fake.root)))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PatchTable)
        names = sorted(cell_text(table, i, 0) for i in range(table.row_count))
        assert names == ["livepatch_core_fix", "u1 [ksplice]"]
        assert table.border_subtitle.startswith("systems: ksplice")


async def test_an_older_systems_patch_detail(app_for):
    app = app_for("kgraft")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PatchTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("kgraft_patch_1_2_2"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PatchScreen)
        texts = " ".join(str(w.render()) for w in app.screen.query(".section"))
        assert "System  kGraft  stage patching" in texts and "state table object-sympos-state" in texts
        assert "not searched: kGraft patches come in SUSE's kgraft-patch packages" in texts
        functions = app.screen.query_one("#functions")
        states = {cell_text(functions, i, 3): cell_text(functions, i, 6) for i in range(functions.row_count)}
        assert states == {"pipe_read": "patching", "xfsaild": "patching", "SyS_newuname": "patching"}
        # the older patch's SyS_newuname is overridden by the newer kGraft patch, within kGraft
        await pilot.press("escape")
        table.move_cursor(row=table.get_row_index("kgraft_patch_1_2_1"))
        await pilot.press("enter")
        await pilot.pause()
        functions = app.screen.query_one("#functions")
        live = {cell_text(functions, i, 3): cell_text(functions, i, 5) for i in range(functions.row_count)}
        assert live == {"SyS_newuname": "overridden by kgraft_patch_1_2_2", "cmdline_proc_show": "this patch"}


async def test_task_detail_on_the_live_host_says_whether_the_task_moves(tmp_path):
    """psutil's job in the console: a real sleeping process, opened as a live task, is shown asleep with
    0 switches; a simulated task gets no such line (its numbers would mean nothing)."""
    import subprocess
    import sys

    from textual.app import App
    from textual.widgets import Static

    from lptui.core.model import Reason, TaskInfo
    from lptui.core.tree import Tree

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        task = TaskInfo(
            proc.pid,
            proc.pid,
            "python3",
            "S",
            False,
            0,
            True,
            stack=("do_nanosleep+0x1/0x2",),
            reason_code=Reason.SLEEPING_IN_PATCHED,
            reason="sleeping",
        )

        class Host(App):
            def __init__(self, live: bool) -> None:
                super().__init__()
                self.live = live

            def on_mount(self) -> None:
                self.push_screen(
                    TaskScreen(task, Tree("/" if self.live else tmp_path), simulated=not self.live)
                )

        async with Host(True).run_test() as pilot:
            text = ""
            for _ in range(60):  # the worker samples over 1 s
                await pilot.pause(0.1)
                text = str(pilot.app.screen.query_one("#progress", Static).render())
                if text.startswith("Progress:"):
                    break
            assert text.startswith("Progress: asleep (sleeping), 0 switches"), text
        async with Host(False).run_test() as pilot:
            await pilot.pause(0.2)
            assert not pilot.app.screen.query("#progress")
    finally:
        proc.kill()
        proc.wait()
