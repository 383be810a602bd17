"""The kernel's own verdict on each task it could not switch, from its debug lines.

klp_try_switch_task() (kernel/livepatch/transition.c, the same strings from 5.16 through 7.1) prints,
under dynamic debug, one line per task per retry:
    "%s: %s:%d is running"                     -EBUSY: on a CPU now
    "%s: %s:%d has an unreliable stack"        -EINVAL: stack_trace_save_tsk_reliable() failed
    "%s: %s:%d is sleeping on function %s"     -EADDRINUSE: a checked function is on the stack
    "%s: Unknown error code (%d) when trying to switch %s:%d"
with pr_fmt's "livepatch: " before it. A task sets its own comm (PR_SET_NAME), so a comm may hold
": 1 is running" or anything else: the line is parsed from the right, the pid is the key, and the
comm is only compared with what /proc says of that pid (`matches`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from lptui.core.livepatch.blockers import SHORT_REASON
from lptui.core.model import KernelVerdict, Reason, TaskInfo, VerdictKind

MARK = "klp_try_switch_task: "
# comm is at most 15 bytes (TASK_COMM_LEN 16), as /dev/kmsg escapes it up to 4 characters each
_TAIL = re.compile(
    r"(?P<comm>.{0,64}):(?P<pid>\d{1,10}) (?:(?P<running>is running)|(?P<unreliable>has an unreliable stack)"
    r"|is sleeping on function (?P<func>[A-Za-z0-9_.$]{1,256}))$"
)
_UNKNOWN = re.compile(
    r"Unknown error code \((?P<code>-?\d{1,10})\) when trying to switch (?P<comm>.{0,64}):(?P<pid>\d{1,10})$"
)
MAX_TASKS = 65_536  # verdicts kept: one per pid, the oldest dropped beyond this


Verdict = KernelVerdict  # the record lives in the model, beside the task it is about


def parse_verdict(text: str, usec: int) -> Verdict | None:
    """One kernel log line's verdict, or None when it is not one."""
    at = text.find(MARK)
    if at < 0:
        return None
    rest = text[at + len(MARK) :].rstrip("\n")
    match = _TAIL.search(rest) if not rest.startswith("Unknown error code") else None
    if match is not None:
        if match["running"]:
            kind, func = VerdictKind.RUNNING, None
        elif match["unreliable"]:
            kind, func = VerdictKind.UNRELIABLE_STACK, None
        else:
            kind, func = VerdictKind.SLEEPING_ON, match["func"]
        return Verdict(int(match["pid"]), match["comm"], kind, usec, function=func)
    unknown = _UNKNOWN.match(rest)
    if unknown is not None:
        kind = VerdictKind.UNKNOWN_ERROR
        return Verdict(int(unknown["pid"]), unknown["comm"], kind, usec, code=int(unknown["code"]))
    return None


class VerdictLog:
    """The latest verdict per pid (a thread's tid, which is what the kernel prints as task->pid)."""

    def __init__(self, limit: int = MAX_TASKS) -> None:
        self.latest: dict[int, Verdict] = {}
        self.limit = limit

    def feed(self, text: str, usec: int) -> Verdict | None:
        verdict = parse_verdict(text, usec)
        if verdict is None:
            return None
        self.latest.pop(verdict.pid, None)
        self.latest[verdict.pid] = verdict
        if len(self.latest) > self.limit:
            del self.latest[next(iter(self.latest))]
        return verdict

    def for_task(self, tid: int, comm: str | None) -> Verdict | None:
        """The verdict for this thread when the comm it was printed with is the thread's own."""
        verdict = self.latest.get(tid)
        if verdict is None or not matches(verdict.comm, comm):
            return None
        return verdict


def matches(logged: str, comm: str | None) -> bool:
    """/dev/kmsg escapes non-printable bytes as \\xNN; /proc/<pid>/comm gives them raw."""
    if comm is None:
        return False
    escaped = "".join(
        c if c.isprintable() and c != "\\" else "".join(f"\\x{b:02x}" for b in c.encode()) for c in comm
    )
    return logged in (comm, escaped)


FRESH_SECONDS = 30.0  # a verdict older than this is shown with its age but overrules nothing


def _bare(function: str) -> str:
    return function.split(" [", 1)[0]  # "hk_wait_here [lptui_lp_x]" -> "hk_wait_here"


def agrees(task: TaskInfo, verdict: KernelVerdict) -> bool:
    """Whether lptui's own reason says what the kernel's check found (the decision table's last
    column: README "Why a task blocks")."""
    code = task.reason_code
    if verdict.kind is VerdictKind.RUNNING:
        return code is Reason.RUNNING
    if verdict.kind is VerdictKind.UNRELIABLE_STACK:
        return code in (Reason.UNRELIABLE_STACK, Reason.STACK_UNREADABLE)
    if verdict.kind is VerdictKind.SLEEPING_ON:
        # A frame in a livepatch module's code ("f [module]": unpatching, or an older patch's
        # replacement) is named by the kernel as func->old_name, which its new code's name need not be.
        bare = {_bare(f) for f in task.blocking_functions}
        return verdict.function in bare or any(" [" in f for f in task.blocking_functions)
    return True  # an unknown error code: the kernel says nothing lptui could contradict


def believe(task: TaskInfo, verdict: KernelVerdict, age: float | None) -> TaskInfo:
    """The task with the kernel's verdict on it; where lptui's reason disagrees with a fresh verdict,
    the kernel's check (klp_try_switch_task, the one that decides) replaces it, and lptui says so."""
    when = f"at its check {age:.0f} s ago" if age is not None else "at its last check"
    if agrees(task, verdict) or age is None or age > FRESH_SECONDS:
        return replace(task, verdict=verdict)
    own = SHORT_REASON[task.reason_code] or task.reason_code.value
    blockers = task.blocking_functions
    if verdict.kind is VerdictKind.RUNNING:
        code = Reason.RUNNING
        said = f"the kernel found it running on a CPU {when}: it switches at a later check or its next "
        said += "return to user space"
    elif verdict.kind is VerdictKind.UNRELIABLE_STACK:
        code = Reason.UNRELIABLE_STACK
        said = f"the kernel found its stack unreliable {when} (klp_check_stack: -EINVAL); lptui sees no "
        said += "BPF frame that explains it: it switches once the kernel can walk its stack"
    else:
        code = Reason.KTHREAD_IN_PATCHED if task.kthread else Reason.SLEEPING_IN_PATCHED
        blockers = (verdict.function or "?",)
        said = f"the kernel found it sleeping on function {verdict.function} {when}: it switches only once "
        said += "it leaves that function"
    if task.reason_code is Reason.STACK_UNREADABLE:
        said += "; lptui cannot read its stack, the kernel's check can"
    else:
        said += f"; lptui's own reading ({own}) disagrees, and the kernel's check is the one that decides"
    return replace(
        task,
        verdict=verdict,
        own_reason=task.reason_code,
        reason_code=code,
        reason=said,
        blocking_functions=blockers,
    )


def with_verdicts(tasks: tuple[TaskInfo, ...], log: VerdictLog, now_usec: int | None) -> tuple[TaskInfo, ...]:
    """Each pending task with its latest verdict (matched by tid, the comm checked)."""
    if not log.latest:
        return tasks
    out = []
    for task in tasks:
        verdict = log.for_task(task.tid, task.comm) if task.pending else None
        if verdict is None:
            out.append(task)
            continue
        age = max(0.0, (now_usec - verdict.usec) / 1e6) if now_usec is not None else None
        out.append(believe(task, verdict, age))
    return tuple(out)


TURN_ON = "sudo lptui verdicts"  # the command that turns the kernel's verdicts on for a few seconds


def verdict_phrase(task: TaskInfo, monotonic: float | None) -> str:
    """The kernel's verdict on a task in one phrase, with its age; or how to get one."""
    v = task.verdict
    if v is None:
        return f"no verdict in the kernel log (its dynamic debug is off): `{TURN_ON}` gets one"
    age = "" if monotonic is None else f", {max(0.0, monotonic - v.usec / 1e6):.0f} s ago"
    said = f"{v.comm}:{v.pid} {v.text()} (klp_try_switch_task{age})"
    if task.own_reason is not None:
        said += f"; it overrules lptui's own reading ({SHORT_REASON[task.own_reason] or task.own_reason})"
    return said
