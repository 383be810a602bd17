"""`lptui check`, the monitoring plugin: one line, perfdata, the plugin exit codes."""

from __future__ import annotations

import json
import re

from lptui.cli.check_verdict import judge
from lptui.cli.main import main
from lptui.source import open_source
from lptui.watch.poller import Poller

PERF = re.compile(r"^LIVEPATCH (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| (\S+=\S*;\S*;\S*;\S*;\S* ?)+$")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stuck_demo_is_critical_with_perfdata(capsys):
    code, out, err = run(capsys, "check", "--demo", "stuck")
    assert code == 2 and err == "" and out.count("\n") == 1 and PERF.match(out.strip()), out
    assert "2 h 14 m (kernel log)" in out and "xfsaild/dm-0 (1105) in xfsaild" in out
    assert "pending=3;;;0;" in out and "age=8040s;60;300;0;" in out and "total=289;" in out


def test_thresholds_decide(capsys):
    assert run(capsys, "check", "--demo", "stuck", "--warn", "600", "--crit", "9000")[0] == 1
    assert run(capsys, "check", "--demo", "stuck", "--warn", "9000", "--crit", "90000")[0] == 0
    code, out, _ = run(capsys, "check", "--demo", "stuck", "--warn", "90", "--crit", "10")
    assert code == 3 and out.startswith("LIVEPATCH UNKNOWN")


def test_idle_is_ok(capsys):
    code, out, _ = run(capsys, "check", "--demo", "idle")
    assert code == 0 and out.startswith("LIVEPATCH OK - no transition in progress, 2 patches loaded |")


def test_kernel_without_live_patching_is_ok(capsys, tmp_path):
    from tests.faketree import FakeKernel

    fk = FakeKernel(tmp_path / "root").kernel(livepatch=False)
    code, out, _ = run(capsys, "check", "--root", str(fk.root))
    assert code == 0 and "no live patching on this kernel" in out


def test_unreadable_source_is_unknown(capsys, tmp_path):
    code, out, err = run(capsys, "check", "--root", str(tmp_path / "nowhere"))
    assert code == 3 and out.startswith("LIVEPATCH UNKNOWN - --root") and err == ""


def test_not_root_on_a_live_kernel_is_unknown():
    with open_source(demo="stuck") as source:
        view = Poller(source).poll()
    verdict = judge(view, warn=60, crit=300, live_not_root=True)
    assert verdict.code == 3 and "run as root" in verdict.summary


def test_inactive_module_is_critical(capsys):
    code, _, _ = run(capsys, "check", "--demo", "replace", "--warn", "1000", "--crit", "2000")
    # replace: no inactive module yet while the cumulative patch is mid-transition
    assert code == 0
    with open_source(demo="replace") as source:
        source.session.advance(60)  # the cumulative patch completes: the replaced modules stay loaded
        view = Poller(source).poll()
    verdict = judge(view, warn=60, crit=300, live_not_root=False)
    assert verdict.code == 2 and "patch module loaded with its patch gone" in verdict.summary


def test_json(capsys):
    code, out, _ = run(capsys, "check", "--demo", "stuck", "--json")
    data = json.loads(out)
    assert code == 2 and data["status"] == "CRITICAL" and data["perfdata"]["age"]["value"] == 8040
    assert data["transition"]["age_source"] == "kernel-log" and data["blockers"][0]["comm"] == "xfsaild/dm-0"


def test_check_json_says_forced_as_status_json_does(capsys, fake):
    """The View carries the poll's OnCall (issue 18): with no kernel log to read, `check --json` cannot
    tell whether a transition was forced, and says null as `status --json` does, not false."""
    _, out, _ = run(capsys, "check", "--root", str(fake.root), "--json")
    check = json.loads(out)
    _, out, _ = run(capsys, "status", "--root", str(fake.root), "--json")
    status = json.loads(out)
    assert status["forced_this_boot"]["log_problem"]  # the fake tree has no dev/kmsg
    assert check["forced_this_boot"] is None is status["forced_this_boot"]["forced"]
    _, out, _ = run(capsys, "check", "--demo", "idle", "--json")
    assert json.loads(out)["forced_this_boot"] is False  # a readable log with no force in it
