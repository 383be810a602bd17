"""Benchmark: the fleet view over 1,000 (or 10,000) hosts on a real Prometheus.

    python benchmarks/fleet.py [--hosts N] [--rounds R]

Builds N hosts' lptui series as OpenMetrics history (the last 10 minutes, a sample a minute; 5 % of the
hosts stuck in a transition with blockers, 2 % with a dead exporter), backfills it into a Prometheus data
directory with `promtool tsdb create-blocks-from openmetrics`, starts Debian's Prometheus on it, and times
side by side in the same run:
  - the floor: the fleet's round of instant queries (`up`, then one per family, WORKERS in flight at
    once, all at `up`'s evaluation time) sent with a bare HTTP client (urllib, body read, nothing parsed);
  - the fleet view's refresh: the same round, parsed and assembled into the Fleet (read_fleet);
  - the console's first paint (headless, until the hosts table is filled) and the CLI's peak RSS
    (`lptui fleet ... hosts --json` in a child process).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lptui.fleet.prometheus import Prometheus
from lptui.fleet.queries import checks
from lptui.fleet.state import WORKERS, queries, read_fleet

REASONS = ("sleeping_in_patched_function", "kthread_in_patched_function", "stack_unreadable")


def openmetrics(hosts: int, now: int) -> str:
    lines: list[str] = []
    families: dict[str, list[str]] = {}
    series: dict[str, int] = {}  # each host's lptui series: its scrape's samples (scrape_samples_scraped)

    def add(name: str, labels: dict[str, str], value: float) -> None:
        if name.startswith("lptui_"):
            series[labels["instance"]] = series.get(labels["instance"], 0) + 1
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for t in range(now - 600, now + 1, 60):
            families.setdefault(name, []).append(
                f"{name}{{{text}}} {value if name != 'lptui_last_poll_timestamp_seconds' else t} {t}"
            )

    for i in range(hosts):
        base = {"instance": f"host-{i:05d}:9839", "job": "lptui"}
        dead = i % 50 == 7
        add("up", base, 0 if dead else 1)
        if dead:
            continue
        stuck = i % 20 == 3
        release = f"6.1.0-{20 + i % 4}-amd64"
        add("lptui_last_poll_timestamp_seconds", base, 0)
        add("lptui_build_info", base | {"version": "0.1.0"}, 1)
        add("lptui_kernel_info", base | {"release": release, "machine": "x86_64"}, 1)
        patches = ["livepatch_cve_2026_0815", "livepatch_nfsd_fix"] + (
            ["livepatch_cve_2026_4242"] if stuck else []
        )
        for p in patches:
            moving = stuck and p == "livepatch_cve_2026_4242"
            add(
                "lptui_patch_info",
                base | {"patch": p, "mechanism": "livepatch", "version": "1", "srcversion": "A1B2"},
                1,
            )
            add("lptui_patch_enabled", base | {"patch": p, "mechanism": "livepatch"}, 1)
            add("lptui_patch_in_transition", base | {"patch": p, "mechanism": "livepatch"}, int(moving))
            add("lptui_patch_provenance_known", base | {"patch": p}, 1)
            add("lptui_patch_lost_at_reboot", base | {"patch": p}, 0)
            cve = {
                "livepatch_cve_2026_0815": "CVE-2026-0815",
                "livepatch_cve_2026_4242": "CVE-2026-4242",
            }.get(p)
            if cve:
                add("lptui_patch_fixes", base | {"patch": p, "cve": cve}, 1)
        for state in ("enabled", "disabled", "absent"):
            add("lptui_kpatch_service", base | {"state": state}, int(state == "enabled"))
        add("lptui_forced_this_boot", base, 0)
        add("lptui_inactive_modules", base, 0)
        if stuck:
            info = {
                "patch": "livepatch_cve_2026_4242",
                "direction": "patching",
                "age_source": "kernel-log",
                "mechanism": "livepatch",
            }
            add("lptui_transition_info", base | info, 1)
            add("lptui_transition_age_seconds", base, 600 + i)
            add("lptui_transition_tasks_pending", base, 3)
            add("lptui_transition_tasks", base, 289)
            for r in REASONS:
                add("lptui_blocked_tasks", base | {"reason": r}, 1)
        add("scrape_samples_scraped", base, series[base["instance"]])
    for name, samples in families.items():
        lines.append(f"# TYPE {name} gauge")
        lines.extend(samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare(url: str, expr: str, at: float | None = None) -> bytes:
    params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
    with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode(params), timeout=60) as r:
        return r.read()


def bare_round(url: str, exprs: dict[str, str]) -> int:
    """The fleet's round with nothing parsed but the evaluation time (a fixed slice of `up`'s answer)."""
    first = bare(url, exprs["up"])
    at = float(first.split(b'"value":[', 1)[1].split(b",", 1)[0]) if b'"value":[' in first else None
    rest = [e for f, e in exprs.items() if f != "up"]
    with ThreadPoolExecutor(WORKERS) as pool:
        return len(first) + sum(len(b) for b in pool.map(lambda e: bare(url, e, at), rest))


async def first_paint(url: str) -> float:
    from textual.widgets import DataTable

    from lptui.tui.fleet.app import FleetApp

    start = time.perf_counter()
    app = FleetApp(Prometheus(url, timeout=60), job="lptui", host_label="instance", stale=1e9, interval=60)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one("#hosts", DataTable)
        while table.row_count == 0:
            await pilot.pause(0.01)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prometheus:
        sys.exit("needs Debian's prometheus (apt-get install prometheus)")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        now = int(time.time())
        began = time.perf_counter()
        (tmpdir / "fleet.om").write_text(openmetrics(args.hosts, now))
        data = tmpdir / "data"
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(tmpdir / "fleet.om"), str(data)],
            check=True,
            capture_output=True,
        )
        print(
            f"{args.hosts} hosts: OpenMetrics {(tmpdir / 'fleet.om').stat().st_size >> 20} MiB, backfilled "
            f"in {time.perf_counter() - began:.1f} s"
        )
        web = free_port()
        (tmpdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
        server = subprocess.Popen(
            [
                prometheus,
                f"--config.file={tmpdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{web}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{web}"
        try:
            prom = Prometheus(url, timeout=60)
            for _ in range(120):
                try:
                    if len(read_fleet(prom, stale=1e9).hosts) == args.hosts:
                        break
                except Exception:
                    pass
                time.sleep(0.5)
            fleet = read_fleet(prom, stale=1e9)
            assert len(fleet.hosts) == args.hosts, len(fleet.hosts)
            exprs = {**queries("lptui"), **checks("lptui")}  # the view's whole round
            floor, view = [], []
            size = 0
            for _ in range(args.rounds):
                t = time.perf_counter()
                size = bare_round(url, exprs)
                floor.append(time.perf_counter() - t)
                t = time.perf_counter()
                read_fleet(prom, stale=1e9)
                view.append(time.perf_counter() - t)
            f, v = statistics.median(floor), statistics.median(view)
            # each round's pair back to back, the ratio per pair: a slow moment of the machine slows both
            ratio = statistics.median(b / a for a, b in zip(floor, view, strict=True))
            print(
                f"refresh ({args.rounds} rounds, median): bare HTTP floor {f * 1000:.0f} ms "
                f"({size >> 10} KiB in {len(exprs)} queries), fleet view {v * 1000:.0f} ms; "
                f"per round {ratio:.2f}x the floor"
            )
            print(f"console first paint: {asyncio.run(first_paint(url)) * 1000:.0f} ms")
            # the child's peak from its own address space (VmHWM): getrusage's ru_maxrss would carry this
            # process's peak over the fork and exec (the kernel keeps the larger in signal->maxrss)
            code = (
                "import contextlib, io, sys\nfrom lptui.cli.main import main\n"
                "with contextlib.redirect_stdout(io.StringIO()):\n"
                f"    main(['fleet', '--prometheus', {url!r}, '--stale', '1e9', 'hosts', '--json'])\n"
                "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
            )
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
            print(f"`lptui fleet hosts --json` peak RSS: {int(out.stdout.split()[-1]) / 1024:.0f} MiB")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
