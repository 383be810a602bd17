"""The whole alarm chain on real parts: Debian's Prometheus evaluates contrib/mixin/alerts.yml over the
demo exporters, Debian's Alertmanager routes what fires, and a webhook receiver this test runs on
loopback receives the stuck demo's LivepatchTransitionStuck (after the rule's `for: 1m`), stating that
host's patch, age, pending count and a blocker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tests.fleet.test_fleet_prometheus import RealFleet
from tests.watch.test_prometheus import free_port, need, wait_for

RULES = Path(__file__).resolve().parents[2] / "contrib/mixin/alerts.yml"


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
        Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_alertmanager_delivers_the_stuck_alert(tmp_path):
    alertmanager = need("prometheus-alertmanager")
    assert shutil.which("amtool")
    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    am_port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route:\n  receiver: hook\n  group_by: [alertname, instance]\n  group_wait: 1s\n"
        "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n"
        f"      - url: http://127.0.0.1:{hook.server_port}/\n        send_resolved: false\n"
    )
    check = subprocess.run(["amtool", "check-config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    am = subprocess.Popen(
        [
            alertmanager,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "alertmanager.log").open("w"),
    )
    fleet = None
    try:
        fleet = RealFleet(tmp_path, rules=str(RULES), alertmanager=f"127.0.0.1:{am_port}")
        stuck = fleet.host("stuck")

        def delivered():
            return [
                a
                for msg in Hook.received
                for a in msg.get("alerts", [])
                if a["labels"].get("alertname") == "LivepatchTransitionStuck"
            ]

        alerts = wait_for(delivered, 180, "Alertmanager to deliver LivepatchTransitionStuck")
        instances = {a["labels"]["instance"] for a in alerts}
        assert stuck in instances, instances
        mine = next(a for a in alerts if a["labels"]["instance"] == stuck)
        assert mine["status"] == "firing" and mine["labels"]["severity"] == "critical"
        # the real facts of the stuck demo host, its own series only: patch, age, pending, a blocker
        assert (mine["labels"]["patch"], mine["labels"]["direction"]) == ("kpatch_cve_2026_4242", "patching")
        said = mine["annotations"]["description"]
        found = re.search(
            r"has run for 2h 1[4-9]m \d+s on (\S+); (\d+) tasks pending, top blocker: (\w+) \(1\)", said
        )
        assert found and found[1] == stuck and found[2] == "3", said
        assert found[3] in {"kthread_in_patched_function", "uninterruptible", "stack_unreadable"}, said
        assert fleet.host("idle") not in instances  # nothing is stuck there
    finally:
        if fleet is not None:
            fleet.stop()
        am.terminate()
        am.wait(20)
        hook.shutdown()
