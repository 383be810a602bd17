"""Boot Debian 12's 6.1 and 6.12 kernels under QEMU and run tests/realkernel/guest inside each.

Skips with one line when it cannot run here (not root, no apt/QEMU); under CI (CI=true) a skip
is a failure, because CI has both. LPTUI_SKIP_REALKERNEL=1 skips it on purpose (never in CI).
"""

import json
import os

import pytest

from tests.realkernel import harness

# Guest tests that must be present and pass on every kernel (a renamed or lost test must not
# quietly turn this suite into a no-op).
REQUIRED = {
    "test_a_klp_build_layout_module_inspects_as_sysfs_shows_it",
    "test_in_effect_until_the_handler_is_taken_off",
    "test_a_warning_from_the_new_code_is_the_patchs_post_load_health",
    "test_ftrace_tables_and_the_ebusy_refusal_same_on_sim_and_real",
    "test_every_file_of_the_corpus_is_refused_by_inspect_or_taken_by_the_kernel",
    "test_loaded_patch_matches_sysfs",
    "test_stalled_transition_names_the_kthread_and_function",
    "test_release_completes_the_transition",
    "test_disabled_patch_disappears_module_listed_inactive",
    "test_atomic_replace",
    "test_stalled_transition_same_on_sim_and_real",
    "test_load_wait_then_revert_and_unload",
    "test_force_a_stalled_patching_transition",
    "test_unload_refused_after_forced_unpatching",
    "test_console_shows_the_stalled_kthread_and_reverses_it",
    "test_function_less_objects_match_sysfs",
    "test_callbacks_only_cumulative_patch_is_read",
    "test_incompatible_states_refused_with_the_kernels_words",
    "test_real_stall_age_check_metrics_and_capture",
    "test_scan_of_10000_real_threads_against_the_c_floor",
    "test_console_in_a_real_terminal_shows_the_blocker",
    "test_preflight_refuses_what_the_kernel_refuses[lptui_lp_missing]",
    "test_preflight_refuses_what_the_kernel_refuses[lptui_lp_dup0]",
    "test_preflight_refuses_what_the_kernel_refuses[lptui_lp_dup3]",
    "test_provenance_reboot_loss_and_cumulative_preview",
    "test_churning_kernel_never_makes_lptui_lie_crash_or_leak",
    "test_one_vermagic_flag_altered_lptui_and_the_kernel_agree",
    "test_bpf_trampoline_stalls_named_agreed_and_ended",
    "test_a_killed_verdicts_window_is_restored_at_the_next_start",
    "test_verdict_lines_and_call_sites_same_on_sim_and_real",
    "test_a_kprobe_with_a_post_handler_refuses_the_patch_as_the_kernel_does",
    "test_a_plain_kprobe_is_a_co_user_and_still_fires_under_the_patch",
    "test_a_module_of_the_other_release_is_never_called_loadable_when_the_kernel_refuses_it",
    "test_a_program_on_schedule_timeout_stalls_kernel_threads_named_and_agreed[bpftrace0]",
}
# what the guest measured (issue 11), printed here: software emulation makes times meaningless, not ratios
MEASURED = {
    "scan-floor.json": (
        "threads",
        "c_floor_s",
        "lptui_first_scan_s",
        "first_scan_x_c_floor",
        "rescan_share_of_first",
    ),
    "console-terminal.json": ("console_shows_blocker_s",),
    "churn.json": ("transitions", "scrapes", "exporter_rss_kib", "exporter_fds"),
}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real-kernel suite, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def guest_runs():
    return {}


@pytest.mark.realkernel
@pytest.mark.parametrize("label", sorted(harness.KERNELS))
def test_real_kernel(label, guest_runs):
    if os.environ.get("LPTUI_SKIP_REALKERNEL"):
        _skip_or_fail("LPTUI_SKIP_REALKERNEL is set")
    reason = harness.why_cannot_run()
    if reason:
        _skip_or_fail(reason)
    try:
        run = harness.run_kernel(label)
    except harness.HarnessError as exc:
        pytest.fail(f"real-kernel harness on {label}: {exc}")
    guest_runs[label] = run
    names = {c.name.rsplit("::", 1)[-1] for c in run.cases}
    assert names >= REQUIRED, f"guest tests missing on {run.kernel.release}: {sorted(REQUIRED - names)}"
    failed = run.failed()
    skipped = [c.name for c in run.cases if c.outcome == "skipped"]
    report = "\n\n".join(f"{c.name}:\n{c.message[:3000]}" for c in failed)
    assert not failed, f"{len(failed)} guest test(s) failed on {run.kernel.release}:\n{report}"
    assert not skipped, f"guest tests skipped on {run.kernel.release}: {skipped}"
    print(f"{run.kernel.release}: {len(run.cases)} guest tests passed")
    replay_on_host(run)
    agreement_table(run)
    for name, keys in MEASURED.items():
        measured = json.loads((run.out / name).read_text())
        assert set(keys) <= set(measured), (
            f"{name} from {run.kernel.release} lacks {set(keys) - set(measured)}"
        )
        print(f"{run.kernel.release} {name}: {json.dumps(measured)}")


def agreement_table(run) -> None:
    """Every stall the guest built, each pending task: lptui's reason beside the kernel's own verdict
    (`lptui verdicts`), printed for the record; none may disagree and the BPF stall must be there."""
    rows = [json.loads(line) for line in (run.out / "agreement.jsonl").read_text().splitlines()]
    stalls = {row["stall"] for row in rows}
    assert any("BPF" in stall for stall in stalls) and len(stalls) >= 3, stalls
    assert [row for row in rows if row["agrees"] is False] == []
    for row in rows:
        func = f" {row['function']}" if row["function"] else ""
        said = "agrees" if row["agrees"] else "switched since"
        task = f"{row['comm']}:{row['tid']}"
        cells = (run.kernel.release, row["stall"], task, row["lptui_reason"], f"{row['verdict']}{func}", said)
        print(" | ".join(map(str, cells)))


def replay_on_host(run) -> None:
    """A capture of a real stall, taken in the guest, replays on this host to the same JSON."""
    import contextlib
    import io
    import json
    import tarfile

    from lptui.cli.main import main

    bundle = run.out / "capture-stall.tar.gz"
    assert bundle.exists(), f"the guest on {run.kernel.release} left no capture"
    with tarfile.open(bundle) as tar:
        captured = {name: json.load(tar.extractfile(name)) for name in ("status.json", "tasks.json")}
    for command, name in (("status", "status.json"), ("tasks", "tasks.json")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["--root", str(bundle), command, "--json"]) == 0
        assert json.loads(out.getvalue()) == captured[name], f"{command} replayed differently on the host"
    assert captured["status.json"]["kernel"]["release"] == run.kernel.release
    (task,) = captured["tasks.json"]["tasks"]
    assert task["comm"] == "lptui_sleeper" and task["blocking_functions"] == ["lptui_target_sleep"]
