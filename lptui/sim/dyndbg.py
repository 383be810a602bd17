"""The simulated kernel's dynamic debug for klp_try_switch_task (kernel/livepatch/transition.c): its four
call sites as /proc/dynamic_debug/control lists them, the queries that set their flags
(ddebug_exec_queries: `file F line N +p|-p|=FLAGS`, one per write), and the verdict each pending task
gets at a retry, in the kernel's order: on a CPU, then an unreliable stack, then a checked function on it.
"""

from __future__ import annotations

import errno
import re

from lptui.sim.rules import kernel_error
from lptui.sim.state import SimTask

FILE = "kernel/livepatch/transition.c"
# (line, kind, format as ddebug_proc_show escapes it); the line numbers are the simulator's own
SITES = (
    (308, "running", r"%s: %s:%d is running\012"),
    (312, "unreliable_stack", r"%s: %s:%d has an unreliable stack\012"),
    (316, "sleeping_on", r"%s: %s:%d is sleeping on function %s\012"),
    (320, "unknown_error", r"%s: Unknown error code (%d) when trying to switch %s:%d\012"),
)
_QUERY = re.compile(r"^file (?P<file>\S+) line (?P<line>\d+) (?P<op>[-+=])(?P<flags>[a-z_]*)$")
# BPF-generated code on a stack (kallsyms' names, in the "[bpf]" module)
_BPF = re.compile(r"^(?:bpf_trampoline_\d+|bpf_prog_[0-9a-f]{16}(?:_\S*)?)$")


class DynDebug:
    """The flags of klp_try_switch_task's call sites ("_": none)."""

    def __init__(self) -> None:
        self.flags = {line: "_" for line, _, _ in SITES}

    def prints(self, kind: str) -> bool:
        return any("p" in self.flags[line] for line, k, _ in SITES if k == kind)

    def write(self, query: str) -> None:
        """One query, as the kernel takes it; a query that matches no site is -EINVAL, as there."""
        match = _QUERY.match(query.strip())
        if match is None or match["file"] != FILE or int(match["line"]) not in self.flags:
            raise kernel_error(errno.EINVAL, f"dynamic debug: no call site matches {query.strip()!r}")
        line, op, given = int(match["line"]), match["op"], set(match["flags"].replace("_", ""))
        now = set(self.flags[line].replace("_", ""))
        now = given if op == "=" else now | given if op == "+" else now - given
        self.flags[line] = "".join(sorted(now)) or "_"

    def control_text(self) -> str:
        return "".join(
            f'{FILE}:{line} [livepatch]klp_try_switch_task ={self.flags[line]} "{fmt}"\n'
            for line, _, fmt in SITES
        )


def has_bpf_frame(task: SimTask) -> bool:
    return any(mod == "bpf" or _BPF.match(fn) for fn, mod in task.stack)


def verdict(task: SimTask, relevant: list[str], bpf_reliable: bool) -> tuple[str, str | None]:
    """(kind, function) the kernel's check gives a task it cannot switch (klp_try_switch_task)."""
    if task.state == "R" or task.switch_after is not None:
        return "running", None  # task_curr(): -EBUSY
    if has_bpf_frame(task) and not bpf_reliable:
        return "unreliable_stack", None  # stack_trace_save_tsk_reliable() < 0: -EINVAL
    if relevant:
        return "sleeping_on", relevant[0].split(" [", 1)[0]  # klp_check_stack: -EADDRINUSE
    return "running", None  # not reached: a clean stack switches


def line(task: SimTask, kind: str, function: str | None) -> str:
    if kind == "running":
        return f"{task.comm}:{task.tid} is running"
    if kind == "unreliable_stack":
        return f"{task.comm}:{task.tid} has an unreliable stack"
    return f"{task.comm}:{task.tid} is sleeping on function {function}"
