"""The task columns, declared once: key, labels, widths and how to get each value as text. The CLI
table, the console's pending table and its all-threads screen all build from here; each adds only
its own styling. A key that is a JSON task key names the same fact there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lptui.core.livepatch.blockers import SHORT_REASON
from lptui.core.model import TaskInfo, VerdictKind

UNKNOWN = "?"  # one rendering of an unknown value, everywhere


@dataclass(frozen=True)
class TaskColumn:
    key: str  # the JSON task key holding the same fact, or a console-only name
    label: str
    width: int  # in the console
    narrow: int  # in the console under 100 columns; 0 drops the column there
    text: Callable[[TaskInfo], str]
    number: bool = False
    short: str | None = None  # label where room is short: the narrow console, the CLI table
    in_json: bool = True


def _maybe(value: object) -> str:
    return UNKNOWN if value is None else str(value)


def _kthread(task: TaskInfo) -> str:
    return UNKNOWN if task.kthread is None else "yes" if task.kthread else "-"


_VERDICT_WORD = {
    VerdictKind.RUNNING: "running",
    VerdictKind.UNRELIABLE_STACK: "unreliable",
    VerdictKind.SLEEPING_ON: "sleeping on",
}


def verdict_word(task: TaskInfo) -> str:
    """The kernel's own verdict in a word ("-": no verdict line for this task this transition)."""
    v = task.verdict
    if v is None:
        return "-"
    return _VERDICT_WORD.get(v.kind) or f"error {v.code}"


COLUMNS: dict[str, TaskColumn] = {
    c.key: c
    for c in (
        TaskColumn("pid", "PID", 7, 6, lambda t: str(t.pid), number=True),
        TaskColumn("tid", "TID", 7, 6, lambda t: str(t.tid), number=True),
        TaskColumn("comm", "Command", 16, 9, lambda t: _maybe(t.comm)),
        # Narrow console: state and the kernel-thread flag give way (the reason says both: "D-state
        # sleep", "kthread in patched fn").
        TaskColumn("state", "St", 2, 0, lambda t: _maybe(t.state)),
        TaskColumn("kthread", "Kthr", 4, 0, _kthread),
        TaskColumn(
            "patch_state", "patch_state", 11, 0, lambda t: _maybe(t.patch_state), number=True, short="PS"
        ),
        # The console's time pending is what lptui saw, not a fact of the task: no JSON key, and
        # the value comes from the poller's view (see PendingTable).
        TaskColumn("pending_for", "Seen for", 8, 7, lambda t: "", number=True, in_json=False, short="Seen"),
        TaskColumn(
            "blocking_functions",
            "Blocking function",
            20,
            14,
            lambda t: ", ".join(t.blocking_functions),
            short="Function",
        ),
        TaskColumn("reason_code", "Reason", 22, 22, lambda t: SHORT_REASON[t.reason_code]),
        # klp_try_switch_task()'s own line, when dynamic debug printed one (`lptui verdicts`)
        TaskColumn("verdict", "Kernel", 10, 0, verdict_word),
    )
}

CLI_TABLE = ("pid", "tid", "comm", "state", "kthread", "patch_state", "blocking_functions", "reason_code")
CLI_VERDICT_TABLE = (*CLI_TABLE, "verdict")  # when the log holds the kernel's verdicts
PENDING_TABLE = (
    "pid",
    "tid",
    "comm",
    "state",
    "kthread",
    "pending_for",
    "blocking_functions",
    "reason_code",
    "verdict",
)
ALL_THREADS = ("pid", "tid", "comm", "state", "kthread", "patch_state", "reason_code")


def columns(keys: tuple[str, ...]) -> tuple[TaskColumn, ...]:
    return tuple(COLUMNS[k] for k in keys)
