"""One host cannot blind the fleet nor speak for another: Debian's real Prometheus scraping the stuck demo
(a real `lptui metrics --listen`) beside exporters this test serves with what an adversary would publish:
a NaN transition age, an infinite poll time, 7,000 series with a 10 KB label, 50,000 patches, series
naming another instance, and, through a job with `honor_labels: true`, a patch on the stuck host that
fixes a CVE it lacks. Every answer is about each host, in one line of problems, never an internal error."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from tests.hostile import OSC52_BEL, controls_in, expected
from tests.watch.test_prometheus import free_port, get, need, wait_for

JOB = "lptui.*"
MARKUP_HOST = f"[@click=app.quit]q[/]{OSC52_BEL}"


def _labels(**labels: str) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def host_series(*, age: str = "120", poll: str | None = None, patches: int = 1, label: str = "") -> str:
    """A plausible host's exposition, with the values an adversary chooses."""
    now = poll or f"{time.time():.3f}"
    lines = [
        f"lptui_last_poll_timestamp_seconds {now}",
        f"lptui_kernel_info{{{_labels(release='6.1.0-28-amd64', machine='x86_64')}}} 1",
        "lptui_transition_in_progress 1",
        "lptui_transition_info{"
        + _labels(patch="lp_t", direction="patching", mechanism="livepatch", age_source="kernel-log")
        + "} 1",
        f"lptui_transition_age_seconds {age}",
        "lptui_transition_tasks_pending 3",
        "lptui_transition_tasks 100",
        f"lptui_kpatch_service{{{_labels(state='enabled')}}} 1",
    ]
    for i in range(patches):
        name = f"p{i}{label}"
        lines.append(
            f"lptui_patch_info{{{_labels(patch=name, mechanism='livepatch', version='', srcversion='')}}} 1"
        )
        lines.append(f"lptui_patch_enabled{{{_labels(patch=name)}}} 1")
    return "\n".join(lines) + "\n"


def impersonation(victim: str) -> str:
    """Series a target publishes as another host (kept as it says with honor_labels: true)."""
    who = {"instance": victim, "job": "lptui"}
    fake = {**who, "patch": "fake_fix"}
    return (
        "\n".join(
            [
                f"lptui_patch_info{{{_labels(**fake, mechanism='livepatch', version='', srcversion='')}}} 1",
                f"lptui_patch_enabled{{{_labels(**fake)}}} 1",
                f"lptui_patch_in_transition{{{_labels(**fake)}}} 0",
                f"lptui_patch_provenance_known{{{_labels(**fake)}}} 1",
                f"lptui_patch_fixes{{{_labels(**fake, cve='CVE-2026-9999')}}} 1",
                "lptui_kernel_info{"
                + _labels(instance=MARKUP_HOST, job="lptui", release="6.1.0-28-amd64")
                + "} 1",
                "lptui_last_poll_timestamp_seconds{"
                + _labels(instance=MARKUP_HOST, job="lptui")
                + f"}} {time.time():.3f}",
            ]
        )
        + "\n"
    )


class Exporters:
    """Static exporters on loopback: each port answers /metrics with its function's text."""

    def __init__(self, pages: dict[str, object]) -> None:
        self.ports = {name: free_port() for name in pages}
        self.servers = []
        for name, page in pages.items():

            class Page(BaseHTTPRequestHandler):
                text = staticmethod(page)

                def do_GET(self) -> None:
                    body = self.text().encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args) -> None:
                    pass

            httpd = ThreadingHTTPServer(("127.0.0.1", self.ports[name]), Page)
            httpd.daemon_threads = True
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            self.servers.append(httpd)

    def host(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def stop(self) -> None:
        for httpd in self.servers:
            httpd.shutdown()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    prometheus = need("prometheus")
    tmp = tmp_path_factory.mktemp("hostile-fleet")
    stuck, idle = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lptui", "--demo", scenario, "metrics", "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for scenario, port in (("stuck", stuck), ("idle", idle))
    ]
    victim = f"127.0.0.1:{stuck}"
    pages = {
        "nan": lambda: host_series(age="NaN"),
        "inf": lambda: host_series(poll="+Inf"),
        "big": lambda: host_series(patches=7_000, label="-" + "x" * 10_000),
        "many": lambda: host_series(patches=50_000),
        "renamer": lambda: host_series().replace(
            "lptui_kernel_info{", f'lptui_kernel_info{{instance="{victim}",', 1
        ),
        "impersonator": lambda: impersonation(victim),
    }
    exporters = Exporters(pages)
    targets = ", ".join(f"'{exporters.host(n)}'" for n in ("nan", "inf", "big", "many", "renamer"))
    web = free_port()
    (tmp / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n"
        "scrape_configs:\n"
        f"  - job_name: lptui\n    static_configs:\n"
        f"      - targets: ['{victim}', '127.0.0.1:{idle}', {targets}]\n"
        f"  - job_name: lptui-twice\n    static_configs:\n      - targets: ['127.0.0.1:{idle}']\n"
        f"  - job_name: lptui-honor\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{exporters.host('impersonator')}']\n"
    )
    procs.append(
        subprocess.Popen(
            [
                prometheus,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{web}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "prometheus.log").open("w"),
        )
    )
    url = f"http://127.0.0.1:{web}"

    def scraped() -> bool:
        q = quote("count(count by (instance) (scrape_samples_scraped > 0))")
        data = json.loads(get(f"{url}/api/v1/query?query={q}"))["data"]["result"]
        done = bool(data) and int(data[0]["value"][1]) == 8
        fixes = json.loads(get(f"{url}/api/v1/query?query=lptui_patch_fixes"))["data"]["result"]
        return done and any(r["metric"].get("cve") == "CVE-2026-9999" for r in fixes)

    wait_for(scraped, 180, "Prometheus to scrape every exporter")
    time.sleep(3)
    yield url, victim, exporters, f"127.0.0.1:{idle}"
    exporters.stop()
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(20)


def fleet(url: str, *question: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lptui", "fleet", "--prometheus", url, "--job", JOB, *question],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_host_blinds_the_fleet(hostile):
    """Before: a NaN age or poll time made `fleet hosts` and `fleet patches` an internal error for the whole
    fleet; a host of 7,000 series with a 10 KB label pushed an answer past 64 MiB and every command
    refused the whole fleet; 50,000 patches cost 18.9 s and 323 MB."""
    url, victim, exporters, _ = hostile
    for question in (("hosts",), ("patches",), ("hosts", "--json"), ("patches", "--json")):
        done = fleet(url, *question)
        assert done.returncode == 0 and "internal error" not in done.stderr, done.stderr
        assert not controls_in(done.stdout + done.stderr)
    hosts = {h["host"]: h for h in json.loads(fleet(url, "hosts", "--json").stdout)["hosts"]}
    nan = hosts[exporters.host("nan")]
    assert nan["state"] == "in transition" and nan["transition"]["age_seconds"] is None
    assert any("transition age is nan (bad value)" in p for p in nan["problems"])
    inf = hosts[exporters.host("inf")]
    assert inf["state"] == "stale" and any("last poll time is inf" in p for p in inf["problems"])
    big = hosts[exporters.host("big")]
    assert any("label over 256 characters" in p for p in big["problems"]), big["problems"]
    assert all(len(p["name"]) <= 256 for p in big["patches"]) and len(big["patches"]) <= 200
    many = hosts[exporters.host("many")]
    assert len(many["patches"]) == 200 and many["suspect"]
    assert any("over 2,000" in p for p in many["problems"]), many["problems"]
    assert hosts[victim]["state"] == "suspect"  # the impersonator's series beside its own
    text = fleet(url, "hosts")
    assert "bad value" in text.stdout and "transition age is nan" in text.stdout


def test_fleet_check_is_never_ok_on_a_bad_value(hostile):
    """Before: `fleet check` said "OK - none stuck" for a host in transition with a NaN age."""
    url, _, exporters, _ = hostile
    done = fleet(url, "check")
    assert done.returncode in (1, 2) and done.stdout.count("\n") == 1, done.stdout
    assert "in transition for an unknown time" in done.stdout and exporters.host("nan") in done.stdout


def test_no_host_speaks_for_another(hostile):
    """Before: with honor_labels, one target published a patch on the stuck demo host, which then read
    "fixed" for a CVE it lacks. Now that host is suspect: its verdict is "unknown", never "fixed"."""
    url, victim, exporters, idle = hostile
    verdicts = {
        v["host"]: v for v in json.loads(fleet(url, "cve", "CVE-2026-9999", "--json").stdout)["hosts"]
    }
    assert (
        verdicts[victim]["verdict"] == "unknown"
        and "another target publishes as it" in verdicts[victim]["why"]
    )
    assert all(v["verdict"] != "fixed" for v in verdicts.values())
    hosts = {h["host"]: h for h in json.loads(fleet(url, "hosts", "--json").stdout)["hosts"]}
    assert hosts[idle]["suspect"] and any("2 jobs claim it" in p for p in hosts[idle]["problems"])
    renamer = hosts[exporters.host("renamer")]
    assert renamer["suspect"] and any("exported_instance" in p for p in renamer["problems"]), renamer
    fake = next(h for name, h in hosts.items() if name.startswith("[@click"))
    assert fake["suspect"] and fake["state"] == "down"  # no target of its name: never "up"
    rollout = json.loads(fleet(url, "patches", "--json").stdout)["patches"]
    assert "fake_fix" not in {r["patch"] for r in rollout}  # a suspect host's patches are not counted


async def test_the_fleet_console_shows_a_hostile_fleet(hostile):
    """Before: the fleet console read a host name as markup, died with a traceback, and exited 0."""
    from lptui.fleet.prometheus import Prometheus
    from lptui.tui.fleet.app import FleetApp

    url, *_ = hostile
    app = FleetApp(Prometheus(url, timeout=30), job=JOB, host_label="instance", stale=300, interval=60)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        for _ in range(200):
            await pilot.pause(0.2)
            if app.view is not None:
                break
        assert app.view is not None and app.view.total >= 8
        await pilot.pause(0.5)
        strips = app.screen._compositor.render_strips()
        text = "\n".join("".join(seg.text for seg in strip) for strip in strips)
        assert expected(MARKUP_HOST) in text and not controls_in(text), text
        app.notify(list(app.view.records)[-1])
        await pilot.pause(0.3)
    assert app.return_code in (None, 0)
