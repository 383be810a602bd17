"""`lptui metrics` against Debian's real Prometheus tools: `promtool check metrics`, `promtool check rules`,
and a real Prometheus server that scrapes `lptui --demo stuck metrics --listen` and answers a PromQL
query with the demo's pending count. The systemd units ship verified by `systemd-analyze verify`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "contrib/systemd"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} is not installed (Debian: apt-get install {tool}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must have it: {reason}")
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lptui(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lptui", *argv], capture_output=True, text=True, timeout=60, **kw
    )


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


@pytest.mark.parametrize(
    "scenario", ["stuck", "idle", "replace", "unpatch", "kgraft", "kpatch-core", "ksplice"]
)
def test_promtool_accepts_the_exposition(scenario):
    promtool = need("promtool")
    out = lptui("--demo", scenario, "metrics")
    assert out.returncode == 0, out.stderr
    check = subprocess.run([promtool, "check", "metrics"], input=out.stdout, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", check


def test_alert_rules_are_valid():
    promtool = need("promtool")
    check = subprocess.run(
        [promtool, "check", "rules", str(ROOT / "contrib/mixin/alerts.yml")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and "SUCCESS: 9 rules found" in check.stdout, check


def test_the_older_systems_in_the_metrics():
    text = lptui("--demo", "kgraft", "metrics").stdout
    assert 'lptui_system_present{mechanism="kgraft"} 1.0' in text
    assert 'lptui_system_present{mechanism="livepatch"} 0.0' in text
    assert 'lptui_patch_in_transition{mechanism="kgraft",patch="kgraft_patch_1_2_2"} 1.0' in text
    assert 'lptui_blocked_tasks{reason="kgraft_kthread_not_at_safe_point"} 1.0' in text
    assert "lptui_transition_tasks_pending 3.0" in text
    text = lptui("--demo", "ksplice", "metrics").stdout
    assert 'lptui_blocked_tasks{reason="ksplice_conflict"} 2.0' in text
    assert 'mechanism="ksplice",patch="q2v9xw1e"' in text


def test_a_real_prometheus_scrapes_the_listener(tmp_path):
    prometheus = need("prometheus")
    port, web = free_port(), free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "lptui", "--demo", "stuck", "metrics", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: lptui\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        text = wait_for(lambda: get(f"http://127.0.0.1:{port}/metrics"), 60, "the exporter")
        assert "lptui_transition_tasks_pending 3.0" in text

        def query(expr: str):
            data = json.loads(get(f"http://127.0.0.1:{web}/api/v1/query?query={urllib.request.quote(expr)}"))
            return data["data"]["result"] if data.get("status") == "success" else None

        result = wait_for(lambda: query("lptui_transition_tasks_pending"), 90, "Prometheus to scrape lptui")
        assert result[0]["value"][1] == "3" and result[0]["metric"]["job"] == "lptui"
        (up,) = query('up{job="lptui"}')
        assert up["value"][1] == "1"
        (core,) = query('lptui_system_present{mechanism="livepatch"}')
        assert core["value"][1] == "1"
        (reason,) = query('lptui_blocked_tasks{reason="kthread_in_patched_function"}')
        assert reason["value"][1] == "1"
        age = float(query("lptui_transition_age_seconds")[0]["value"][1])
        assert 8040 <= age < 8040 + 120  # the demo's 2 h 14 m, running in real time since
    finally:
        server.terminate()
        exporter.terminate()
        server.wait(20)
        exporter.wait(20)
    assert exporter.returncode in (0, -15)


def test_listener_binds_loopback_by_default_and_only_reads():
    port = free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "lptui", "--demo", "idle", "metrics", "--listen", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        text = wait_for(lambda: get(f"http://127.0.0.1:{port}/metrics"), 60, "the exporter")
        assert "lptui_patches_loaded 2.0" in text
        if shutil.which("ss"):  # iproute2: the socket is on loopback, not 0.0.0.0
            listening = subprocess.run(
                ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True
            ).stdout
            local = listening.split()[3]  # State Recv-Q Send-Q Local Peer
            assert local == f"127.0.0.1:{port}", listening
        request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=5)
    finally:
        exporter.terminate()
        exporter.wait(20)


def test_textfile_is_written_whole(tmp_path):
    out = lptui("--demo", "stuck", "metrics", "--textfile", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["lptui.prom"]  # no temporary file left behind
    assert "lptui_transition_tasks_pending 3.0" in (tmp_path / "lptui.prom").read_text()
    bad = lptui("--demo", "stuck", "metrics", "--textfile", str(tmp_path / "missing"))
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "not a directory" in bad.stderr


@pytest.mark.parametrize(
    "unit", ["lptui-metrics.service", "lptui-metrics-textfile.service", "lptui-metrics-textfile.timer"]
)
def test_systemd_units_verify(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    entry = shutil.which("lptui") or str(Path(sys.executable).parent / "lptui")
    for name in ("lptui-metrics.service", "lptui-metrics-textfile.service", "lptui-metrics-textfile.timer"):
        text = (UNITS / name).read_text()
        assert "/usr/local/bin/lptui" in text or name.endswith(".timer")  # README's install for root
        # systemd-analyze checks that the command exists: point it at this test's own lptui
        (tmp_path / name).write_text(text.replace("/usr/local/bin/lptui", entry))
    check = subprocess.run([analyze, "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stderr.strip() == "", check.stderr


def series(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """One metric's samples from an exposition, labels sorted, through the client library's parser."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


@pytest.mark.parametrize("scenario", ["idle", "stuck", "replace", "kgraft", "kpatch-core", "ksplice"])
def test_the_fleet_series_say_what_status_json_says(scenario):
    """Issue 19's per-host series: identity, CVEs, what a reboot loses, what waits on disk, kpatch's
    service; each equal to the same demo's own `status --json` life cycle."""
    text = lptui("--demo", scenario, "metrics").stdout
    status = json.loads(lptui("--demo", scenario, "status", "--json").stdout)
    life = status["life_cycle"]
    assert series(text, "lptui_build_info") == {(("version", "0.1.0"),): 1.0}
    kernel = status["kernel"]
    assert series(text, "lptui_kernel_info") == {
        (("machine", kernel["machine"]), ("release", kernel["release"])): 1.0
    }
    info = series(text, "lptui_patch_info")
    assert {dict(k)["patch"] for k in info} == {p["name"] for p in status["patches"]}
    for p in status["patches"]:
        module = p["module"]
        key = (
            ("mechanism", p["mechanism"]),
            ("patch", p["name"]),
            ("srcversion", module["srcversion"] or ""),
            ("version", module["version"] or ""),
        )
        assert info[key] == 1.0
    fixes = {(dict(k)["patch"], dict(k)["cve"]) for k in series(text, "lptui_patch_fixes")}
    want = {(p["name"], c) for p in status["patches"] if p["provenance"] for c in p["provenance"]["cves"]}
    assert fixes == want
    known = {dict(k)["patch"]: v for k, v in series(text, "lptui_patch_provenance_known").items()}
    assert known == {p["name"]: float(p["provenance"] is not None) for p in status["patches"]}
    lost = {dict(k)["patch"] for k, v in series(text, "lptui_patch_lost_at_reboot").items() if v == 1.0}
    assert lost == set(life["lost_at_reboot"])
    waiting = {dict(k)["patch"] for k in series(text, "lptui_patch_installed_not_loaded")}
    assert waiting == set(life["installed_not_loaded"])
    service = {dict(k)["state"]: v for k, v in series(text, "lptui_kpatch_service").items()}
    assert service[life["boot_service"] or "absent"] == 1.0 and sum(service.values()) == 1.0
