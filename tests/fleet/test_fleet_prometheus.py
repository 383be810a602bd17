"""The fleet on real parts: Debian's Prometheus scraping six `lptui --demo SCENARIO metrics --listen`
exporters and one that is down; `lptui fleet` must say of each host what that host's own `status --json`
and `tasks --json` say (the differential keeps the fleet honest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.watch.test_prometheus import free_port, get, need, wait_for

SCENARIOS = ("stuck", "idle", "replace", "unpatch", "kgraft", "ksplice")


def lptui(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "lptui", *argv], capture_output=True, text=True, timeout=timeout, env=env
    )


STORES = ("prometheus", "victoria-metrics")


class RealFleet:
    def __init__(
        self, tmp, *, rules: str | None = None, alertmanager: str | None = None, store: str = "prometheus"
    ) -> None:
        self.store = store
        self.prometheus = need(store)
        self.ports = {s: free_port() for s in SCENARIOS}
        self.dead = free_port()  # nothing listens there: its `up` is 0
        self.web = free_port()
        self.procs: list[subprocess.Popen] = []
        for scenario, port in self.ports.items():
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "lptui",
                        "--demo",
                        scenario,
                        "metrics",
                        "--listen",
                        f"127.0.0.1:{port}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        targets = ", ".join(f"'127.0.0.1:{p}'" for p in [*self.ports.values(), self.dead])
        config = (
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: lptui\n    static_configs:\n      - targets: [{targets}]\n"
        )
        if rules:
            config += f"rule_files: ['{rules}']\n"
        if alertmanager:
            config += (
                f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n"
            )
        (tmp / "prometheus.yml").write_text(config)
        if store == "victoria-metrics":  # single-node: it scrapes the same file and answers the same API
            argv = [
                self.prometheus,
                f"-promscrape.config={tmp / 'prometheus.yml'}",
                f"-storageDataPath={tmp / 'data'}",
                f"-httpListenAddr=127.0.0.1:{self.web}",
                "-search.latencyOffset=0s",  # answer with the last second's samples, as Prometheus does
                "-promscrape.config.strictParse=false",  # evaluation_interval: vmalert's, not its own
            ]
        else:
            argv = [
                self.prometheus,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.web}",
            ]
        self.procs.append(
            subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=(tmp / "prometheus.log").open("w"),
            )
        )
        self.url = f"http://127.0.0.1:{self.web}"

        def scraped() -> bool:
            data = json.loads(get(f"{self.url}/api/v1/query?query=count(lptui_kpatch_service%3D%3D1)"))
            result = data["data"]["result"]
            return bool(result) and result[0]["value"][1] == str(len(SCENARIOS))

        wait_for(scraped, 120, "Prometheus to scrape every exporter")

    def host(self, scenario: str) -> str:
        return f"127.0.0.1:{self.ports[scenario]}"

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module", params=STORES)
def fleet(tmp_path_factory, request):
    """The demo fleet in Prometheus, then in VictoriaMetrics single-node (a store for fleets past one
    Prometheus): every test that takes it runs on both."""
    real = RealFleet(tmp_path_factory.mktemp("fleet"), store=request.param)
    yield real
    real.stop()


def fleet_json(fleet, *question: str, code: int | tuple[int, ...] = 0) -> dict:
    out = lptui("fleet", "--prometheus", fleet.url, *question, "--json")
    codes = code if isinstance(code, tuple) else (code,)
    assert out.returncode in codes and out.stderr == "", (out.returncode, out.stderr)
    return json.loads(out.stdout)


def test_hosts_worst_first_the_dead_one_down(fleet):
    hosts = fleet_json(fleet, "hosts")["hosts"]
    names = [h["host"] for h in hosts]
    assert len(hosts) == 7 and set(names) == {*map(fleet.host, SCENARIOS), f"127.0.0.1:{fleet.dead}"}
    assert hosts[0]["host"] == fleet.host("stuck")  # stuck the longest: 2 h 14 m
    assert hosts[0]["transition"]["age_seconds"] >= 8040 and hosts[0]["top_blocker"]
    dead = next(h for h in hosts if h["host"] == f"127.0.0.1:{fleet.dead}")
    assert dead["state"] == "down" and dead["exporter_up"] is False and dead["release"] is None
    assert all(h["state"] != "ok" or h["poll_age_seconds"] < 30 for h in hosts)
    text = lptui("fleet", "--prometheus", fleet.url, "hosts", timeout=60)
    assert (
        text.returncode == 0 and "down" in text.stdout and "stuck" in text.stdout
    )  # 2 h 14 m: not merely in transition


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_host_as_its_own_status_says(fleet, scenario):
    """The differential: what Prometheus holds of a host equals that host's own reading."""
    host = next(h for h in fleet_json(fleet, "hosts")["hosts"] if h["host"] == fleet.host(scenario))
    status = json.loads(lptui("--demo", scenario, "status", "--json").stdout)
    tasks = json.loads(lptui("--demo", scenario, "tasks", "--json").stdout)
    assert host["state"] in ("ok", "in transition") and host["exporter_up"] is True
    assert host["release"] == status["kernel"]["release"] and host["machine"] == status["kernel"]["machine"]
    # one verdict per host, the host's own: its `lptui check` and the fleet's reading of its series
    own_check = lptui("--demo", scenario, "check")
    assert host["check"] == own_check.stdout.split()[1], (host["check"], own_check.stdout)
    if scenario == "replace":  # its transition moves on in real time: the exporter's demo started earlier
        assert {p["name"] for p in host["patches"]} <= {p["name"] for p in status["patches"]}
        return
    mine = {p["name"]: (p["enabled"], p["in_transition"]) for p in host["patches"]}
    assert mine == {p["name"]: (p["enabled"], p["transition"]) for p in status["patches"]}
    cves = {p["name"]: p["cves"] for p in host["patches"]}
    assert cves == {p["name"]: (p["provenance"] or {}).get("cves", []) for p in status["patches"]}
    t, own = host["transition"], status["transition"]
    assert (t is None) == (own is None)
    if own is not None:
        assert (t["patch"], t["direction"], t["mechanism"]) == (
            own["patch"],
            own["direction"],
            own["mechanism"],
        )
        assert t["tasks_pending"] == (own["tasks_pending"] or 0) and t["age_source"] == own["age_source"]
        assert own["age_seconds"] - 5 <= t["age_seconds"] <= own["age_seconds"] + 600  # both in real time
        pending = Counter(x["reason_code"] for x in tasks["tasks"] if x["pending"])
        assert host["blockers"] == dict(pending)
    life = status["life_cycle"]
    assert host["installed_not_loaded"] == sorted(set(life["installed_not_loaded"]))
    assert host["kpatch_service"] == (life["boot_service"] or "absent")
    assert host["forced_this_boot"] == status["forced_this_boot"]["forced"]


def test_cve_names_who_has_it_live_and_who_does_not(fleet):
    # never 0: lptui cannot tell about the dead host (6), and once the replace demo's cumulative patch has
    # replaced the CVE patch that host is "not fixed" (4), as its own `status --cve` says
    data = fleet_json(fleet, "cve", "CVE-2026-0815", code=(4, 6))
    verdicts = {v["host"]: v for v in data["hosts"]}
    assert data["exit"] == (4 if "not fixed" in {v["verdict"] for v in verdicts.values()} else 6)
    assert len(verdicts) == 7
    assert verdicts[f"127.0.0.1:{fleet.dead}"]["verdict"] == "unknown"
    for scenario in SCENARIOS:
        status = json.loads(lptui("--demo", scenario, "status", "--cve", "CVE-2026-0815", "--json").stdout)
        v = verdicts[fleet.host(scenario)]
        if status["live_patched"]:
            assert v["verdict"] == "fixed", (scenario, v, status)
        else:
            assert v["verdict"] != "fixed", (scenario, v, status)
    assert any(v["verdict"] == "fixed" for v in verdicts.values())
    assert any(
        v["verdict"] in ("not fixed", "unknown") and v["host"] != f"127.0.0.1:{fleet.dead}"
        for v in verdicts.values()
    )
    done = lptui("fleet", "--prometheus", fleet.url, "cve", "cve-2026-0815")
    assert "CVE-2026-0815" in done.stdout and "fixed" in done.stdout
    assert done.returncode in (4, 6)


def test_rollout_by_patch(fleet):
    # hosts first: the demo hosts' transitions only end (in real time), so those still moving when the
    # patches are read were moving when the hosts were
    moving = {h["host"] for h in fleet_json(fleet, "hosts")["hosts"] if h["transition"]}
    patches = {p["patch"]: p for p in fleet_json(fleet, "patches")["patches"]}
    cve = patches["livepatch_cve_2026_0815"]
    assert fleet.host("idle") in cve["live"] and fleet.host("kgraft") not in cve["live"]
    assert {h for p in patches.values() for h in p["in_transition"]} <= moving


def test_patch_history_from_the_store(fleet):
    """`fleet patches --since`: each patch's curve (hosts live, step by step) ends at its hosts live now,
    every host live now went live in the window, and its transitions across the fleet are as many as
    the demo hosts' own exporters counted (each host's `lptui metrics` histogram, summed)."""
    from prometheus_client.parser import text_string_to_metric_families

    def own_counts() -> dict[str, int]:
        """Each demo exporter's own histogram counts, read from it directly (the demos move in real time:
        a fresh `--demo replace metrics` would not be where the running one is)."""
        own: Counter = Counter()
        for port in fleet.ports.values():
            text = get(f"http://127.0.0.1:{port}/metrics")
            for family in text_string_to_metric_families(text):
                if family.name == "lptui_transition_duration_seconds":
                    for sample in family.samples:
                        if sample.name.endswith("_count"):
                            own[sample.labels["patch"]] += int(sample.value)
        return dict(own)

    # the replace demo's transition may end between two reads; VictoriaMetrics aligns a range query's
    # points to its step (20 s here): a store younger than that has no point yet
    for _ in range(30):
        data = fleet_json(fleet, "patches", "--since", "10m")
        patches = {p["patch"]: p for p in data["patches"]}
        if not patches["livepatch_cve_2026_0815"]["curve"]:
            time.sleep(2)
            continue
        counted = {
            name: p["durations"]["transitions"]
            for name, p in patches.items()
            if p["durations"]["transitions"]
        }
        own = {name: n for name, n in own_counts().items() if name in patches}  # those loaded now
        if counted == own:
            break
        time.sleep(2)
    assert data["since_seconds"] == 600 and counted == own, (counted, own)
    cve = patches["livepatch_cve_2026_0815"]
    # the curve counts what the recording rule does: every host with the patch enabled and its transition
    # complete, as `hosts` says of each
    hosts = fleet_json(fleet, "hosts")["hosts"]
    live = sum(
        1
        for h in hosts
        for p in h["patches"]
        if p["name"] == "livepatch_cve_2026_0815" and p["enabled"] and p["in_transition"] is False
    )
    last = cve["curve"][-1][1]
    if fleet.store == "prometheus":  # its last point is the read's own instant
        assert last == live, (cve, live)
    else:  # VictoriaMetrics aligns the points to the step: its last may be up to 20 s old, and the
        # replace demo's cumulative patch may have replaced this one since
        assert 1 <= last <= len(SCENARIOS) and live >= 1, (cve, live)
    assert set(cve["live"]) <= set(cve["went_live"]), {p["patch"]: p["went_live"] for p in patches.values()}
    assert all(
        0 <= p["durations"]["p50_seconds"] <= p["durations"]["p90_seconds"]
        for p in patches.values()
        if p["durations"]["transitions"]
    )
    text = lptui("fleet", "--prometheus", fleet.url, "patches", "--since", "10m")
    assert text.returncode == 0 and "Live over time" in text.stdout and "p50 / p90" in text.stdout
    bad = lptui("fleet", "--prometheus", fleet.url, "patches", "--since", "forever")
    assert bad.returncode == 2 and "--since 'forever'" in bad.stderr and bad.stderr.count("\n") == 1


def test_fleet_check_is_critical_with_the_stuck_host(fleet):
    out = lptui("fleet", "--prometheus", fleet.url, "check")
    assert (
        out.returncode == 2
        and out.stdout.startswith("FLEET CRITICAL - ")
        and fleet.host("stuck") in out.stdout
    )
    out = lptui("fleet", "--prometheus", "http://127.0.0.1:1", "check")
    assert out.returncode == 3 and out.stdout.startswith("FLEET UNKNOWN - cannot reach Prometheus")
    out = lptui("fleet", "--prometheus", "http://127.0.0.1:1", "check", "--json")  # JSON in every state
    assert out.returncode == 3 and json.loads(out.stdout)["status"] == "UNKNOWN"


def test_bad_prometheus_input_is_one_line(fleet, tmp_path):
    cases = {
        "http://127.0.0.1:1": "cannot reach Prometheus",
        f"http://127.0.0.1:{fleet.ports['idle']}": "is it Prometheus?",  # an exporter, not Prometheus
        "ftp://example": "expected http(s)://",
    }
    for url, words in cases.items():
        out = lptui("fleet", "--prometheus", url, "hosts")
        assert (
            out.returncode == 1 and out.stdout == "" and out.stderr.count("\n") == 1 and words in out.stderr
        ), out
    out = lptui("fleet", "--prometheus", fleet.url, "--job", "nothing-here", "hosts")
    assert out.returncode == 1 and "no lptui series" in out.stderr and out.stderr.count("\n") == 1
    out = lptui("fleet", "--prometheus", fleet.url, "--job", "(", "hosts")  # a regex Prometheus rejects
    assert out.returncode == 1 and "refused the query" in out.stderr and out.stderr.count("\n") == 1
    secret = tmp_path / "password"
    secret.write_text("hunter2-secret\n")
    out = lptui(
        "fleet",
        "--prometheus",
        "http://admin:url-secret@127.0.0.1:1",
        "--prometheus-password-file",
        str(secret),
        "--prometheus-username",
        "admin",
        "hosts",
    )
    assert out.returncode == 1 and "secret" not in out.stderr and "hunter2" not in out.stderr
    out = lptui("fleet", "--prometheus", fleet.url, "cve", "not-a-cve")
    assert out.returncode == 2 and "not a CVE id" in out.stderr


def test_the_fleet_reads_only():
    """No action reaches a host from here: the fleet's code holds no write, and its parser no action."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "lptui"
    for path in [*(root / "fleet").glob("*.py"), root / "cli/fleet_cmd.py", root / "cli/fleet_render.py"]:
        text = path.read_text()
        assert "Actions" not in text and "write_attr" not in text and 'method="POST"' not in text, path
    help_text = lptui("fleet", "--help").stdout
    assert all(word not in help_text for word in ("revert", "force", "unload", "load "))


async def test_the_fleet_console_on_the_real_prometheus(fleet):
    from textual.widgets import DataTable, Static

    from lptui.fleet.prometheus import Prometheus
    from lptui.tui.fleet.app import FleetApp
    from lptui.tui.fleet.host import FleetHostScreen

    own = json.loads(lptui("--demo", "stuck", "status", "--json").stdout)
    tasks = json.loads(lptui("--demo", "stuck", "tasks", "--json").stdout)

    app = FleetApp(Prometheus(fleet.url), job="lptui", host_label="instance", stale=300, interval=1)
    async with app.run_test(size=(160, 40)) as pilot:
        hosts = app.query_one("#hosts", DataTable)
        for _ in range(100):
            await pilot.pause(0.1)
            if hosts.row_count == 7:
                break
        assert hosts.row_count == 7
        assert hosts.coordinate_to_cell_key((0, 0)).row_key.value == fleet.host("stuck")  # worst first
        assert "7 hosts; " in str(app.query_one("#fleet-status", Static).render())
        assert app.focused is hosts  # Enter works at once: focus on the table, not the tab bar
        assert "7 of 7 hosts, worst first" in str(app.query_one("#hosts-shown", Static).render())
        await pilot.press("slash", *"stuck", "enter")  # the filter: words any cell holds
        for _ in range(50):
            await pilot.pause(0.1)
            if hosts.row_count == 1:
                break
        assert hosts.row_count == 1 and hosts.get_row_at(0)[0].plain == fleet.host("stuck")
        assert app.focused is hosts and '1 of 1 hosts matching "stuck"' in str(
            app.query_one("#hosts-shown", Static).render()
        )
        app.query_one("#filter").value = ""
        await pilot.press("s")  # sort by the first column: the hosts by name
        for _ in range(50):
            await pilot.pause(0.1)
            if hosts.row_count == 7 and "sorted by Host" in str(
                app.query_one("#hosts-shown", Static).render()
            ):
                break
        names = [hosts.get_row_at(i)[0].plain for i in range(7)]
        assert names == sorted(names), names
        await pilot.press(
            "s", *["s"] * (len(app.view.columns["hosts"]) - 1)
        )  # past the last column: worst first
        for _ in range(50):
            await pilot.pause(0.1)
            if "worst first" in str(app.query_one("#hosts-shown", Static).render()):
                break
        assert hosts.coordinate_to_cell_key((0, 0)).row_key.value == fleet.host("stuck")
        title = str(app.query_one("#tabs").get_tab("tab-hosts").label)
        assert title.startswith("Hosts (") and "1 down" in title and "stuck" in title, title
        await pilot.press("2")
        assert app.query_one("#tabs").active == "tab-patches" and app.focused.id == "patches"
        await pilot.press("1")
        assert app.query_one("#tabs").active == "tab-hosts" and app.focused is hosts
        await pilot.press("c")
        for ch in "CVE-2026-0815":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause(0.2)
        cve = app.query_one("#cve", DataTable)
        assert cve.row_count == 7
        label = str(app.query_one("#tabs").get_tab("tab-cve").label)
        assert label.startswith("CVE (") and " not fixed)" in label, label  # the exposed count, short
        summary = str(app.query_one("#cve-shown", Static).render())
        assert summary.startswith("CVE-2026-0815: ") and " fixed" in summary, summary  # the whole summary
        verdicts = {str(cve.get_row_at(i)[1]) for i in range(7)}
        assert "fixed" in verdicts and "unknown" in verdicts
        app.query_one("#tabs").active = "tab-hosts"
        hosts.focus()
        hosts.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, FleetHostScreen)
        first = screen.host_record
        for _ in range(50):  # the drill-down is read again with the table (interval 1 s)
            await pilot.pause(0.1)
            if screen.reads and screen.host_record is not first:
                break
        assert screen.host_record is not first and screen.host_record.name == first.name
        console = str(screen.query_one("#host-console", Static).render())
        assert "ssh 127.0.0.1 sudo lptui" in console
        # the host console's panels, saying what the stuck demo's own status --json says
        line = str(screen.query_one("#host-transition-line", Static).render())
        t = own["transition"]
        assert t["patch"] in line and "stuck for 2 h" in line
        switched = t["tasks_total"] - t["tasks_pending"]
        assert (
            f"{switched} of {t['tasks_total']} tasks switched" in line
            and f"{t['tasks_pending']} pending" in line
        )
        blockers = screen.query_one("#host-blockers", DataTable)
        by_reason = Counter(x["reason_code"] for x in tasks["tasks"] if x["pending"])
        rows = [blockers.get_row_at(i) for i in range(blockers.row_count)]
        shown = {str(row[2]): int(str(row[1])) for row in rows}
        assert shown == dict(by_reason)
        from lptui.core.model import Reason
        from lptui.tui.fmt import WHAT_TO_DO

        assert all(
            str(row[3]) == WHAT_TO_DO[Reason(str(row[2]))] for row in rows
        )  # the host console's advice
        patches = screen.query_one("#host-patches", DataTable)
        names = {str(patches.get_row_at(i)[0]) for i in range(patches.row_count)}
        assert {p["name"] for p in own["patches"]} <= names
        moving = next(i for i in range(patches.row_count) if str(patches.get_row_at(i)[0]) == t["patch"])
        assert str(patches.get_row_at(moving)[2]) == "IN TRANSITION"
        await pilot.press("escape")
        assert not isinstance(app.screen, FleetHostScreen)


@pytest.mark.parametrize("store", STORES)
def test_a_down_host_keeps_its_last_known_state(tmp_path, store):
    """The stuck demo host's exporter killed: it is down, and says what its series last said (its kernel,
    its stuck transition, its last poll seconds ago, not "never"), read with `last_over_time`."""
    real = RealFleet(tmp_path, store=store)
    try:
        own = json.loads(lptui("--demo", "stuck", "status", "--json").stdout)
        real.procs[0].kill()  # the first exporter: the stuck scenario's
        name = real.host("stuck")

        def down() -> dict | None:
            hosts = fleet_json(real, "hosts")["hosts"]
            host = next(h for h in hosts if h["host"] == name)
            return host if host["state"] == "down" else None

        wait_for(down, 60, "the killed exporter to be down")
        host = down()
        assert host is not None and host["check"] == "UNKNOWN"  # never believed as its state now
        known = host["last_known"]
        assert known is not None and known["release"] == own["kernel"]["release"], host
        assert known["transition"]["patch"] == own["transition"]["patch"]
        assert known["transition"]["tasks_pending"] == own["transition"]["tasks_pending"]
        assert 0 <= known["poll_age_seconds"] < 60
        dead = next(h for h in fleet_json(real, "hosts")["hosts"] if h["host"] == f"127.0.0.1:{real.dead}")
        assert dead["last_known"] is None  # never scraped: nothing to keep
        text = lptui("fleet", "--prometheus", real.url, "hosts").stdout
        assert "down, was stuck" in text, text
    finally:
        real.stop()


async def test_the_fleet_console_says_when_prometheus_is_gone():
    from textual.widgets import Static

    from lptui.fleet.prometheus import Prometheus
    from lptui.tui.fleet.app import FleetApp

    app = FleetApp(
        Prometheus("http://127.0.0.1:1"), job="lptui", host_label="instance", stale=300, interval=1
    )
    async with app.run_test() as pilot:
        text = ""
        for _ in range(50):
            await pilot.pause(0.1)
            text = str(app.query_one("#fleet-status", Static).render())
            if "cannot reach" in text:
                break
        assert "cannot reach Prometheus at http://127.0.0.1:1" in text


def test_the_recording_rules_answer_the_fleets_questions_on_the_real_prometheus(fleet):
    """Every recording rule's query (contrib/mixin/rules.yml) run on the real Prometheus over the
    demo fleet, each answer checked against the fleet's own: hosts in transition by patch, hosts live per
    patch and release, hosts fixed per CVE."""
    from lptui.fleet.prometheus import Prometheus

    exprs = recording_rules()
    assert len(exprs) == 3 and all(exprs.values()), exprs
    prom = Prometheus(fleet.url)

    def both() -> tuple[tuple, tuple]:
        """The rules' answers and the fleet's, read back to back (the demo hosts move in real time: a
        transition may end between two reads, so the comparison is retried until both saw the same)."""
        hosts = fleet_json(fleet, "hosts")["hosts"]
        verdicts = fleet_json(fleet, "cve", "CVE-2026-0815", code=(4, 6))["hosts"]
        moving = {
            labels["patch"]: value
            for labels, value in prom.query(exprs["lptui:hosts_in_transition:count"]).samples
        }
        live = {
            (labels["patch"], labels["release"]): value
            for labels, value in prom.query(exprs["lptui:hosts_live:count"]).samples
        }
        fixed = {
            labels["cve"]: value for labels, value in prom.query(exprs["lptui:hosts_fixed:count"]).samples
        }
        ours = (
            dict(Counter(h["transition"]["patch"] for h in hosts if h["transition"])),
            dict(
                Counter(
                    (p["name"], h["release"])
                    for h in hosts
                    for p in h["patches"]
                    if p["enabled"] and p["in_transition"] is False
                )
            ),
            sum(v["verdict"] == "fixed" for v in verdicts),
        )
        return (moving, live, fixed.get("CVE-2026-0815")), ours

    for _ in range(10):
        rules_say, fleet_says = both()
        if rules_say == fleet_says:
            break
        time.sleep(2)
    assert rules_say == fleet_says and rules_say[1] and rules_say[2] > 0, (rules_say, fleet_says)


def recording_rules() -> dict[str, str]:
    """contrib/mixin/rules.yml's rules: `- record: NAME` then `expr:` on one line or as a `|`
    block (the file is ours: no YAML library needed to read it)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "contrib/mixin/rules.yml").read_text()
    found = re.findall(r"- record: (\S+)\n\s+expr: (?:\|\n((?:\s{10,}.*\n)+)|(.+)\n)", text)
    return {name: (block or line).strip() for name, block, line in found}


def test_every_dashboard_panel_answers_on_the_real_prometheus(fleet):
    """contrib/mixin/dashboards/lptui-fleet.json: each panel's queries (the dashboard's $job set to the
    fleet's job, recording rules expanded to their expressions: this Prometheus does not record them) run
    on the real Prometheus over the demo fleet; each answer checked. No Grafana here: not rendered."""
    from pathlib import Path

    from lptui.fleet.prometheus import Prometheus

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "contrib/mixin/dashboards/lptui-fleet.json").read_text()
    )
    rules = recording_rules()
    prom = Prometheus(fleet.url)
    answers = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$job", "lptui")
            for name, rule in rules.items():
                expr = expr.replace(name, f"({rule})")
            answers[(panel["title"], target["refId"])] = prom.query(expr).samples  # an error raises
    stuck = answers[("Hosts stuck in a transition", "A")]
    assert stuck[0][0]["instance"] == fleet.host("stuck") and stuck[0][1] >= 8040  # sort_desc: the oldest
    assert answers[("Hosts not reporting", "A")][0][1] == 1  # the dead one
    live = answers[("Rollout: hosts live per patch and release", "A")]
    assert any(labels["patch"] == "livepatch_cve_2026_0815" and value >= 1 for labels, value in live)
    fixed = {labels["cve"]: value for labels, value in answers[("CVE coverage: hosts fixed per CVE", "A")]}
    assert fixed.get("CVE-2026-0815", 0) >= 1
    medians = answers[("Transition durations (median, 90th percentile)", "A")]
    assert medians and all(value >= 0 for _, value in medians)
