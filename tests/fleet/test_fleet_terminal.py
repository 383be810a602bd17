"""The issue's "done when", in a real terminal: 1,000 hosts' series backfilled into Debian's Prometheus
(benchmarks/fleet.py's history: 5 % stuck, 2 % with a dead exporter), `lptui fleet --prometheus URL` in
tmux at 80x24, and a person's three questions answered within 10 seconds of keys: the stuck hosts (on
top at start), a patch's N of M (key 2), a CVE's unfixed hosts first (c, the id, Enter)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.watch.test_prometheus import need

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def bench():
    spec = importlib.util.spec_from_file_location("fleet_bench", ROOT / "benchmarks/fleet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    need("prometheus")
    b = bench()
    tmp = tmp_path_factory.mktemp("thousand")
    om = tmp / "fleet.om"
    om.write_text(b.openmetrics(1000, int(time.time())))
    server, url = b.start_prometheus(tmp, om)
    try:
        from lptui.fleet.prometheus import Prometheus
        from lptui.fleet.state import read_fleet

        prom = Prometheus(url, timeout=30)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if len(read_fleet(prom, stale=1e9).hosts) == 1000:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_a_person_finds_the_three_answers_within_ten_seconds(thousand, tmp_path):
    socket = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    command = f"{sys.executable} -m lptui fleet --prometheus {thousand} --stale 1e9 --interval 2"
    subprocess.run([*socket, "new-session", "-d", "-s", "f", "-x", "80", "-y", "24", command], check=True)

    def screen() -> str:
        done = subprocess.run([*socket, "capture-pane", "-p", "-t", "f"], capture_output=True, text=True)
        return done.stdout

    def until(what: str, predicate, timeout: float) -> tuple[str, float]:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            text = screen()
            if predicate(text):
                return text, time.monotonic() - began
            time.sleep(0.1)
        raise AssertionError(f"{what} not on screen within {timeout} s:\n{screen()}")

    def keys(*pressed: str) -> None:
        subprocess.run([*socket, "send-keys", "-t", "f", *pressed], check=True)

    try:
        # the console starting on 1,000 hosts (its first read) is not the person's time: it is timed apart
        start, started = until("the hosts table", lambda s: "Hosts (" in s and "host-0" in s, 60)
        took = 0.0
        rows = [line for line in start.splitlines() if "host-0" in line]
        assert rows and all("stuck" in line for line in rows[:5]), start  # the stuck hosts on top
        assert re.search(r"Hosts \(50 stuck", start), start  # and counted in the tab's title
        keys("2")
        patches, spent = until("N of M", lambda s: re.search(r"\d+ of \d+", s) is not None, 10)
        took += spent
        assert re.search(r"livepatch_cve_2026_4242 +0 of \d+", patches), patches
        # its rollout over the last 6 h, read by the reader process from the store's history
        assert re.search(r"livepatch_cve_2026_0815 +980 of 980 +[▁▂▃▄▅▆▇█]+", patches), patches
        keys("c")
        _, spent = until("the CVE tab", lambda s: "CVE-2026-0815, then Enter" in s, 10)
        took += spent
        keys(*"CVE-2026-4242", "Enter")
        cve, spent = until("the CVE's verdicts", lambda s: "CVE-2026-4242:" in s and "not fixed" in s, 10)
        took += spent
        first = next(line for line in cve.splitlines() if "host-0" in line)
        assert "in transition" in first or "not fixed" in first, cve  # the exposed first, not the fixed
        assert took < 10, took
        print(f"\nstarted in {started:.1f} s; the three answers in {took:.1f} s\n{start}\n{patches}\n{cve}")
    finally:
        subprocess.run([*socket, "kill-server"], check=False)
