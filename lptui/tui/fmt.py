"""Small text helpers shared by widgets (no I/O)."""

from __future__ import annotations

from lptui.core.livepatch.blockers import SHORT_REASON
from lptui.core.model import Reason, TaskInfo
from lptui.core.output.task_columns import UNKNOWN, TaskColumn
from lptui.tui.shown import Text

__all__ = ["SHORT_REASON", "WHAT_TO_DO", "flag", "maybe", "task_text"]

WHAT_TO_DO = {
    Reason.KTHREAD_IN_PATCHED: "Waiting helps only if the thread leaves the function by itself; signals "
    "cannot move a kernel thread. Reverse the transition (v) to cancel it safely, or force it (f) with the "
    "vendor's clearance.",
    Reason.UNINTERRUPTIBLE: "It switches when its uninterruptible wait ends (often I/O). Wait, or reverse "
    "the transition (v). Forcing (f) breaks the consistency guarantee.",
    Reason.SLEEPING_IN_PATCHED: "Wait: the kernel sends a fake signal about 15 s in, which usually moves it. "
    "If it stays, reverse (v).",
    Reason.RUNNING: "Wait: it switches at its next return to user space.",
    Reason.KTHREAD: "Wait a few retries; if it stays, reverse (v).",
    Reason.WAITING: "Wait: it should switch at the kernel's next retry (about 1 s).",
    Reason.STACK_UNREADABLE: "Run lptui as root to see its stack.",
    Reason.UNRELIABLE_STACK: "Find the BPF program traced there (bpftool prog show) and stop it; a kernel "
    "thread then switches once it returns through the trampoline. Or reverse (v).",
    Reason.UNKNOWN_STATE: "Run lptui as root to read its patch_state.",
    Reason.NOT_PENDING: "Nothing: it has switched.",
    Reason.KGRAFT_IN_KERNEL: "Wait: it switches at its next system call entry or exit; a signal wakes a "
    "sleeper. lptui does not act on kGraft: SUSE's kgr tool does.",
    Reason.KGRAFT_KTHREAD: "It switches when its loop reaches kgr_task_safe(); if it never does, the patch "
    "vendor knows the cure. lptui does not act on kGraft: SUSE's kgr tool does.",
    Reason.KSPLICE_CONFLICT: "Run ksplice-apply (or uptrack-upgrade) again when the process is out of that "
    "code; lptui does not act on Ksplice.",
}


# The console's styling of the declared task columns (lptui.core.output.task_columns).
def task_text(column: TaskColumn, task: TaskInfo) -> Text:
    text = column.text(task)
    if text == UNKNOWN:
        return Text(UNKNOWN, style="bold yellow")
    justify = "right" if column.number else None
    if column.key == "state":
        return Text(text, style="bold red" if task.state == "D" else "")
    if column.key == "kthread":
        return flag(task.kthread, "yes", "-")
    if column.key == "patch_state":
        return Text(text, style="bold red" if task.pending else "", justify=justify)
    if column.key == "blocking_functions":
        return Text(text, style="bold red")
    if column.key == "reason_code":
        return Text(text, style="yellow")
    return Text(text, justify=justify)


def flag(value: bool | None, yes: str = "yes", no: str = "no") -> Text:
    if value is None:
        return Text("?", style="bold yellow")
    return Text(yes, style="bold green") if value else Text(no, style="dim")


def maybe(value: object) -> Text:
    return Text("?", style="bold yellow") if value is None else Text(str(value))
