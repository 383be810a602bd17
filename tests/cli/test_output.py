"""Text output never loses data: into a pipe, with COLUMNS set, and on a real 80-column terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from lptui.cli.main import main

ELLIPSIS = "…"


def lptui(*argv: str, columns: int | None = None) -> str:
    """Run lptui with stdout a pipe, as `lptui ... | cat` does."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    proc = subprocess.run(
        [sys.executable, "-m", "lptui", *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def lptui_on_terminal(*argv: str, columns: int = 80, rows: int = 24) -> str:
    """Run lptui with stdout a real pseudo-terminal of the given size."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lptui", *argv], stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert proc.wait(timeout=60) == 0
    text = b"".join(chunks).decode()
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


def tasks_of(*argv: str) -> list[dict]:
    return json.loads(lptui(*argv, "--json"))["tasks"]


def words(text: str) -> set[str]:
    return {w.strip(",") for w in text.split()}


@pytest.mark.parametrize(
    "argv",
    [("--demo", "replace", "tasks"), ("--demo", "stuck", "tasks"), ("--demo", "stuck", "tasks", "--all")],
)
def test_piped_tasks_keep_every_value_on_its_row(argv):
    out = lptui(*argv)
    assert ELLIPSIS not in out
    rows = out.splitlines()
    for task in tasks_of(*argv):
        wanted = [str(task["pid"]), str(task["tid"]), task["comm"], *task["blocking_functions"]]
        assert any(all(w in words(row) or w in row for w in wanted) for row in rows), (task, wanted)
    assert "Function" in out and "Reason" in out


def test_piped_status_keeps_every_name():
    out = lptui("--demo", "stuck", "status")
    data = json.loads(lptui("--demo", "stuck", "status", "--json"))
    assert ELLIPSIS not in out
    for patch in data["patches"]:
        assert patch["name"] in words(out)
        assert patch["module"]["srcversion"] in words(out) and patch["module"]["taint"] in words(out)
        for obj in patch["objects"]:
            for fn in obj["functions"]:
                assert fn["name"] in words(out)
    for header in ("Enabled", "Transition", "Replace", "Refcnt", "Taint", "Srcversion"):
        assert header in out


@pytest.mark.parametrize("argv", [("--demo", "replace", "tasks"), ("--demo", "stuck", "tasks", "--all")])
def test_columns_governs_and_ids_stay_whole(argv):
    out = lptui(*argv, columns=80)
    assert ELLIPSIS not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    present = words(out)
    for task in tasks_of(*argv):
        assert str(task["pid"]) in present and str(task["tid"]) in present


@pytest.mark.parametrize(
    "argv",
    [("--demo", "stuck", "tasks"), ("--demo", "replace", "tasks"), ("--demo", "replace", "status")],
)
def test_terminal_of_80_columns_never_cuts_ids_or_names(argv):
    out = lptui_on_terminal(*argv)
    assert ELLIPSIS not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    present = words(out)
    if argv[-1] == "tasks":
        for task in tasks_of(*argv):
            assert str(task["pid"]) in present and str(task["tid"]) in present
            assert all(fn in present for fn in task["blocking_functions"])
    else:
        for patch in json.loads(lptui(*argv, "--json"))["patches"]:
            assert patch["name"] in present
            assert all(fn["name"] in present for o in patch["objects"] for fn in o["functions"])


def test_all_threads_sorted_by_number():
    ids = [(t["pid"], t["tid"]) for t in tasks_of("--demo", "stuck", "tasks", "--all")]
    assert ids == sorted(ids) and len(ids) > 100
    out = lptui("--demo", "stuck", "tasks", "--all")
    shown = [int(line.split()[0]) for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
    assert shown == sorted(shown) and len(shown) == len(ids)


def test_tasks_line_does_not_point_at_itself():
    out = lptui("--demo", "stuck", "tasks")
    assert "lptui tasks" not in out
    assert "`lptui tasks`" in lptui("--demo", "stuck", "status")


def test_kernel_without_live_patching(capsys, fake_nolp):
    assert main(["tasks", "--all", "--json", "--root", str(fake_nolp.root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["tasks"]) == 3
    assert all(t["problems"] == [] and t["patch_state"] is None for t in data["tasks"])
    assert any("no live patching" in n for n in data["notes"])
    assert main(["tasks", "--root", str(fake_nolp.root)]) == 0
    out = capsys.readouterr().out
    assert "no live patching" in out and "reads patch_state -1" not in out
    assert main(["status", "--root", str(fake_nolp.root)]) == 0
    out = capsys.readouterr().out
    assert "not supported" in out and out.count("no live patching") == 1


@pytest.fixture
def fake_nolp(tmp_path):
    from tests.faketree import FakeKernel

    fk = FakeKernel(tmp_path / "root").kernel(livepatch=False)
    for pid in (1, 2, 10):
        fk.task(pid, comm=f"t{pid}")
        os.unlink(fk.root / f"proc/{pid}/task/{pid}/patch_state")  # CONFIG_LIVEPATCH=n: no such file
    return fk


def test_callbacks_only_object_is_named(capsys, fake):
    fake.patch("lp_cb", objects={"vmlinux": [], "some_mod": ["busy_func,1"]})
    assert main(["status", "--root", str(fake.root)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "vmlinux" in line)
    assert "callbacks only" in row
