import json
from pathlib import Path

import pytest

from lptui.cli.main import main
from tests.core.kofile.test_modfile import bad_corpus

KO = Path(__file__).resolve().parents[1] / "data/ko"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_json(capsys):
    code, out, _ = run(capsys, "inspect", str(KO / "lptui_lp_target.ko"), "--demo", "idle", "--json")
    data = json.loads(out)
    # exit 6: read fine, nothing refutes it; built for 6.1.0-56-amd64 with symbol CRCs, and the demo's
    # release has no Module.symvers nor in-tree CRCs to compare them with: lptui cannot tell
    assert code == 6 and data["livepatch"] is True and data["modinfo"]["name"] == "lptui_lp_target"
    sleep = {"name": "lptui_target_sleep", "sympos": 1, "new_func": "lptui_lp_target_sleep"}
    assert data["patches"]["objects"] == [{"name": "lptui_target", "functions": [sleep], "callbacks": {}}]
    assert data["loadable"] is True
    assert any(c["level"] == "unknown" and "symbol CRCs" in c["text"] for c in data["checks"])


def test_inspect_human(capsys):
    code, out, _ = run(capsys, "inspect", str(KO / "lptui_lp_replace.ko"), "--demo", "idle")
    assert (
        code == 6 and "cmdline_proc_show" in out
    )  # 6: another release, no CRCs here to decide it and "Cumulative (replace): yes" in out
    assert "already changed by livepatch_cve_2026_0815: replaces them" in " ".join(out.split())


def test_every_bad_file_is_one_line_exit_1(capsys, tmp_path):
    for name, (path, _) in bad_corpus(tmp_path).items():
        code, out, err = run(capsys, "inspect", str(path), "--demo", "idle")
        assert code == 1 and out == "", name
        assert err.startswith("lptui: error: ") and err.count("\n") == 1 and "Traceback" not in err, name
        code, _, err = run(capsys, "load", str(path), "--demo", "idle")
        assert code == 1 and err.count("\n") == 1, name


def test_wrong_machine_exits_1(capsys, tmp_path):
    import struct

    raw = (KO / "lptui_lp_cmdline.ko").read_bytes()
    arm = tmp_path / "arm.ko"
    arm.write_bytes(raw[:18] + struct.pack("<H", 183) + raw[20:])
    code, out, err = run(capsys, "inspect", str(arm), "--demo", "idle")
    assert code == 1 and out == "" and "built for aarch64, but this machine is x86_64" in err


def test_actions_refused_on_a_read_only_root(capsys, fake):
    code, _, err = run(capsys, "revert", "x", "--root", str(fake.root))
    assert code == 1 and "read-only" in err


def test_force_without_yes_explains_and_changes_nothing(capsys):
    code, out, err = run(capsys, "force", "kpatch_cve_2026_4242", "--demo", "stuck")
    assert code == 1 and out == ""
    assert "consistency guarantee" in err and "xfsaild/dm-0" in err and "--yes" in err


def test_force_and_revert_in_demo(capsys):
    code, out, _ = run(capsys, "force", "kpatch_cve_2026_4242", "--demo", "stuck", "--yes")
    assert code == 0 and "forced the patching transition" in out
    code, out, _ = run(capsys, "revert", "kpatch_cve_2026_4242", "--demo", "stuck", "--wait")
    assert code == 0 and "reversed the patching transition" in out and "transition complete" in out


def test_unload_and_signal_messages(capsys):
    code, _, err = run(capsys, "unload", "livepatch_cve_2026_0815", "--demo", "idle")
    assert code == 1 and "still enabled" in err
    code, _, err = run(capsys, "signal", "kpatch_cve_2026_4242", "--demo", "stuck")
    assert code == 1 and "by itself" in err


def test_wait_timeout_exits_3_with_pending_tasks(capsys):
    # reversing the reversed transition re-applies the patch; a kworker sleeps in tcp_sendmsg for good
    code, out, err = run(
        capsys, "revert", "livepatch_tcp_fix", "--demo", "unpatch", "--wait", "--timeout", "3"
    )
    assert code == 3
    assert "lptui: timeout: patch 'livepatch_tcp_fix' is still patching after 3s" in err
    assert "kworker/u8:7+flush" in out and "tcp_sendmsg" in out


def test_inspect_exit_code_tells_the_verdict(capsys, tmp_path):
    from lptui.cli.main import main

    # built for 6.1.0-56-amd64 with CRCs, and the demo's release holds no CRCs to compare: exit 6
    assert main(["inspect", str(KO / "lptui_lp_callbacks.ko"), "--demo", "idle"]) == 6
    out = capsys.readouterr().out
    assert "Not loadable" not in out and "callbacks only" in out and "symbol CRCs" in out
    assert "lptui_plain is not loaded" in out  # the function-less object is checked too
    assert main(["inspect", str(tmp_path / "missing.ko"), "--demo", "idle"]) == 1


def test_inspect_previews_a_cumulative_patch(capsys):
    """Before a cumulative patch goes in: which functions it patches again, which go back to the
    original code and from which patch, which are new (text, JSON, and the console's load dialog)."""
    from lptui.core.actions.preflight import inspect_file
    from lptui.core.snapshot import read_snapshot
    from lptui.source import open_source
    from lptui.tui.screens.load import inspection_text

    assert main(["--demo", "idle", "inspect", str(KO / "lptui_lp_replace.ko")]) == 6  # no CRCs to compare
    out = capsys.readouterr().out
    assert "patched again:             vmlinux:cmdline_proc_show" in out
    assert "original code: vmlinux:meminfo_proc_show (now changed by livepatch_cve_2026_0815)" in out
    assert "back to the original code: nfsd:nfsd_setattr (now changed by livepatch_nfsd_fix)" in out
    main(["--demo", "idle", "inspect", str(KO / "lptui_lp_replace.ko"), "--json"])
    preview = json.loads(capsys.readouterr().out)["replace_preview"]
    assert preview["repatched"] == ["vmlinux:cmdline_proc_show"] and preview["new"] == []
    assert {"function": "vmlinux:meminfo_proc_show", "from": "livepatch_cve_2026_0815"} in preview["reverted"]
    with open_source(demo="idle", speed=0) as source:
        ins = inspect_file(str(KO / "lptui_lp_replace.ko"), read_snapshot(source.tree), source.tree)
    assert "back to the original code: vmlinux:meminfo_proc_show" in inspection_text(ins).plain


@pytest.mark.parametrize(
    "argv, tool",
    [
        (["revert", "kgraft_patch_1_2_2", "--demo", "kgraft"], "kgr"),
        (["force", "kgraft_patch_1_2_2", "--demo", "kgraft", "--yes"], "kgr"),
        (["signal", "kgraft_patch_1_2_2", "--demo", "kgraft"], "kgr"),
        (["unload", "kgraft_patch_1_2_1", "--demo", "kgraft"], "kgr"),
        (["revert", "8c4o6ucj", "--demo", "ksplice"], "ksplice-undo"),
        (["unload", "8c4o6ucj", "--demo", "ksplice"], "uptrack-remove"),
        (["force", "kpatch_xfs_fix", "--demo", "kpatch-core", "--yes"], "no transition"),
    ],
)
def test_actions_the_older_systems_cannot_take_are_refused_in_one_line(capsys, argv, tool):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and tool in err
    assert len(err.strip().splitlines()) == 1


def test_a_kpatch_core_patch_is_disabled_through_enabled_and_unloaded(capsys):
    code, out, err = run(capsys, "revert", "kpatch_xfs_fix", "--demo", "kpatch-core", "--unload")
    assert code == 0, err
    assert "disabled kpatch patch 'kpatch_xfs_fix'" in out and "unloaded" in out
    code, _, err = run(capsys, "unload", "kpatch_cve_2014_3153", "--demo", "kpatch-core")
    assert code == 1 and "still enabled" in err
    code, out, err = run(capsys, "unload", "kpatch_meminfo_fix", "--demo", "kpatch-core")
    assert code == 0 and "unloaded module 'kpatch_meminfo_fix'" in out


@pytest.mark.parametrize(
    "modinfo, words",
    [
        ({"name": "kpatch_fix", "depends": "kpatch"}, "load it with `kpatch load`"),
        ({"name": "ksplice_ab12_vmlinux", "depends": ""}, "apply it with ksplice-apply"),
    ],
)
def test_an_older_systems_module_is_refused_naming_its_tool(capsys, tmp_path, modinfo, words):
    from lptui.sim.kofile import module_image

    path = tmp_path / f"{modinfo['name']}.ko"
    path.write_bytes(module_image({**modinfo, "vermagic": "3.10.0-123.el7.x86_64 SMP mod_unload "}))
    code, out, _ = run(capsys, "inspect", str(path), "--demo", "kpatch-core")
    assert code == 4 and words in out
    code, _, err = run(capsys, "load", str(path), "--demo", "kpatch-core")
    assert code == 1 and words in err
