"""The simulated kernel's dynamic debug: klp_try_switch_task's lines only while a site prints, in the
kernel's order of checks, and its control file taking the kernel's queries."""

import errno

import pytest

from lptui.core.actions.dyndbg import call_sites
from lptui.sim.dyndbg import FILE, SITES, DynDebug
from lptui.sim.scenarios import build_bpf, build_stuck


def verdict_lines(sim):
    return [r.text for r in sim.log if "klp_try_switch_task" in r.text]


def test_no_line_while_the_sites_are_off_and_one_per_task_per_retry_while_on():
    sim = build_stuck()
    before = len(verdict_lines(sim))
    sim.advance(5.0)
    assert len(verdict_lines(sim)) == before == 0
    for line, _, _ in SITES:
        sim.write_dyndbg(f"file {FILE} line {line} +p")
    sim.advance(3.0)
    lines = verdict_lines(sim)
    assert len(lines) == 9  # three pending tasks, three retries
    assert "livepatch: klp_try_switch_task: xfsaild/dm-0:1105 is sleeping on function xfsaild" in lines
    assert any(line.endswith("postgres:1110 is sleeping on function ext4_sync_file") for line in lines)


def test_only_the_enabled_site_prints():
    sim = build_bpf()
    start = len(verdict_lines(sim))
    sleeping = next(line for line, kind, _ in SITES if kind == "sleeping_on")
    sim.write_dyndbg(f"file {FILE} line {sleeping} +p")
    sim.advance(3.0)
    assert len(verdict_lines(sim)) == start  # every stack is unreliable: that site is off


def test_the_bpf_scenario_leaves_three_retries_of_verdicts_and_the_flags_restored():
    sim = build_bpf()
    lines = verdict_lines(sim)
    assert len(lines) == 9 and all(line.endswith("has an unreliable stack") for line in lines)
    assert all(site.flags == "_" for site in call_sites(sim.dyndbg.control_text()))


def test_the_control_file_takes_the_kernels_queries_and_refuses_others():
    dd = DynDebug()
    line = SITES[0][0]
    dd.write(f"file {FILE} line {line} +pmf")
    dd.write(f"file {FILE} line {line} -m")
    assert call_sites(dd.control_text())[0].flags == "fp"
    dd.write(f"file {FILE} line {line} =_")
    assert call_sites(dd.control_text())[0].flags == "_"
    with pytest.raises(OSError) as exc:
        dd.write(f"file {FILE} line 1 +p")
    assert exc.value.errno == errno.EINVAL


def test_the_bpf_scenarios_user_task_moves_at_the_fake_signal_and_the_kthreads_do_not():
    sim = build_bpf()
    pending = {t.comm for t in sim._pending()}
    assert pending == {"kcompactd0", "khugepaged", "sleep"}
    sim.advance(5.0)  # 12 s in at start: the fake signal comes at the 15th retry
    assert {t.comm for t in sim._pending()} == {"kcompactd0", "khugepaged"}
    assert any("signaling remaining tasks" in r.text for r in sim.log)
