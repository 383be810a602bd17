"""The console in a real terminal (tmux): a closed terminal (SIGHUP) or a SIGTERM ends it, and a
demo's simulated tree never stays behind in /dev/shm."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)
SHM = Path("/dev/shm")


def _trees() -> set[str]:
    return {p.name for p in SHM.glob("lptui-sim-*")} if SHM.is_dir() else set()


def _wait(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("how", ["close the terminal", "SIGTERM"])
def test_the_demo_leaves_nothing_behind(how, tmp_path):
    socket = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    before = _trees()
    command = f"{sys.executable} -m lptui --demo stuck"
    subprocess.run([*socket, "new-session", "-d", "-s", "t", "-x", "120", "-y", "36", command], check=True)
    try:
        pid = int(
            subprocess.run(
                [*socket, "list-panes", "-t", "t", "-F", "#{pane_pid}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[0]
        )

        def screen() -> str:
            capture = [*socket, "capture-pane", "-p", "-t", "t"]
            return subprocess.run(capture, capture_output=True, text=True).stdout

        _wait(lambda: "xfsaild" in screen(), "the demo on screen")
        mine = _trees() - before
        assert len(mine) == 1
        if how == "SIGTERM":
            os.kill(pid, 15)
        else:
            subprocess.run([*socket, "kill-session", "-t", "t"], check=True)
        _wait(lambda: _ended(pid), "lptui to end")
        assert not (_trees() & mine), "the demo's tree stayed in /dev/shm"
    finally:
        subprocess.run([*socket, "kill-server"], capture_output=True)
