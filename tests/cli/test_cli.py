"""The command line: JSON contract, exit codes, one-line errors."""

import json

import pytest

from lptui.cli.main import main

STATUS_KEYS = {"kernel", "features", "transition", "patches", "inactive_modules"}
KERNEL_KEYS = {"release", "version", "machine", "livepatch_supported", "tainted", "taint_flags"}
FEATURE_KEYS = {"transition", "force", "signal", "replace", "stack_order", "object_patched"}
TRANSITION_KEYS = {"patch", "direction", "target", "tasks_total", "tasks_pending"}
PATCH_KEYS = {"name", "enabled", "transition", "replace", "stack_order", "module", "objects"}
TASK_KEYS = set(
    [
        "pid",
        "tid",
        "comm",
        "state",
        "kthread",
        "patch_state",
        "pending",
        "stack",
        "blocking_functions",
        "reason",
    ]
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def check_transition(t):
    assert t.keys() >= TRANSITION_KEYS
    assert t["direction"] in ("patching", "unpatching") and t["target"] in (0, 1)
    assert isinstance(t["tasks_total"], int) and isinstance(t["tasks_pending"], int)


@pytest.mark.parametrize("scenario", ["idle", "stuck", "replace", "unpatch"])
def test_status_json_contract(capsys, scenario):
    data = run_json(capsys, "status", "--demo", scenario)
    assert data.keys() >= STATUS_KEYS
    assert data["kernel"].keys() >= KERNEL_KEYS
    assert isinstance(data["kernel"]["livepatch_supported"], bool)
    assert isinstance(data["kernel"]["tainted"], int) and "K" in data["kernel"]["taint_flags"]
    assert data["features"].keys() >= FEATURE_KEYS
    assert all(isinstance(data["features"][k], bool) for k in FEATURE_KEYS)
    if data["transition"] is not None:
        check_transition(data["transition"])
    assert (data["transition"] is None) == (scenario == "idle")
    for patch in data["patches"]:
        assert patch.keys() >= PATCH_KEYS
        assert isinstance(patch["enabled"], bool) and isinstance(patch["transition"], bool)
        assert {"refcnt", "taint", "srcversion"} <= patch["module"].keys()
        for obj in patch["objects"]:
            assert {"name", "loaded", "patched", "functions"} <= obj.keys()
            assert all(isinstance(f["sympos"], int) and f["name"] for f in obj["functions"])
    assert isinstance(data["inactive_modules"], list)


def test_tasks_json_names_the_kthread_and_function(capsys):
    data = run_json(capsys, "tasks", "--demo", "stuck")
    check_transition(data["transition"])
    assert data["transition"]["tasks_pending"] == len(data["tasks"]) == 3
    for task in data["tasks"]:
        assert task.keys() >= TASK_KEYS and task["pending"] is True
        assert task["patch_state"] in (-1, 0, 1)
    (kthread,) = [t for t in data["tasks"] if t["kthread"]]
    assert kthread["blocking_functions"] == ["xfsaild"]
    assert any("xfsaild" in frame for frame in kthread["stack"])
    assert "kernel thread" in kthread["reason"] and "xfsaild" in kthread["reason"]


def test_tasks_all_lists_every_thread(capsys):
    data = run_json(capsys, "tasks", "--all", "--demo", "stuck")
    assert len(data["tasks"]) == data["transition"]["tasks_total"]
    assert sum(t["pending"] for t in data["tasks"]) == 3
    assert {t["patch_state"] for t in data["tasks"]} == {0, 1}


def test_tasks_without_transition(capsys):
    code, out, _ = run(capsys, "tasks", "--demo", "idle")
    assert code == 0 and "Nothing is pending" in out
    assert run_json(capsys, "tasks", "--demo", "idle")["tasks"] == []


def test_human_status_and_tasks(capsys):
    code, out, _ = run(capsys, "status", "--demo", "stuck")
    assert code == 0 and "kpatch_cve_2026_4242" in out and "3 of" in out
    code, out, _ = run(capsys, "tasks", "--demo", "stuck")
    assert code == 0 and "xfsaild/dm-0" in out and "kthread in patched fn" in out


def test_root_with_garbage_prints_unknowns(capsys, fake):
    fake.patch(
        "lp_bad", enabled="zz", transition="\x00", replace="9", stack_order="", patched={"vmlinux": "?"}
    )
    fake.write("sys/module/lp_bad/refcnt", "-\n")
    for rel in ("osrelease", "version", "tainted", "ftrace_enabled"):
        fake.write(f"proc/sys/kernel/{rel}", "\x00garbage\x00")
    fake.task(1, patch_state="??")
    fake.write("proc/1/task/1/stat", "(((")
    code, out, err = run(capsys, "status", "--root", str(fake.root))
    assert code == 0 and err == ""
    assert "Unknown values" in out and "lp_bad" in out and "Traceback" not in out
    data = run_json(capsys, "status", "--root", str(fake.root))
    assert data["patches"][0]["enabled"] is None and data["kernel"]["release"] is None
    assert data["patches"][0]["problems"]


def test_root_errors_are_one_line(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    for argv, expected in (
        (["status", "--root", str(tmp_path / "missing")], "no such directory"),
        (["status", "--root", str(tmp_path / "file")], "not a directory"),
        (["status", "--root", str(tmp_path)], "neither proc/ nor sys/"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and expected in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--bogus"],
        ["frobnicate"],
        ["tasks", "--demo", "nope"],
        ["status", "--root", "/", "--demo", "idle"],
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code in (1, 2) and out == "" and err.count("\n") == 1
    if argv[0] != "status" or "--bogus" in argv:
        assert code == 2


def test_global_options_before_command(capsys):
    data = json.loads(run(capsys, "--demo", "stuck", "status", "--json")[1])
    assert data["transition"]["patch"] == "kpatch_cve_2026_4242"


def test_module_entry_point_runs():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "lptui", "status", "--demo", "idle", "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["transition"] is None


def test_no_subcommand_opens_the_console_or_says_why(capsys, monkeypatch):
    import lptui.tui.app as tui_app

    monkeypatch.delenv("LPTUI_FORCE_TUI", raising=False)
    code, out, err = run(capsys, "--demo", "stuck")  # stdout is not a terminal under pytest
    assert code == 1 and out == "" and "needs a terminal" in err and err.count("\n") == 1

    started = []
    monkeypatch.setenv("LPTUI_FORCE_TUI", "1")
    monkeypatch.setattr(tui_app.LptuiApp, "run", lambda self: started.append(self.source.label))
    assert run(capsys, "--demo", "stuck")[0] == 0
    assert started == ["demo:stuck"]
    code, _, err = run(capsys, "--root", "/nonexistent")
    assert code == 1 and "no such directory" in err


def test_unexpected_error_is_one_line(capsys, monkeypatch):
    import lptui.cli.main as cli

    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(cli.COMMANDS, "status", boom)
    monkeypatch.delenv("LPTUI_DEBUG", raising=False)
    code, _, err = run(capsys, "status")
    assert (
        code == 1
        and err.strip() == "lptui: internal error: RuntimeError: kaboom (set LPTUI_DEBUG=1 for details)"
    )


def test_task_columns_are_declared_once(capsys):
    """The CLI table, the console's tables and the JSON keys all come from one declaration."""
    from lptui.core.output.task_columns import ALL_THREADS, CLI_TABLE, COLUMNS, PENDING_TABLE
    from lptui.tui.screens.all_tasks import SHOWN as ALL_SHOWN
    from lptui.tui.widgets.pending_table import PendingTable

    data = run_json(capsys, "tasks", "--demo", "stuck")
    json_keys = set(data["tasks"][0])
    assert {c.key for c in COLUMNS.values() if c.in_json} <= json_keys
    assert [c[0] for c in PendingTable.COLUMNS] == list(PENDING_TABLE)
    assert [c.key for c in ALL_SHOWN] == list(ALL_THREADS)
    code, out, _ = run(capsys, "tasks", "--demo", "stuck")
    assert code == 0
    header = next(line for line in out.splitlines() if "PID" in line).split()
    labels = " ".join(COLUMNS[k].short or COLUMNS[k].label for k in CLI_TABLE)
    assert header == labels.split()


def test_demo_status_shows_where_patches_came_from(capsys):
    """The idle demo carries the life-cycle facts: a patch installed by kpatch with its CVEs, one loaded
    from a file since removed (gone after a reboot), one installed but not loaded, another release's."""
    code, out, _ = run(capsys, "--demo", "idle", "status")
    assert code == 0
    flat = " ".join(out.split())
    assert "Fix CVE-2026-0815 (procfs information leak)" in flat and "CVE-2026-0816" in flat
    assert "livepatch_nfsd_fix: gone after a reboot" in flat
    assert "Installed, not loaded: livepatch_tcp_fix" in flat and "CVE-2026-2290" in flat
    assert "another release (6.15.0-lptui-demo)" in flat and "kpatch.service is enabled" in flat
    data = run_json(capsys, "--demo", "idle", "status")
    by_name = {p["name"]: p for p in data["patches"]}
    fixed = by_name["livepatch_cve_2026_0815"]["provenance"]
    assert fixed["matched_by"] == "srcversion" and fixed["cves"] == ["CVE-2026-0815", "CVE-2026-0816"]
    assert by_name["livepatch_nfsd_fix"]["provenance"] is None
    assert "no file for livepatch_nfsd_fix" in by_name["livepatch_nfsd_fix"]["provenance_note"]
    assert data["life_cycle"]["lost_at_reboot"] == ["livepatch_nfsd_fix"]
    assert data["life_cycle"]["installed_not_loaded"] == ["livepatch_tcp_fix"]
    assert data["life_cycle"]["boot_service"] == "enabled"


@pytest.mark.parametrize(
    "scenario, cve, code, says",
    [
        ("idle", "CVE-2026-0815", 0, "live-patched by livepatch_cve_2026_0815"),
        ("idle", "cve-2026-0816", 0, "CVE-2026-0816: live-patched"),
        ("idle", "CVE-2026-2290", 4, "installed but not loaded"),
        ("idle", "CVE-1999-0001", 4, "no loaded patch names it"),
        ("stuck", "CVE-2026-4242", 5, "its transition is in progress"),
    ],
)
def test_status_cve_answers_with_its_exit_code(capsys, scenario, cve, code, says):
    got, out, _ = run(capsys, "--demo", scenario, "status", "--cve", cve)
    assert got == code and says in " ".join(out.split())


def test_status_cve_rejects_what_is_not_a_cve_id(capsys):
    assert main(["--demo", "idle", "status", "--cve", "CVE-26-1"]) == 2
    assert "is not a CVE id" in capsys.readouterr().err


@pytest.mark.parametrize(
    "scenario, mechanism",
    [("kgraft", "kgraft"), ("kpatch-core", "kpatch-core"), ("ksplice", "ksplice")],
)
def test_the_older_systems_in_json(capsys, scenario, mechanism):
    data = run_json(capsys, "status", "--demo", scenario)
    assert data["schema"] == 3
    assert mechanism in [s["mechanism"] for s in data["systems"]]
    assert {p["mechanism"] for p in data["patches"]} == {mechanism}
    assert all(p["stage"] for p in data["patches"])
    tasks = run_json(capsys, "tasks", "--demo", scenario)
    if scenario == "kpatch-core":
        assert tasks["transition"] is None and tasks["tasks"] == []
    else:
        assert tasks["transition"]["mechanism"] == mechanism and tasks["tasks"]
        assert all(t["reason_code"].startswith(mechanism) for t in tasks["tasks"])
    if scenario == "ksplice":
        assert tasks["transition"]["aborted"] == "code_busy"


def test_a_kgraft_host_is_not_reported_as_without_live_patching(capsys):
    code, out, _ = run(capsys, "status", "--demo", "kgraft")
    assert code == 0 and "not supported" not in out and "kGraft" in out
    code, out, _ = run(capsys, "check", "--demo", "kgraft")
    assert "no live patching" not in out and "3 of" in out and "processes pending" in out


def test_all_tasks_on_kgraft_mark_the_pending_processes(capsys):
    data = run_json(capsys, "tasks", "--all", "--demo", "kgraft")
    pending = sorted(t["comm"] for t in data["tasks"] if t["pending"])
    assert pending == ["monitor-agent", "postgres", "xfsaild/dm-0"]
    others = [t for t in data["tasks"] if not t["pending"]]
    assert others and all(t["reason_code"] == "not_pending" and t["patch_state"] is None for t in others)


def test_tasks_carry_the_kernels_verdict_and_the_schema_says_so(capsys):
    data = run_json(capsys, "--demo", "bpf", "tasks")
    assert data["schema"] == 3 and data["verdicts_seen"] is True
    for task in data["tasks"]:
        assert task["verdict"]["kind"] == "unreliable_stack" and task["own_reason_code"] is None
        assert task["verdict"]["text"] == "has an unreliable stack"
    idle = run_json(capsys, "--demo", "stuck", "tasks")
    assert idle["verdicts_seen"] is False and all(t["verdict"] is None for t in idle["tasks"])


def test_verdicts_on_the_demo_reads_the_kernels_lines_and_restores_its_flags(capsys):
    data = run_json(capsys, "--demo", "stuck", "verdicts")
    rows = {row["comm"]: row for row in data["verdicts"]}
    assert rows["xfsaild/dm-0"]["verdict"] == "sleeping_on" and rows["xfsaild/dm-0"]["agrees"] is True
    assert rows["backup-agent"]["function"] == "pipe_read"  # the kernel reads the stack lptui cannot
    code, _, err = run(capsys, "--demo", "stuck", "verdicts", "--seconds", "31")
    assert code != 0 and "at most 30" in err
    code, _, err = run(capsys, "--demo", "idle", "verdicts")
    assert code != 0 and "no transition" in err


def test_tasks_verbose_shows_the_kernels_word_or_how_to_get_it(capsys):
    code, out, _ = run(capsys, "--demo", "bpf", "tasks", "-v")
    assert code == 0 and "kernel: kcompactd0:1105 has an unreliable stack (klp_try_switch_task" in out
    code, out, _ = run(capsys, "--demo", "stuck", "tasks", "-v")
    assert "kernel: no verdict in the kernel log" in out and "sudo lptui verdicts" in out


def test_verdicts_is_audited_in_the_kernel_log():
    from lptui.source import open_source

    with open_source(demo="stuck") as source:
        source.verdict_window(3.5, 200)
        said = [r.text for r in source.session.sim.log if r.text.startswith("lptui: ")]
    assert any("verdicts: klp_try_switch_task debug on for 3.5 s" in line for line in said), said
    assert any("4 call site(s) restored" in line for line in said), said
