"""`lptui capture` and its replay with `--root BUNDLE`: the same JSON, the same blockers and reasons, the
kernel log in the console; bad bundles get one clear line."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from lptui.cli.main import main
from lptui.source import open_source
from lptui.tui.status_line import badge_of
from tests.tui.helpers import make_app, settle


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bundle(tmp_path, capsys):
    path = tmp_path / "stuck.tar.gz"
    code, out, err = run(capsys, "--demo", "stuck", "capture", "-o", str(path))
    assert code == 0 and err == "" and f"wrote {path}" in out and f"lptui --root {path}" in out
    return path


def test_replay_gives_the_captured_json(bundle, capsys):
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
        captured = {
            n: json.load(tar.extractfile(n)) for n in ("status.json", "tasks.json", "lptui-capture.json")
        }
    for command, name in (("status", "status.json"), ("tasks", "tasks.json")):
        code, out, _ = run(capsys, "--root", str(bundle), command, "--json")
        assert code == 0 and json.loads(out) == captured[name]
    # the patch module files travel with it: provenance replays too
    life = captured["status.json"]["life_cycle"]
    assert [i["name"] for i in life["installed"]] == ["kpatch_cve_2026_4242", "livepatch_cve_2026_0815"]
    assert life["boot_service"] == "enabled" and all(i["loaded"] for i in life["installed"])
    tasks = captured["tasks.json"]["tasks"]
    assert [(t["comm"], t["reason_code"]) for t in tasks] == [
        ("xfsaild/dm-0", "kthread_in_patched_function"),
        ("postgres", "uninterruptible"),
        ("backup-agent", "stack_unreadable"),
    ]
    assert captured["status.json"]["transition"]["age_seconds"] == 8040.0
    meta = captured["lptui-capture.json"]
    assert meta["lptui_version"] and meta["captured_at"] and meta["pending"] == 3
    # what lptui reads, and only that: every thread's patch_state; details of the pending threads only
    patch_states = {n for n in names if n.endswith("/patch_state") and "/task/" in n}
    assert len(patch_states) == captured["status.json"]["threads_total"] == 289
    stacks = {n for n in names if n.endswith("/stack")}
    assert stacks == {"proc/1105/task/1105/stack", "proc/1110/task/1110/stack"}  # 1115's is unreadable
    assert "dev/kmsg" in names and "proc/uptime" in names


def test_replay_of_an_extracted_directory(bundle, tmp_path, capsys):
    target = tmp_path / "unpacked"
    with tarfile.open(bundle) as tar:
        tar.extractall(target, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(target)
    code, out, _ = run(capsys, "--root", str(target), "tasks", "--json")
    with tarfile.open(bundle) as tar:
        assert code == 0 and json.loads(out) == json.load(tar.extractfile("tasks.json"))
    code, out, _ = run(capsys, "--root", str(target), "tasks")
    # the same words as when captured ("not a regular file" as root, "permission denied" otherwise)
    assert code == 0 and "backup-agent (1115/1115): stack unreadable (" in out and "xfsaild/dm-0" in out


def test_no_cmdline_leaves_command_lines_out(tmp_path, capsys):
    path = tmp_path / "quiet.tar.gz"
    assert run(capsys, "--demo", "stuck", "capture", "-o", str(path), "--no-cmdline")[0] == 0
    with tarfile.open(path) as tar:
        assert not [n for n in tar.getnames() if n.endswith("cmdline")]
        assert json.load(tar.extractfile("lptui-capture.json"))["command_lines"] is False


def test_existing_output_is_not_replaced(bundle, capsys):
    code, _, err = run(capsys, "--demo", "idle", "capture", "-o", str(bundle))
    assert code == 1 and "exists" in err and err.count("\n") == 1


def evil(tmp_path, name: str, kind: bytes = tarfile.REGTYPE):
    path = tmp_path / f"evil-{len(list(tmp_path.iterdir()))}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type = kind
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/shadow"
            tar.addfile(info)
        else:
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    return path


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("../../outside", tarfile.REGTYPE, "points outside"),
        ("/etc/cron.d/x", tarfile.REGTYPE, "points outside"),
        ("proc/link", tarfile.SYMTYPE, "not a plain file"),
        ("proc/uptime", tarfile.REGTYPE, "not an lptui capture"),
    ],
)
def test_bad_bundles_are_one_line(tmp_path, capsys, name, kind, words):
    path = evil(tmp_path, name, kind)
    code, out, err = run(capsys, "--root", str(path), "status")
    assert code == 1 and out == "" and words in err and err.count("\n") == 1
    assert not (tmp_path.parent / "outside").exists()


def test_garbage_bundle(tmp_path, capsys):
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    code, _, err = run(capsys, "--root", str(path), "status")
    assert code == 1 and "not a readable capture bundle" in err and err.count("\n") == 1


async def test_console_replays_the_log(bundle):
    source = open_source(root=str(bundle))
    app = make_app(source)
    async with app.run_test(size=(110, 36)) as pilot:
        await settle(pilot)
        log = "\n".join(str(line.text) for line in app.screen.query_one("#events").lines)
        assert "'kpatch_cve_2026_4242': starting patching transition" in log
        assert (
            app.view.read_only
            and badge_of(app.view)[0] == "READ-ONLY"
            and app.view.age.source == "kernel-log"
        )
    source.close()
    assert source._cleanup is None


@pytest.mark.parametrize("scenario", ["kgraft", "kpatch-core", "ksplice"])
def test_the_older_systems_replay_the_same(tmp_path, capsys, scenario):
    path = tmp_path / f"{scenario}.tar.gz"
    assert run(capsys, "--demo", scenario, "capture", "-o", str(path))[0] == 0
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
        captured = {n: json.load(tar.extractfile(n)) for n in ("status.json", "tasks.json")}
    # a kernel without the core is replayed without it (no sys/kernel/livepatch in the bundle)
    assert ("sys/kernel/livepatch" in names) == (scenario == "ksplice")
    for command, name in (("status", "status.json"), ("tasks", "tasks.json")):
        code, out, _ = run(capsys, "--root", str(path), command, "--json")
        assert code == 0 and json.loads(out) == captured[name]
    assert captured["status.json"]["systems"][-1]["mechanism"] == scenario


def test_a_bpf_stall_replays_with_its_verdicts_and_named_trampolines(tmp_path, capsys):
    path = tmp_path / "bpf.tar.gz"
    assert run(capsys, "--demo", "bpf", "capture", "-o", str(path))[0] == 0
    with tarfile.open(path) as tar:
        captured = json.load(tar.extractfile("tasks.json"))
    code, out, _ = run(capsys, "--root", str(path), "tasks", "--json")
    assert code == 0 and json.loads(out) == captured
    assert {t["verdict"]["kind"] for t in captured["tasks"]} == {"unreliable_stack"}
    stale = [t for t in captured["tasks"] if "stale frame" in t["reason"]]
    assert [t["comm"] for t in stale] == ["khugepaged"]  # enabled_functions went into the bundle
