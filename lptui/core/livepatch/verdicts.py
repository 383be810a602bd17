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
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Verdict:
    pid: int
    comm: str  # as the line gave it: compare, never trust
    kind: str  # "running", "unreliable_stack", "sleeping_on", "unknown_error"
    usec: int  # the log record's time since boot
    function: str | None = None
    code: int | None = None

    def text(self) -> str:
        if self.kind == "sleeping_on":
            return f"is sleeping on function {self.function}"
        if self.kind == "unknown_error":
            return f"unknown error code ({self.code})"
        return "is running" if self.kind == "running" else "has an unreliable stack"


def parse_verdict(text: str, usec: int) -> Verdict | None:
    """One kernel log line's verdict, or None when it is not one."""
    at = text.find(MARK)
    if at < 0:
        return None
    rest = text[at + len(MARK) :].rstrip("\n")
    match = _TAIL.search(rest) if not rest.startswith("Unknown error code") else None
    if match is not None:
        if match["running"]:
            kind, func = "running", None
        elif match["unreliable"]:
            kind, func = "unreliable_stack", None
        else:
            kind, func = "sleeping_on", match["func"]
        return Verdict(int(match["pid"]), match["comm"], kind, usec, function=func)
    unknown = _UNKNOWN.match(rest)
    if unknown is not None:
        return Verdict(int(unknown["pid"]), unknown["comm"], "unknown_error", usec, code=int(unknown["code"]))
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
