"""The real-kernel test scenarios rebuilt on the simulated kernel, for the differential test."""

from __future__ import annotations

import contextlib

from lptui.core.declared import PlannedFunction, PlannedObject
from lptui.sim.kernel import SimKernel
from lptui.sim.population import Population
from lptui.sim.rules import PROFILES
from lptui.sim.state import PatchSpec, SimTask

LP_TARGET = PatchSpec(
    "lptui_lp_target",
    (
        PlannedObject(
            "lptui_target", (PlannedFunction("lptui_target_sleep", new_func="lptui_lp_target_sleep"),)
        ),
    ),
)
LP_CMDLINE = PatchSpec(
    "lptui_lp_cmdline", (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"),)),)
)


def base(profile: str) -> tuple[SimKernel, SimTask]:
    sim = SimKernel(features=PROFILES[profile], ncpus=2)
    pop = Population()
    pop.base_system(2)
    for task in pop.tasks:
        sim.add_task(task)
    sim.load_module("lptui_target", taint="OE")
    sleeper = SimTask(
        pid=9001,
        tid=9001,
        comm="lptui_sleeper",
        state="D",
        kthread=True,
        ppid=2,
        stack=[
            ("msleep", None),
            ("lptui_target_sleep", "lptui_target"),
            ("lptui_sleeper_fn", "lptui_target"),
            ("kthread", None),
            ("ret_from_fork", None),
        ],
    )
    sim.add_task(sleeper)
    return sim, sleeper


def stalled(profile: str) -> SimKernel:
    """lptui_target loaded (its kthread in lptui_target_sleep), then lptui_lp_target: stalled."""
    sim, _ = base(profile)
    sim.load_module("lptui_lp_target", patch=LP_TARGET)
    sim.advance(3.0)
    return sim


def replaced(profile: str) -> SimKernel:
    from lptui.sim.state import PatchSpec as P

    sim, sleeper = base(profile)
    sleeper.stack = [("msleep", None), ("lptui_sleeper_fn", "lptui_target"), ("kthread", None)]
    sim.load_module("lptui_lp_cmdline", patch=LP_CMDLINE)
    sim.load_module("lptui_lp_target", patch=LP_TARGET)
    replace = P(
        "lptui_lp_replace", (PlannedObject("vmlinux", (PlannedFunction("cmdline_proc_show"),)),), replace=True
    )
    sim.load_module("lptui_lp_replace", patch=replace)
    sim.advance(2.0)
    return sim


LP_UPTIME = PatchSpec("lptui_lp_uptime", (PlannedObject("vmlinux", (PlannedFunction("uptime_proc_show"),)),))


def kprobed(profile: str, *, post: bool) -> SimKernel:
    """lptui_kprobe on uptime_proc_show (with a post_handler or not), then lptui_lp_uptime loaded: refused
    with EBUSY (post) or settled beside the kprobe."""
    sim, _ = base(profile)
    sim.kprobes = {"uptime_proc_show": post}
    with contextlib.suppress(OSError):  # the refusal is what the test compares
        sim.load_module("lptui_lp_uptime", patch=LP_UPTIME)
    sim.advance(2.0)
    return sim
