"""The console, headless, on the real kernel: it shows the stalled kthread and reverses through its keys."""

import time

from lptui.source import open_source
from lptui.tui.app import LptuiApp
from lptui.tui.screens.confirm import ConfirmScreen
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.pending_table import PendingTable
from tests.realkernel.guest.kmod import LP, insmod, load_patch, pending_tids_by_kernel, pid_of, read, wait_for


async def wait_until(pilot, predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.2)


def rows(table: PendingTable) -> dict[str, list[str]]:
    out = {}
    for i in range(table.row_count):
        cells = [str(getattr(c, "plain", c)) for c in table.get_row_at(i)]
        out[cells[2]] = cells
    return out


async def test_console_shows_the_stalled_kthread_and_reverses_it():
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")

    app = LptuiApp(open_source())
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(PendingTable)
        await wait_until(pilot, lambda: "lptui_sleeper" in rows(table), what="the sleeper in the table")
        cells = rows(table)["lptui_sleeper"]
        assert cells[0] == str(sleeper) and cells[6] == "lptui_target_sleep"
        assert cells[7] == "kthread in patched fn"
        assert "block lptui_lp_target" in str(app.screen.query_one("#status-line").render())

        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_until(
            pilot, lambda: not (LP / "lptui_lp_target").exists(), what="the reversal to complete"
        )
        await wait_until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.transition is None,
            what="the console to see it",
        )

        def logged(text: str):
            return lambda: text in "".join(str(line.text) for line in app.screen.query_one(EventLog).lines)

        # the audit line is written after the kernel has finished: it can arrive a poll later
        await wait_until(
            pilot,
            logged("reversed the patching transition of 'lptui_lp_target'"),
            timeout=30,
            what="the action in the event log",
        )

        # pyudev: a module load wakes the console at once
        insmod("lptui_plain")
        await wait_until(pilot, logged("module add: lptui_plain"), what="the module event")


def test_console_in_a_real_terminal_shows_the_blocker():
    """`lptui` as a user starts it, in a real terminal (tmux, 120x40) in the guest: how long until the
    stalled kthread and its function are on the screen (recorded in $LPTUI_GUEST_OUT), and q quits."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    assert shutil.which("tmux"), "tmux is needed in the guest (it shares the host's file system)"
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")

    script = Path(sys.executable).parent / "lptui"
    command = str(script) if script.exists() else f"{sys.executable} -m lptui"
    env = dict(os.environ, TMUX_TMPDIR="/tmp")
    tmux = ["tmux", "-L", "lptui-guest"]

    def screen() -> str:
        return subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "lptui"], capture_output=True, text=True, env=env
        ).stdout

    start = time.monotonic()
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "lptui", "-x", "120", "-y", "40", command], check=True, env=env
    )
    try:

        def row() -> str | None:  # the pending table's row (the status line names the sleeper too)
            return next(
                (
                    line
                    for line in screen().splitlines()
                    if "lptui_sleeper" in line and "kthread in patched fn" in line
                ),
                None,
            )

        found = wait_for(row, timeout=600, interval=0.5, what="the blocker's row on the screen")
        shown = time.monotonic() - start
        assert str(sleeper) in found and "lptui_target_sleep" in found
        subprocess.run([*tmux, "send-keys", "-t", "lptui", "q"], check=True, env=env)
        wait_for(
            lambda: (
                subprocess.run([*tmux, "has-session", "-t", "lptui"], capture_output=True, env=env).returncode
                != 0
            ),
            timeout=120,
            what="q to quit",
        )
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)
    result = {"kernel": os.uname().release, "console_shows_blocker_s": round(shown, 1)}
    print(json.dumps(result))
    if os.environ.get("LPTUI_GUEST_OUT"):
        (Path(os.environ["LPTUI_GUEST_OUT"]) / "console-terminal.json").write_text(json.dumps(result) + "\n")
