"""The CPU a running blocker was last on, and whether that CPU is isolated.

A task that keeps running on a CPU with no other work (isolcpus=, nohz_full=) may not pass a switch
point for a long time: klp_try_switch_task() cannot check a task that is running (task_curr(): -EBUSY),
and it switches itself only in klp_update_patch_state() on its way out to user space or when it
sleeps. /proc/<pid>/task/<tid>/stat field 39 is `task_cpu()` (do_task_stat in fs/proc/array.c);
/sys/devices/system/cpu/isolated and nohz_full are CPU lists ("2-3,6").
"""

from __future__ import annotations

from dataclasses import replace

from lptui.core.livepatch.tasks import parse_stat, task_dir
from lptui.core.model import Reason, TaskInfo
from lptui.core.tree import Tree

ISOLATED = "sys/devices/system/cpu/isolated"
NOHZ_FULL = "sys/devices/system/cpu/nohz_full"
MAX_CPU = 1 << 16


def parse_cpulist(text: str) -> frozenset[int] | None:
    """ "0-3,8" -> {0, 1, 2, 3, 8}; "" or "(null)" -> empty; garbage -> None."""
    text = text.strip()
    if text in ("", "(null)"):
        return frozenset()
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        if not low.isdecimal() or (high and not high.isdecimal()):
            return None
        first, last = int(low), int(high or low)
        if not first <= last < MAX_CPU:
            return None
        cpus.update(range(first, last + 1))
    return frozenset(cpus)


def last_cpu(tree: Tree, pid: int, tid: int) -> int | None:
    return parse_stat(tree.read(f"{task_dir(pid, tid)}/stat")).last_cpu


def note_cpus(tree: Tree, tasks: tuple[TaskInfo, ...]) -> tuple[TaskInfo, ...]:
    """Each running blocker with its last CPU, and why an isolated one may keep it pending."""
    running = [t for t in tasks if t.reason_code is Reason.RUNNING]
    if not running:
        return tasks
    isolated = parse_cpulist(tree.read(ISOLATED).text or "") or frozenset()
    nohz = parse_cpulist(tree.read(NOHZ_FULL).text or "") or frozenset()
    out = []
    for task in tasks:
        if task not in running:
            out.append(task)
            continue
        cpu = last_cpu(tree, task.pid, task.tid)
        reason = task.reason
        if cpu is not None:
            kinds = [name for name, cpus in (("isolated", isolated), ("nohz_full", nohz)) if cpu in cpus]
            reason += f"; last on CPU {cpu}"
            if kinds:
                reason += (
                    f", which is {' and '.join(kinds)}: with nothing else to run there it may not pass a "
                    "switch point until it enters the kernel and sleeps or returns to user space"
                )
        out.append(replace(task, cpu=cpu, reason=reason))
    return tuple(out)
