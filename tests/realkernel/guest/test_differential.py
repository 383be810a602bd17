"""The simulated kernel and the real one give the same JSON for the same scenario.

Pids, counts, timings, kernel identity and module srcversions are left out; everything else
(attributes, patch and object state, module refcnt and taint, the transition, the pending
thread and why it blocks) must match. Where they differ, the simulator is wrong.
"""

import contextlib
import io
import json

from lptui.cli.main import main
from lptui.sim.session import SimSession
from tests.realkernel import mirror
from tests.realkernel.guest.kmod import (
    LP,
    inactive,
    insmod,
    load_patch,
    lptui,
    pending_tids_by_kernel,
    pid_of,
    read,
    wait_for,
)


def sim_json(sim, *args):
    with SimSession(sim, speed=0) as session:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*args, "--root", str(session.root), "--json"]) == 0
        return json.loads(out.getvalue())


def norm_status(data):
    def patch(p):
        return {
            "name": p["name"],
            "enabled": p["enabled"],
            "transition": p["transition"],
            "replace": p["replace"],
            "stack_order": p["stack_order"],
            "module": {k: p["module"][k] for k in ("loaded", "refcnt", "taint")},
            "objects": p["objects"],
            "problems": p["problems"],
        }

    t = data["transition"]
    return {
        "features": {k: v for k, v in data["features"].items() if k != "probed_from"},
        "transition": t and {k: t[k] for k in ("patch", "direction", "target")},
        "patches": [patch(p) for p in data["patches"]],
        "inactive_modules": inactive(data),
        "livepatch_supported": data["kernel"]["livepatch_supported"],
        "taint_flags": data["kernel"]["taint_flags"],
        "kernel_problems": data["kernel"]["problems"],
    }


def norm_tasks(data):
    keep = (
        "comm",
        "state",
        "kthread",
        "patch_state",
        "pending",
        "blocking_functions",
        "reason_code",
        "reason",
    )
    return [{k: t[k] for k in keep} for t in data["tasks"]]


def test_stalled_transition_same_on_sim_and_real(kernel_label):
    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")
    real_status, real_tasks = lptui("status"), lptui("tasks")
    assert read(LP / "lptui_lp_target/transition") == "1"

    sim = mirror.stalled(kernel_label)
    assert norm_status(sim_json(sim, "status")) == norm_status(real_status)
    assert norm_tasks(sim_json(sim, "tasks")) == norm_tasks(real_tasks)


def test_atomic_replace_same_on_sim_and_real(kernel_label):
    load_patch("lptui_lp_cmdline")
    insmod("lptui_target", block="N")
    load_patch("lptui_lp_target")
    load_patch("lptui_lp_replace")
    wait_for(lambda: [p.name for p in LP.iterdir()] == ["lptui_lp_replace"], what="replaced patches freed")
    wait_for(lambda: read("/sys/module/lptui_lp_target/refcnt") == "0", what="module_put of replaced")
    wait_for(lambda: read("/sys/module/lptui_lp_cmdline/refcnt") == "0", what="module_put of replaced")
    real = lptui("status")
    sim = mirror.replaced(kernel_label)
    assert norm_status(sim_json(sim, "status")) == norm_status(real)


def test_verdict_lines_and_call_sites_same_on_sim_and_real(kernel_label):
    """The simulated kernel's dynamic debug: the same call sites of klp_try_switch_task (file, count)
    and, for the same stall, the same verdict on the same thread."""
    from lptui.core.actions.dyndbg import call_sites
    from lptui.core.livepatch.verdicts import parse_verdict
    from lptui.sim.dyndbg import SITES
    from tests.realkernel.guest.kmod import kernel_agrees, switch_task_sites

    insmod("lptui_target")
    sleeper = pid_of("lptui_sleeper")
    wait_for(lambda: "lptui_target_sleep" in read(f"/proc/{sleeper}/stack"), what="kthread in the function")
    load_patch("lptui_lp_target", wait=False)
    wait_for(lambda: pending_tids_by_kernel(1) == {sleeper}, timeout=60, what="only the sleeper pending")
    real_sites = call_sites("\n".join(switch_task_sites()))
    (real,) = [
        r
        for r in kernel_agrees("kthread asleep in the patched function (differential)")
        if r["tid"] == sleeper
    ]

    sim = mirror.stalled(kernel_label)
    sim_sites = call_sites(sim.dyndbg.control_text())
    assert [(s.file, s.flags) for s in sim_sites] == [(s.file, s.flags) for s in real_sites]
    assert len(SITES) == len(real_sites)
    for site in sim_sites:
        sim.write_dyndbg(site.enable_query())
    sim.advance(3.0)
    said = [parse_verdict(r.text, 0) for r in sim.log if "klp_try_switch_task" in r.text]
    mine = [v for v in said if v is not None and v.pid == 9001]
    assert mine and {(v.kind.value, v.function) for v in mine} == {(real["verdict"], real["function"])}


def ftrace_record(text: str, function: str) -> dict:
    """What the two kernels must agree on in a function's enabled_functions record: its users, the
    R/I/D flags (the M and O columns are version-dependent), whether one owner's handler is named, and
    whether lptui reads it as the livepatch's."""
    import re

    from lptui.core.livepatch.effect import _handler_there
    from lptui.core.livepatch.ftrace import parse_enabled

    rec = parse_enabled(text).get((None, function))
    if rec is None:
        return {}
    named = re.search(r"tramp: \S+ \((\w+)\+", rec.owner)
    return {
        "users": rec.users,
        "flags": sorted(rec.flags & {"R", "I", "D"}),
        "handler": named[1] if named else None,
        "livepatch_handler_there": _handler_there(rec),
    }


def test_ftrace_tables_and_the_ebusy_refusal_same_on_sim_and_real(kernel_label):
    """The simulated kernel's enabled_functions and its EBUSY refusal, against the real kernel's: a
    kprobe with a post_handler owns uptime_proc_show (the same kernel line refuses the patch), and a
    plain kprobe shares it with the settled livepatch."""
    import subprocess
    from pathlib import Path

    from tests.realkernel.guest.kmod import MODULES, rmmod

    tables = Path("/sys/kernel/tracing/enabled_functions")
    line = "livepatch: failed to register ftrace handler for function 'uptime_proc_show' (-16)"
    insmod("lptui_kprobe", post="1")
    real_owned = ftrace_record(tables.read_text(), "uptime_proc_show")
    done = subprocess.run(["insmod", str(MODULES / "lptui_lp_uptime.ko")], capture_output=True, text=True)
    assert done.returncode != 0
    wait_for(lambda: line in subprocess.run(["dmesg"], capture_output=True, text=True).stdout, what=line)
    sim = mirror.kprobed(kernel_label, post=True)
    assert line in [r.text for r in sim.log] and "lptui_lp_uptime" not in {p.name for p in sim.patches}
    sim_owned = ftrace_record(sim_table(sim), "uptime_proc_show")
    assert sim_owned == real_owned, (sim_owned, real_owned)
    rmmod("lptui_kprobe")
    insmod("lptui_kprobe", post="0")
    load_patch("lptui_lp_uptime")
    real_shared = ftrace_record(tables.read_text(), "uptime_proc_show")
    sim_shared = ftrace_record(sim_table(mirror.kprobed(kernel_label, post=False)), "uptime_proc_show")
    assert sim_shared == real_shared and real_shared["livepatch_handler_there"], (sim_shared, real_shared)


def sim_table(sim) -> str:
    from lptui.sim.ftrace import enabled_functions

    return enabled_functions(sim.patches, sim.kprobes, sim.trampolines)
