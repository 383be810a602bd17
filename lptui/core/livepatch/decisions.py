"""Why a pending task has not switched, as a decision table: the first row whose condition holds gives
the reason. Each row names the kernel function whose behaviour it states (kernel/livepatch/
transition.c unless said), and tests/core/livepatch/test_decisions.py has one test per row. Where lptui
measured more than the snapshot shows (a D-state task seen switching, psutil in `tasks -v`), the
row that would contradict the measurement does not fire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lptui.core.model import Direction, Reason


@dataclass(frozen=True, slots=True)
class Case:
    """What a row may look at."""

    stack_read: bool  # the stack was read (root, task still there)
    stack_error: str | None
    bpf_frames: tuple[str, ...]  # BPF frames that make the stack unreliable on this kernel
    blockers: tuple[str, ...]  # patched functions (or the patch's code, unpatching) on the stack
    kthread: bool | None
    state: str | None  # /proc/<pid>/stat's state letter
    direction: Direction
    switches_per_s: float | None = None  # measured by psutil (`tasks -v`, live); None: not measured

    @property
    def what(self) -> str:
        return "patched function" if self.direction is Direction.PATCHING else "the patch's code"

    @property
    def short_sleeps(self) -> bool:
        """In D state now, but seen waking: its waits end (msleep, schedule_timeout_uninterruptible)."""
        return self.state == "D" and bool(self.switches_per_s)


@dataclass(frozen=True, slots=True)
class Row:
    reason: Reason
    when: Callable[[Case], bool]
    text: Callable[[Case], str]
    kernel: str  # the kernel function (and behaviour) the row states


def _unreadable(c: Case) -> str:
    hint = "; run lptui as root to see it" if c.stack_error == "permission denied" else ""
    return f"stack unreadable ({c.stack_error}){hint}"


def _kthread_in(c: Case) -> str:
    how = "in uninterruptible sleep (D)" if c.state == "D" else "sleeping"
    where = c.blockers[0]
    return (
        f"kernel thread {how} inside {c.what} {where}: it never returns to user space and signals cannot "
        f"move it, so it switches only once it leaves {where}"
    )


def _short_sleeps(c: Case) -> str:
    inside = f" inside {c.what} {c.blockers[0]}" if c.blockers else ""
    if c.blockers:
        after = f"it switches once a check finds it outside {c.blockers[0]}"
    else:
        after = "the kernel's next retry should find its stack clean; if it stays pending, ask the kernel "
        after += "(`lptui verdicts`)"
    return (
        f"short uninterruptible sleeps{inside} (D now, but waking {c.switches_per_s:.0f} times a second): "
        f"each wait ends, {after}"
    )


def _uninterruptible_in(c: Case) -> str:
    where = c.blockers[0]
    return f"uninterruptible sleep (D) inside {c.what} {where}: signals cannot help; " + (
        "it switches only when that wait ends"
    )


def _sleeping_in(c: Case) -> str:
    where = c.blockers[0]
    return f"sleeping inside {c.what} {where}: switches when it returns; " + (
        "the kernel's fake signal (about 15 s in) can wake it"
    )


def _fixed(text: str) -> Callable[[Case], str]:
    return lambda c: text


UNREADABLE = Row(
    Reason.STACK_UNREADABLE,
    lambda c: not c.stack_read and c.stack_error is not None,
    _unreadable,
    "proc_pid_stack (fs/proc/base.c): root only; lptui cannot see what the kernel checks",
)
UNRELIABLE = Row(
    Reason.UNRELIABLE_STACK,
    lambda c: bool(c.bpf_frames),
    _fixed(""),  # the text needs the frames' facts: blockers.unreliable_text
    "klp_check_stack: stack_trace_save_tsk_reliable() < 0 is -EINVAL before any function is looked at",
)
KTHREAD_IN = Row(
    Reason.KTHREAD_IN_PATCHED,
    lambda c: bool(c.blockers) and bool(c.kthread) and not c.short_sleeps,
    _kthread_in,
    "klp_check_stack_func: -EADDRINUSE; a kthread never passes klp_update_patch_state at exit to user space",
)
D_IN = Row(
    Reason.UNINTERRUPTIBLE,
    lambda c: bool(c.blockers) and c.state == "D" and not c.short_sleeps,
    _uninterruptible_in,
    "klp_send_signals: signal_wake_up() does not wake a TASK_UNINTERRUPTIBLE sleep",
)
SLEEPING_IN = Row(
    Reason.SLEEPING_IN_PATCHED,
    lambda c: bool(c.blockers) and not c.short_sleeps,
    _sleeping_in,
    "klp_check_stack_func: -EADDRINUSE; klp_send_signals: a fake signal after SIGNALS_TIMEOUT retries",
)
SHORT_SLEEPS = Row(
    Reason.UNINTERRUPTIBLE,
    lambda c: c.short_sleeps,
    _short_sleeps,
    "klp_try_switch_task: a sleeping task is checked at every retry, and each of these waits ends",
)
RUNNING = Row(
    Reason.RUNNING,
    lambda c: c.state == "R",
    _fixed("running on a CPU: switches at its next return to user space or stack check"),
    "klp_try_switch_task: task_curr() is -EBUSY; klp_update_patch_state at exit to user space",
)
D = Row(
    Reason.UNINTERRUPTIBLE,
    lambda c: c.state == "D",
    _fixed("uninterruptible sleep (D): signals cannot help"),
    "klp_send_signals: signal_wake_up() does not wake a TASK_UNINTERRUPTIBLE sleep",
)
KTHREAD = Row(
    Reason.KTHREAD,
    lambda c: bool(c.kthread),
    _fixed("kernel thread: switches only when a stack check finds it clean"),
    "klp_try_switch_task: a kthread switches only through klp_check_and_switch_task",
)
WAITING = Row(
    Reason.WAITING,
    lambda c: True,
    _fixed("no patched function on its stack: should switch at the kernel's next retry (~1 s)"),
    "klp_transition_work_fn: klp_try_complete_transition again after round_jiffies_relative(HZ)",
)
ROWS: tuple[Row, ...] = (
    UNREADABLE,
    UNRELIABLE,
    KTHREAD_IN,
    D_IN,
    SLEEPING_IN,
    SHORT_SLEEPS,
    RUNNING,
    D,
    KTHREAD,
    WAITING,
)


def decide(case: Case) -> tuple[Row, str]:
    """The first row that holds, and its text."""
    row = next(r for r in ROWS if r.when(case))
    return row, row.text(case)
