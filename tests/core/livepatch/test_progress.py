"""psutil's job (issue 18): whether a blocking task makes progress, measured on real processes this test
starts: one asleep, one waking a thousand times a second, one burning CPU, one that ends."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from lptui.cli.main import main
from lptui.cli.tasks_render import verbose_blockers
from lptui.core.livepatch.progress import Progress, measure, sample
from lptui.core.model import Reason, TaskInfo
from lptui.core.tree import Tree


@pytest.fixture
def spawn():
    procs: list[subprocess.Popen] = []

    def start(code: str) -> int:
        proc = subprocess.Popen([sys.executable, "-c", code])
        procs.append(proc)
        time.sleep(0.3)  # past the interpreter's start-up, into the loop
        return proc.pid

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_asleep_waking_and_busy_tasks_are_told_apart(spawn):
    asleep = spawn("import time; time.sleep(60)")
    waking = spawn("import time\nwhile True: time.sleep(0.001)")
    busy = spawn("while True: pass")
    got = measure([asleep, waking, busy], interval=0.5)
    assert got[asleep].switches == 0 and not got[asleep].moving and got[asleep].status == "sleeping"
    assert got[asleep].text().startswith("asleep (sleeping), 0 switches")
    assert got[waking].switches > 50 and got[waking].moving and "switches/s" in got[waking].text()
    assert got[busy].cpu > 0.2 and got[busy].status == "running"
    assert all(0.45 <= p.seconds < 5 for p in got.values())


def test_a_thread_id_is_measured_as_itself():
    """Threads block transitions one by one (patch_state is per thread): a tid is sampled, not its
    process: of two threads of this process, the waking one switches, the waiting one does not."""
    stop = threading.Event()
    tids: dict[str, int] = {}

    def waiting() -> None:
        tids["waiting"] = threading.get_native_id()
        stop.wait()

    def waking() -> None:
        tids["waking"] = threading.get_native_id()
        while not stop.is_set():
            time.sleep(0.001)

    workers = [threading.Thread(target=waiting), threading.Thread(target=waking)]
    for w in workers:
        w.start()
    try:
        while len(tids) < 2:
            time.sleep(0.01)
        time.sleep(0.1)
        got = measure(tids.values(), interval=0.3)
        assert got[tids["waiting"]].switches <= 2 < 50 < got[tids["waking"]].switches
    finally:
        stop.set()
        for w in workers:
            w.join()


def test_a_task_that_ends_is_left_out(spawn):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert sample(gone.pid) is None
    alive = spawn("import time; time.sleep(60)")
    assert set(measure([gone.pid, alive], interval=0.1)) == {alive}


def test_tasks_verbose_says_it_per_blocker(tmp_path):
    task = TaskInfo(
        7,
        8,
        "worker",
        "S",
        False,
        0,
        True,
        stack=("schedule+0x1/0x2",),
        reason_code=Reason.SLEEPING_IN_PATCHED,
        reason="sleeping",
    )
    lines = verbose_blockers((task,), None, Tree(tmp_path), None, {8: Progress(8, "sleeping", 0, 0.0, 1.0)})
    assert "  progress: asleep (sleeping), 0 switches and 0.00 s CPU in 1.0 s" in lines
    lines = verbose_blockers((task,), None, Tree(tmp_path), None, {})
    assert "  progress: unknown (it ended, or cannot be read)" in lines
    assert not any("progress" in line for line in verbose_blockers((task,), None, Tree(tmp_path), None))


def test_only_the_live_host_is_sampled(capsys, monkeypatch):
    """A demo or a saved tree has no scheduler to ask: `tasks -v` shows no progress there."""
    import lptui.core.livepatch.progress as progress

    monkeypatch.setattr(progress, "measure", lambda *a, **k: pytest.fail("sampled a simulated task"))
    assert main(["tasks", "--demo", "stuck", "-v"]) == 0
    out = capsys.readouterr().out
    assert "pending for" in out and "progress:" not in out
