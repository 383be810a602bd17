"""The fleet's reading without a Prometheus: partial and stale data never shown healthy, CVE verdicts
that never count the unreadable as fixed or exposed, and the HTTP client's bounds and secrets (against a
loopback server this test runs)."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lptui.fleet.answers import cve_verdicts, judge, rollouts
from lptui.fleet.prometheus import Answer, Auth, FleetError, Prometheus, Sample
from lptui.fleet.state import assemble

AT = 1_000_000.0


def s(name: str, host: str, value: float = 1, **labels: str) -> Sample:
    return {"__name__": name, "instance": host, "job": "lptui", **labels}, value


def healthy(host: str, *, release: str = "6.1.0-28-amd64", poll: float = AT - 2, patches=(), life=True):
    out = [
        s("up", host),
        s("lptui_last_poll_timestamp_seconds", host, poll),
        s("lptui_kernel_info", host, release=release, machine="x86_64"),
    ]
    for name, enabled, moving, cves, known in patches:
        out += [
            s("lptui_patch_info", host, patch=name, mechanism="livepatch", version="", srcversion=""),
            s("lptui_patch_enabled", host, enabled, patch=name, mechanism="livepatch"),
            s("lptui_patch_in_transition", host, moving, patch=name, mechanism="livepatch"),
        ]
        out += [s("lptui_patch_fixes", host, patch=name, cve=c) for c in cves]
        if life:
            out.append(s("lptui_patch_provenance_known", host, known, patch=name))
    if life:
        out += [
            s("lptui_kpatch_service", host, int(st == "enabled"), state=st) for st in ("enabled", "absent")
        ]
    return out


def fleet_of(*samples, blocked=()):
    """The answers Prometheus gives the round's queries: one per family, without the name."""
    families: dict[str, list[Sample]] = {}
    for x in [x for group in samples for x in group] + list(blocked):
        name = x[0]["__name__"].removeprefix("lptui_")
        labels = {k: v for k, v in x[0].items() if k not in ("__name__", "job")}
        families.setdefault(name, []).append((labels, x[1]))
    return assemble({name: Answer.of(AT, group) for name, group in families.items()})


FIX = ("lp_fix", 1, 0, ["CVE-2026-0815"], 1)


def test_partial_and_stale_hosts_are_never_healthy():
    fleet = fleet_of(
        healthy("ok:1", patches=[FIX]),
        healthy("old:1", poll=AT - 3600, patches=[FIX]),  # its exporter stopped polling an hour ago
        [s("up", "bare:1")],  # up, but no lptui series at all
        [s("up", "dead:1", 0)],
    )
    states = {h.name: h.state for h in fleet.hosts}
    assert states == {"ok:1": "ok", "old:1": "stale", "bare:1": "stale", "dead:1": "down"}
    assert [h.name for h in fleet.hosts][-1] == "ok:1"  # the silent ones before the healthy one
    verdicts = {v.host: v.verdict for v in cve_verdicts(fleet, "cve-2026-0815")}
    assert verdicts == {"ok:1": "fixed", "old:1": "unknown", "bare:1": "unknown", "dead:1": "unknown"}
    assert judge(fleet, warn=60, crit=300).code == 1  # not reporting: WARNING
    assert rollouts(fleet)[0].live == ("ok:1",)  # a stale host's copy is not counted live


def test_cve_verdicts_never_guess():
    fleet = fleet_of(
        healthy("fixed:1", patches=[FIX]),
        healthy("moving:1", patches=[("lp_fix", 1, 1, ["CVE-2026-0815"], 1)]),
        healthy("unread:1", patches=[("lp_other", 1, 0, [], 0)]),  # its file was not found: may fix it
        healthy("nolife:1", patches=[("lp_other", 1, 0, [], 1)], life=False),
        [
            *healthy("exposed:1", patches=[("lp_other", 1, 0, [], 1)]),
            s("lptui_patch_installed_fixes", "exposed:1", patch="lp_fix", cve="CVE-2026-0815"),
        ],
        healthy("other-release:1", release="6.12.0-1-amd64"),
    )
    v = {x.host: x for x in cve_verdicts(fleet, "CVE-2026-0815")}
    assert v["fixed:1"].verdict == "fixed" and v["moving:1"].verdict == "in transition"
    assert v["unread:1"].verdict == "unknown" and "lp_other" in v["unread:1"].why
    assert v["nolife:1"].verdict == "unknown"
    assert v["exposed:1"].verdict == "not fixed"
    assert "installed but not loaded: lp_fix" in v["exposed:1"].why
    assert "live on other hosts of 6.1.0-28-amd64" in v["exposed:1"].why
    assert v["other-release:1"].verdict == "not fixed" and v["other-release:1"].why == "no patch names it"
    from lptui.fleet.answers import exposed_first

    order = [x.verdict for x in exposed_first(cve_verdicts(fleet, "CVE-2026-0815"))]
    assert order == sorted(order, key=["not fixed", "in transition", "unknown", "fixed"].index)
    assert order[0] == "not fixed" and order[-1] == "fixed"


def test_stuck_longest_first_and_check_critical():
    stuck = [
        s(
            "lptui_transition_info",
            "a:1",
            patch="lp",
            direction="patching",
            mechanism="livepatch",
            age_source="kernel-log",
        ),
        s("lptui_transition_age_seconds", "a:1", 900),
    ]
    newer = [
        s(
            "lptui_transition_info",
            "b:1",
            patch="lp",
            direction="patching",
            mechanism="livepatch",
            age_source="kernel-log",
        ),
        s("lptui_transition_age_seconds", "b:1", 90),
    ]
    forced = [s("lptui_forced_this_boot", "c:1", 1)]
    fleet = fleet_of(
        healthy("d:1"),
        healthy("b:1") + newer,
        healthy("c:1") + forced,
        healthy("a:1") + stuck,
        blocked=[s("lptui_blocked_tasks", "a:1", 3, reason="stack_unreadable")],
    )
    assert [h.name for h in fleet.hosts] == ["a:1", "b:1", "c:1", "d:1"]
    assert fleet.hosts[0].top_blocker == "stack_unreadable"
    verdict = judge(fleet, warn=60, crit=300)
    assert verdict.code == 2 and "a:1" in verdict.summary and "forced this boot (c:1)" in verdict.summary
    assert judge(fleet_of(healthy("b:1") + newer), warn=60, crit=300).code == 1


def test_not_in_effect_and_post_load_health_judged_as_each_host_judges_itself():
    """Each host's `check`: WARNING for a patch not in effect or a kernel WARNING after it, CRITICAL for
    an oops after it; the fleet says the same of that host."""
    from lptui.fleet.answers import host_json

    def with_patch(host, *extra):
        return healthy(host, patches=[FIX]) + list(extra)

    effect = [s("lptui_patch_in_effect", "noeffect:1", 0, patch="lp_fix")]
    warned = [s("lptui_patch_post_load_problems", "warned:1", 1, patch="lp_fix", kind="warning")]
    oops = [s("lptui_patch_post_load_problems", "oops:1", 2, patch="lp_fix", kind="oops")]
    fine = [s("lptui_patch_in_effect", "fine:1", 1, patch="lp_fix")]
    fleet = fleet_of(
        with_patch("noeffect:1", *effect),
        with_patch("warned:1", *warned),
        with_patch("oops:1", *oops),
        with_patch("fine:1", *fine),
    )
    by = {h.name: h for h in fleet.hosts}
    assert by["noeffect:1"].patches[0].in_effect is False and by["fine:1"].patches[0].in_effect is True
    assert by["oops:1"].patches[0].health == ("oops",) and by["warned:1"].patches[0].health == ("warning",)
    assert host_json(by["noeffect:1"])["patches"][0]["in_effect"] is False
    verdict = judge(fleet, warn=60, crit=300)
    assert verdict.code == 2 and "oopsed after a patch went in (oops:1)" in verdict.summary
    assert "not in effect or a kernel WARNING after it (noeffect:1, warned:1)" in verdict.summary
    assert judge(fleet_of(with_patch("noeffect:1", *effect)), warn=60, crit=300).code == 1
    assert judge(fleet_of(with_patch("fine:1", *fine)), warn=60, crit=300).code == 0


def test_each_host_judged_by_its_own_checks_rules():
    """Before: a host with a patch module loaded and its patch gone was "ok" in the fleet and CRITICAL in
    its own check; an aborted Ksplice update paged as a stuck transition where its check says WARNING."""
    from lptui.fleet.answers import host_json

    gone = [*healthy("gone:1"), s("lptui_inactive_modules", "gone:1", 1)]
    info = {"patch": "q2v9xw1e", "direction": "patching", "mechanism": "ksplice", "age_source": "observed"}
    ksplice = [
        *healthy("ks:1"),
        s("lptui_transition_info", "ks:1", **info),
        s("lptui_transition_age_seconds", "ks:1", 4000),
        s("lptui_transition_aborted", "ks:1", cause="code_busy"),
    ]
    fleet = fleet_of(gone, ksplice)
    by = {h.name: host_json(h)["check"] for h in fleet.hosts}
    assert by == {"gone:1": "CRITICAL", "ks:1": "WARNING"}
    verdict = judge(fleet_of(ksplice), warn=60, crit=300)
    assert verdict.code == 1 and "stuck" not in verdict.summary
    assert "Ksplice update aborted (ks:1)" in verdict.summary
    verdict = judge(fleet, warn=60, crit=300)
    assert verdict.code == 2 and "patch module loaded and its patch gone (gone:1)" in verdict.summary


def test_rollout_counts_n_of_m_understands_cumulative_patches_and_removals():
    """Before: no "N of M"; hosts on a cumulative patch said to lack the patches it replaced; a patch
    being removed counted as rolling out."""
    from lptui.fleet.cells import rollout_cells

    old = ("lp_old", 1, 0, [], 1)
    cumul = [s("lptui_patch_replace", "cumul:1", 1, patch="lp_cumul", mechanism="livepatch")]
    info = {
        "patch": "lp_old",
        "direction": "unpatching",
        "mechanism": "livepatch",
        "age_source": "kernel-log",
    }
    removing = [s("lptui_transition_info", "rm:1", **info), s("lptui_transition_age_seconds", "rm:1", 5)]
    fleet = fleet_of(
        healthy("a:1", patches=[old]),
        healthy("b:1"),
        [*healthy("cumul:1", patches=[("lp_cumul", 1, 0, [], 1)]), *cumul],
        [*healthy("rm:1", patches=[("lp_old", 0, 1, [], 1)]), *removing],
    )
    by = {r.patch: r for r in rollouts(fleet)}
    r = by["lp_old"]
    assert r.live == ("a:1",) and r.hosts == 4 and r.removing == ("rm:1",) and r.in_transition == ()
    assert r.lacking == ("b:1",)  # not cumul:1: its cumulative patch replaced every other one
    assert by["lp_cumul"].lacking == ("a:1", "b:1", "rm:1")  # a cumulative patch: lacked by every other host
    assert [text for text, _ in rollout_cells(r)] == [
        "lp_old",
        "1 of 4",
        "0",
        "1",
        "0",
        "1 of the same release",
    ]


class Server(BaseHTTPRequestHandler):
    body = b""
    status = 200
    seen: list[str | None] = []

    paths: list[str] = []

    def do_GET(self) -> None:
        Server.seen.append(self.headers.get("Authorization"))
        Server.paths.append(self.path)
        self.send_response(Server.status)
        self.send_header("Content-Length", str(len(Server.body)))
        self.end_headers()
        self.wfile.write(Server.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Server.seen.clear()
    Server.paths.clear()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_a_huge_answer_is_refused_within_its_bound(server):
    Server.status, Server.body = (
        200,
        b'{"status":"success","data":{"resultType":"vector","result":[' + b" " * 5000 + b"]}}",
    )
    with pytest.raises(FleetError, match="answered more than"):
        Prometheus(server, limit=4096).query("up")
    assert Prometheus(server, limit=1 << 20).query("up").items == ()


def test_credentials_are_sent_and_never_shown(server):
    Server.status, Server.body = 401, b'{"status":"error","errorType":"unauthorized","error":"no"}'
    url = server.replace("http://", "http://admin:url-secret@")
    with pytest.raises(FleetError) as caught:
        Prometheus(url).query("up")
    assert "url-secret" not in str(caught.value) and "admin" not in str(caught.value)
    assert "unauthorized" in str(caught.value) and "bearer token" in str(caught.value)
    assert Server.seen[-1].startswith("Basic ")
    with pytest.raises(FleetError):
        Prometheus(server, Auth(bearer_token="tok-secret")).query("up")
    assert Server.seen[-1] == "Bearer tok-secret"


def test_a_query_error_and_a_non_prometheus_answer(server):
    Server.status, Server.body = (
        400,
        json.dumps({"status": "error", "errorType": "bad_data", "error": "parse"}).encode(),
    )
    with pytest.raises(FleetError, match="bad_data: parse"):
        Prometheus(server).query("(")
    Server.status, Server.body = 200, b"<html>a login page</html>"
    with pytest.raises(FleetError, match="is it Prometheus"):
        Prometheus(server).query("up")


def test_one_round_one_query_per_family_all_at_ups_instant(server):
    """Whatever the number of hosts, a refresh is one query per family; every family after `up` is
    evaluated at `up`'s time, so the round is one instant of the fleet (not 19 moments apart)."""
    from urllib.parse import parse_qs, urlsplit

    from lptui.fleet.queries import checks
    from lptui.fleet.state import FAMILIES, read_fleet

    result = [{"metric": {"instance": f"h{i}:9839"}, "value": [1234.5, "1"]} for i in range(50)]
    Server.status = 200
    Server.body = json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()
    fleet = read_fleet(Prometheus(server))
    assert len(fleet.hosts) == 50 and fleet.at == 1234.5
    asked = [parse_qs(urlsplit(path).query) for path in Server.paths]
    assert len(asked) == len(FAMILIES) + len(checks("lptui"))  # and the checks of the hosts themselves
    assert asked[0]["query"][0].startswith("max by (instance) (up{") and "time" not in asked[0]
    assert all(q["time"] == ["1234.500"] for q in asked[1:])
    assert len({q["query"][0] for q in asked}) == len(asked)


def test_the_drill_down_escapes_what_a_host_controls():
    """A host names its own patches: the drill-down shows control characters escaped, never raw."""
    import asyncio

    from textual.app import App
    from textual.widgets import DataTable

    from lptui.fleet.answers import console_command
    from lptui.tui.fleet.host import FleetHostScreen

    evil = "lp\x1b[2J\u202eevil"
    fleet = fleet_of(healthy("web:1", patches=[(evil, 1, 0, ["CVE-2026-0815"], 1)]))

    class One(App):
        def on_mount(self) -> None:
            self.push_screen(FleetHostScreen(fleet.hosts[0]))

    async def run() -> str:
        async with One().run_test(size=(120, 30)) as pilot:
            await pilot.pause(0.2)
            table = pilot.app.screen.query_one("#host-patches", DataTable)
            return str(table.get_row_at(0)[0])

    shown = asyncio.run(run())
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b" in shown
    assert console_command("[2001:db8::7]:9839") == "ssh 2001:db8::7 sudo lptui"
    assert (
        console_command("web-7:9839") == "ssh web-7 sudo lptui"
        and console_command("web-7") == "ssh web-7 sudo lptui"
    )


def test_a_host_label_that_is_no_label_name_is_one_line():
    from lptui.fleet.state import read_fleet

    with pytest.raises(FleetError, match="not a Prometheus label name"):
        read_fleet(Prometheus("http://127.0.0.1:1"), host_label="x) or vector(1) #")


def test_odd_values_and_misshapen_samples(server):
    """NaN and infinities are no count; a sample without Prometheus's shape refuses the answer in one line."""
    from lptui.fleet.state import read_fleet

    odd = [
        *healthy("odd:1"),
        s(
            "lptui_transition_info",
            "odd:1",
            patch="lp",
            direction="patching",
            mechanism="livepatch",
            age_source="kernel-log",
        ),
        s("lptui_transition_tasks_pending", "odd:1", float("inf")),
        s("lptui_transition_tasks", "odd:1", float("nan")),
        s("lptui_inactive_modules", "odd:1", float("-inf")),
    ]
    fleet = fleet_of(odd, blocked=[s("lptui_blocked_tasks", "odd:1", float("inf"), reason="running")])
    t = fleet.hosts[0].transition
    assert t.tasks_pending is None and t.tasks_total is None and fleet.hosts[0].inactive_modules is None
    assert fleet.hosts[0].blockers == (("running", 0),)
    Server.status = 200
    Server.body = (
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a"}}]}}'
    )
    with pytest.raises(FleetError, match="is it Prometheus"):
        read_fleet(Prometheus(server))
    Server.body = (
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":"x","value":[1,"1"]}]}}'
    )
    with pytest.raises(FleetError, match="is it Prometheus"):
        read_fleet(Prometheus(server))


FAMILY_NAMES = (
    "lptui_last_poll_timestamp_seconds",
    "lptui_kernel_info",
    "lptui_patch_info",
    "lptui_patch_enabled",
    "lptui_patch_in_transition",
    "lptui_transition_info",
    "lptui_transition_age_seconds",
    "lptui_transition_tasks_pending",
    "lptui_patch_fixes",
    "lptui_blocked_tasks",
    "lptui_kpatch_service",
    "lptui_forced_this_boot",
)


def _exported():
    from hypothesis import strategies as st

    from tests.hostile import hostile_text

    value = st.sampled_from([float("nan"), float("inf"), float("-inf"), -1.0, 0.0, 1.0, AT - 5, 1e308])
    labels = st.fixed_dictionaries(
        {},
        optional={
            k: hostile_text()
            for k in ("patch", "release", "cve", "reason", "state", "direction", "mechanism", "age_source")
        },
    )
    sample = st.builds(
        lambda name, host, v, extra: s(name, host, v, **extra),
        st.sampled_from(FAMILY_NAMES),
        st.sampled_from(["a:1", "b:1"]) | hostile_text(),
        value,
        labels,
    )
    return st.lists(sample, max_size=30)


def test_any_exported_series_give_a_fleet_that_never_says_ok_on_a_bad_value():
    """What hosts export, generated: any labels, NaN, infinities, negative and huge values. The fleet is
    read, rendered and judged without an exception; a host whose time is not a number is never counted
    healthy by `fleet check`."""
    from hypothesis import HealthCheck, given, settings

    from lptui.cli.fleet_render import cve_table, hosts_table, rollout_table
    from lptui.cli.out import console
    from lptui.fleet.answers import cve_verdicts, judge, rollouts
    from tests.hostile import controls_in

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(samples=_exported())
    def check(samples) -> None:
        fleet = fleet_of([s("up", "a:1"), s("up", "b:1"), *samples])
        verdict = judge(fleet, warn=60, crit=300)
        for h in fleet.hosts:
            bad = any("bad value" in p for p in h.problems)
            if bad and h.reporting:
                assert verdict.code != 0, (h, verdict)
        text = io.StringIO()
        out = console()
        out.file = text
        out.print(
            hosts_table(fleet),
            rollout_table(rollouts(fleet)),
            cve_table("CVE-1", cve_verdicts(fleet, "CVE-1")),
        )
        assert not controls_in(text.getvalue())

    check()
