"""The shipped alerts state the host's own facts: `promtool test rules` (the ecosystem's own tool) over a
stuck, an idle, a Ksplice and a dead host asserts every alert's exact summary and description
(contrib/mixin/alerts.test.yml); README's Alertmanager example passes `amtool check-config`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        why = ".ci/run installs it: apt-get install prometheus prometheus-alertmanager"
        pytest.skip(f"{tool} is not installed ({why})")
    return path


def test_every_alert_expands_to_the_hosts_own_facts():
    promtool = need("promtool")
    done = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"],
        cwd=ROOT / "contrib/mixin",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_every_alert_is_tested_and_links_the_runbook():
    rules = (ROOT / "contrib/mixin/alerts.yml").read_text()
    tests = (ROOT / "contrib/mixin/alerts.test.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    alerts = re.findall(r"- alert: (\w+)", rules)
    assert len(alerts) >= 9
    for alert in alerts:
        assert f"alertname: {alert}" in tests, alert
        assert f'runbook_url: "README.md#{alert.lower()}"' in rules, alert
        assert re.search(rf"^#+ {alert}$", readme, re.MULTILINE), f"README has no runbook heading {alert}"


def test_readmes_alertmanager_example_passes_amtool(tmp_path):
    amtool = need("amtool")
    text = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```yaml\n(# alertmanager\.yml.*?)```", text, re.DOTALL)
    config = tmp_path / "alertmanager.yml"
    config.write_text(block)
    done = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_the_recording_rules_pass_their_promtool_tests():
    promtool = need("promtool")
    for args in (
        ["check", "rules", "rules.yml"],
        ["test", "rules", "rules.test.yml"],
    ):
        done = subprocess.run([promtool, *args], cwd=ROOT / "contrib/mixin", capture_output=True, text=True)
        assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
