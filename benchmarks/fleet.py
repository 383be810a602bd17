"""Benchmark: the fleet view over 1,000 (or 10,000) hosts on a real Prometheus.

    python benchmarks/fleet.py [--hosts N] [--rounds R] [--refreshes K]
                               [--store prometheus|victoria-metrics|both]

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
        # 10 minutes back and 20 ahead: an instant query at any time of the run finds a sample at most a
        # minute old (Prometheus's lookback is 5 minutes; a 30,000-host run outlasts that)
        for t in range(now - 600, now + 1201, 60):
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


async def console(url: str, refreshes: int) -> tuple[float, float, list[float]]:
    """The console headless at 160x40, refreshing as fast as it may (interval 0.5 s): its first paint
    (until the hosts table is filled), and the UI thread's longest block in each refresh, measured from
    inside its event loop (a 2 ms sleep that wakes late was blocked): (first paint, its block, blocks of
    the refreshes after it)."""
    from textual.widgets import DataTable

    from lptui.tui.fleet.app import FleetApp

    start = time.perf_counter()
    app = FleetApp(Prometheus(url, timeout=60), job="lptui", host_label="instance", stale=1e9, interval=0.5)
    blocks: list[float] = []
    worst = [0.0]
    async with app.run_test(size=(160, 40)) as pilot:

        async def watchdog() -> None:
            while True:
                began = time.perf_counter()
                await asyncio.sleep(0.002)
                worst[0] = max(worst[0], time.perf_counter() - began - 0.002)

        task = asyncio.get_running_loop().create_task(watchdog())
        shown = app.poller.shown

        def counted() -> None:
            blocks.append(worst[0])
            worst[0] = 0.0
            shown()

        app.poller.shown = counted  # type: ignore[method-assign]  # the benchmark's probe
        table = app.query_one("#hosts", DataTable)
        while table.row_count == 0 or app._steps is not None:
            await pilot.pause(0.01)
        paint = time.perf_counter() - start
        await pilot.pause(1.0)  # the paint's last slices laid out: its block ends here
        first, worst[0] = max([worst[0], *blocks]), 0.0
        blocks.clear()
        while len(blocks) < refreshes:
            await pilot.pause(0.05)
        task.cancel()
    return paint, first, blocks


def start_prometheus(tmpdir: Path, om: Path) -> tuple[subprocess.Popen, str]:
    """Debian's Prometheus on the history, backfilled with promtool."""
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prometheus:
        sys.exit("needs Debian's prometheus (apt-get install prometheus)")
    data = tmpdir / "prometheus-data"
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)], check=True)
    web = free_port()
    (tmpdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    argv = [
        prometheus,
        f"--config.file={tmpdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{web}",
    ]
    return subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ), f"http://127.0.0.1:{web}"


def start_victoria_metrics(tmpdir: Path, om: Path) -> tuple[subprocess.Popen, str]:
    """Debian's VictoriaMetrics single-node on the same history, imported as Prometheus text (its
    timestamps in milliseconds) through /api/v1/import/prometheus, then flushed to be searchable."""
    vm = shutil.which("victoria-metrics")
    if not vm:
        sys.exit("needs Debian's victoria-metrics (apt-get install victoria-metrics)")
    web = free_port()
    argv = [
        vm,
        f"-storageDataPath={tmpdir / 'vm-data'}",
        f"-httpListenAddr=127.0.0.1:{web}",
        "-search.latencyOffset=0s",
        # its default, 300,000 series a query, refuses the fleet's check of every host's lptui series past
        # ~13,000 hosts ("search error ... tagFilters"): README's Fleet says so
        "-search.maxUniqueTimeseries=10000000",
    ]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{web}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    with om.open("rb") as src:
        while chunk := b"".join(_ms(line) for line in _lines(src, 200_000)):
            urllib.request.urlopen(
                urllib.request.Request(f"{url}/api/v1/import/prometheus", data=chunk), timeout=300
            )
    urllib.request.urlopen(f"{url}/internal/force_flush", timeout=60).read()
    return server, url


def _lines(src, n: int) -> list[bytes]:
    return [line for _, line in zip(range(n), src, strict=False)]


def _ms(line: bytes) -> bytes:
    if line.startswith(b"#"):
        return b""
    head, _, t = line.rstrip(b"\n").rpartition(b" ")
    return head + b" " + t + b"000\n"


def measure(store: str, url: str, args: argparse.Namespace) -> None:
    from lptui.fleet.poller import Shape, shape_view
    from lptui.fleet.queries import last_known

    prom = Prometheus(url, timeout=60)
    for _ in range(240):
        try:
            if len(read_fleet(prom, stale=1e9).hosts) == args.hosts:
                break
        except Exception:
            pass
        time.sleep(0.5)
    fleet = read_fleet(prom, stale=1e9)
    assert len(fleet.hosts) == args.hosts, len(fleet.hosts)
    down = [h.name for h in fleet.hosts if not h.up]
    # the view's whole round: the families, the checks of the hosts, the down hosts' last known state
    last = {f"last:{family}": q for family, q in last_known("lptui", "instance", down).items()}
    exprs = {**queries("lptui"), **checks("lptui"), **last}
    floor, view = [], []
    size = 0
    for _ in range(args.rounds):
        t = time.perf_counter()
        size = bare_round(url, exprs)
        floor.append(time.perf_counter() - t)
        t = time.perf_counter()
        shape_view(read_fleet(prom, stale=1e9), None, 0.0, Shape())  # what the console's poller does
        view.append(time.perf_counter() - t)
    f, v = statistics.median(floor), statistics.median(view)
    # each round's pair back to back, the ratio per pair: a slow moment of the machine slows both
    ratio = statistics.median(b / a for a, b in zip(floor, view, strict=True))
    print(
        f"[{store}] refresh ({args.rounds} rounds, median): bare HTTP floor {f * 1000:.0f} ms "
        f"({size >> 10} KiB in {len(exprs)} queries), fleet view read and shaped {v * 1000:.0f} ms; "
        f"per round {ratio:.2f}x the floor"
    )
    paint, first, blocks = asyncio.run(console(url, args.refreshes))
    print(
        f"[{store}] console: first paint {paint * 1000:.0f} ms (UI thread's longest block in it "
        f"{first * 1000:.0f} ms); {len(blocks)} refreshes after it: UI thread's longest block per refresh "
        f"median {statistics.median(blocks) * 1000:.0f} ms, worst {max(blocks) * 1000:.0f} ms "
        f"({', '.join(f'{b * 1000:.0f}' for b in blocks)})"
    )
    # the child's peak from its own address space (VmHWM): getrusage's ru_maxrss would carry this
    # process's peak over the fork and exec (the kernel keeps the larger in signal->maxrss)
    code = (
        "import contextlib, io, sys\nfrom lptui.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['fleet', '--prometheus', {url!r}, '--stale', '1e9', 'hosts', '--json'])\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    print(f"[{store}] `lptui fleet hosts --json` peak RSS: {int(out.stdout.split()[-1]) / 1024:.0f} MiB")


STORES = {"prometheus": start_prometheus, "victoria-metrics": start_victoria_metrics}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--refreshes", type=int, default=10, help="console refreshes whose UI block is measured")
    ap.add_argument("--store", choices=[*STORES, "both"], default="both")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        began = time.perf_counter()
        om = tmpdir / "fleet.om"
        om.write_text(openmetrics(args.hosts, int(time.time())))
        print(
            f"{args.hosts} hosts: OpenMetrics {om.stat().st_size >> 20} MiB "
            f"in {time.perf_counter() - began:.1f} s"
        )
        for store in STORES if args.store == "both" else (args.store,):
            began = time.perf_counter()
            server, url = STORES[store](tmpdir, om)
            print(f"[{store}] loaded in {time.perf_counter() - began:.1f} s")
            try:
                measure(store, url, args)
            finally:
                server.terminate()
                server.wait(60)


if __name__ == "__main__":
    main()
