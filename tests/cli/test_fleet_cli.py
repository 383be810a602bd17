"""`lptui fleet`'s own promises without a Prometheus: a missing --prometheus is a usage error, `check
--json` is JSON in every state, the console never starts without a terminal, and `fleet cve` exits as
`status --cve` does, for the fleet as a whole."""

from __future__ import annotations

import json

import pytest

from lptui.cli.fleet_cmd import cve_exit
from lptui.cli.main import main
from lptui.fleet.answers import CveVerdict


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


def test_a_missing_prometheus_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    code, out, err = run(capsys, "fleet", "hosts")
    assert (
        code == 2
        and out == ""
        and err == "lptui: usage error: fleet needs --prometheus URL (or PROMETHEUS_URL)\n"
    )
    code, out, _ = run(capsys, "fleet", "check", "--json")  # a plugin's usage problem is UNKNOWN, as JSON
    assert code == 3 and json.loads(out) == {
        "status": "UNKNOWN",
        "code": 3,
        "summary": "fleet needs --prometheus URL (or PROMETHEUS_URL)",
    }


def test_check_json_is_json_when_unknown(capsys):
    code, out, _ = run(capsys, "fleet", "--prometheus", "http://127.0.0.1:1", "check", "--json")
    assert code == 3 and json.loads(out)["summary"].startswith("cannot reach Prometheus")
    code, out, _ = run(
        capsys, "fleet", "--prometheus", "http://127.0.0.1:1", "check", "--warn", "9", "--crit", "1", "--json"
    )
    assert code == 3 and json.loads(out)["status"] == "UNKNOWN"


def test_the_console_needs_a_terminal(capsys):
    code, out, err = run(capsys, "fleet", "--prometheus", "http://127.0.0.1:1")  # capsys: not a terminal
    assert code == 2 and out == "" and "the fleet console needs a terminal" in err


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        (("fixed", "fixed"), 0),
        (("fixed", "not fixed", "unknown", "in transition"), 4),
        (("fixed", "in transition", "unknown"), 5),
        (("fixed", "unknown"), 6),
    ],
)
def test_fleet_cve_exits_as_status_cve_does(verdicts, code):
    assert cve_exit(tuple(CveVerdict(f"h{i}", v, (), "") for i, v in enumerate(verdicts))) == code


@pytest.mark.parametrize("columns", [60, 80, 120, 250])
def test_the_fleet_tables_never_cut_a_value(capsys, monkeypatch, columns):
    """Before: at COLUMNS=80 every host printed as "127.…" and two patches as "kgraft_patch_1_2…". Now a
    table when every cell fits whole, else one block a host: at any width, every value whole."""
    from lptui.cli import out
    from lptui.cli.fleet_render import cve_table, hosts_table, rollout_table
    from lptui.fleet.answers import cve_verdicts, rollouts
    from tests.fleet.test_state import FIX, fleet_of, healthy

    monkeypatch.setenv("COLUMNS", str(columns))
    hosts = [f"127.0.0.1:{40100 + i}" for i in range(3)]
    patches = [FIX, ("kgraft_patch_1_2_1", 1, 0, [], 1), ("kgraft_patch_1_2_2", 1, 1, [], 1)]
    fleet = fleet_of(*(healthy(h, patches=patches) for h in hosts))
    for table in (
        hosts_table(fleet),
        rollout_table(rollouts(fleet)),
        cve_table("CVE-2026-0815", cve_verdicts(fleet, "CVE-2026-0815")),
    ):
        out.console().print(table)
    printed = capsys.readouterr().out
    assert "…" not in printed and max(len(line) for line in printed.splitlines()) <= columns
    words = set(printed.replace("(", " ").replace(")", " ").replace(",", " ").split())
    assert (
        set(hosts) <= words
        and {"lp_fix", "kgraft_patch_1_2_1", "kgraft_patch_1_2_2", "6.1.0-28-amd64"} <= words
    )
    assert ("Top blocker" in printed) == (columns >= 120)  # the hosts table where it fits, else blocks
