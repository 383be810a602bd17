"""Any process can name itself (`prctl(PR_SET_NAME)`) and write its own command line: what lptui prints
of them reaches the terminal of whoever runs it, as root. Control characters and bidirectional overrides
are shown escaped (`\\x1b`, `\\u202e`) in every text command and in the console, never raw."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.faketree import FakeKernel

EVIL_COMM = "ev\x1b[2Jil\u202e"  # clears the screen; reverses what follows
EVIL_CMD = "sh\x00-c\x00\x1b]0;owned\x07\u202etxt.exe"


@pytest.fixture
def evil_root(tmp_path):
    fake = FakeKernel(tmp_path / "root").kernel()
    fake.patch("lp", transition="1", objects={"vmlinux": ["cmdline_proc_show,1"]})
    fake.task(10, comm=EVIL_COMM, patch_state="0", stack=["[<0>] cmdline_proc_show+0x1d/0x40"])
    fake.write("proc/10/cmdline", EVIL_CMD)
    fake.write("proc/10/status", "Name:\tx\nUid:\t0\t0\t0\t0\nPPid:\t1\n")
    fake.write("proc/uptime", "100.0 50.0\n")
    fake.write("proc/loadavg", "0.00 0.01 0.05 2/123 4567\n")
    return fake.root


def run(root, *argv: str) -> str:
    env = dict(os.environ, COLUMNS="200")
    out = subprocess.run(
        [sys.executable, "-m", "lptui", "--root", str(root), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return out.stdout + out.stderr


@pytest.mark.parametrize(
    "argv",
    [("status",), ("tasks",), ("tasks", "-v"), ("tasks", "--all"), ("check",), ("watch", "--timeout", "1")],
)
def test_text_commands_escape_what_a_process_names(evil_root, argv):
    text = run(evil_root, *argv)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text, text
    if argv[0] in ("tasks", "watch", "check"):  # these name the blocking task: escaped
        assert "\\x1b" in text, text


async def test_the_console_escapes_too(evil_root):
    from lptui.source import open_source
    from tests.tui.helpers import make_app, settle

    source = open_source(root=str(evil_root))
    app = make_app(source)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        from lptui.tui.widgets.pending_table import PendingTable

        table = app.screen.query_one(PendingTable)
        cells = " ".join(str(c) for row in range(table.row_count) for c in table.get_row_at(row))
        assert "\\x1b" in cells and "\x1b" not in cells and "\u202e" not in cells
        await pilot.press("enter")  # the task's detail: its command line too
        await pilot.pause(0.5)
        shown = " ".join(str(w.render()) for w in app.screen.query(".section"))
        assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    source.close()


def test_names_a_tree_controls_are_escaped_everywhere(tmp_path):
    """Patch, object, function and module names come from directory listings: a saved tree or a bundle
    controls them (the kernel's own are module names). The model escapes them once, for every output."""
    fake = FakeKernel(tmp_path / "root").kernel()
    fake.patch("lp\x1b[2J\u202e", transition="0", objects={"vm\x1blinux": ["f\x1b[1m,1"]})
    fake.module("mod\x1b\u202e", refcnt="0", taint="K")
    for argv in (("status",), ("status", "--json"), ("check",), ("tasks",), ("metrics",)):
        text = run(fake.root, *argv)
        assert "\x1b" not in text and "\u202e" not in text, (argv, text)
        if argv not in (("check",), ("tasks",)):  # those two name no patch here (no transition)
            assert "lp\\x1b[2J\\u202e" in text or "lp\\\\x1b[2J\\\\u202e" in text, (argv, text)
