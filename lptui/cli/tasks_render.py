"""The tasks' tables (`lptui tasks`, and the pending tasks a timed-out `--wait` leaves): the columns the
core declares (lptui.core.output.task_columns), styled for a terminal, each pending task's reason, and
`lptui tasks -v`: each blocker's stack with the patched frames marked."""

from __future__ import annotations

from lptui.cli import out
from lptui.cli.render import UNKNOWN, add, new_table
from lptui.core.model import Reason, TaskInfo
from lptui.core.oncall.history import AgeSource
from lptui.core.output.task_columns import CLI_TABLE, CLI_VERDICT_TABLE, TaskColumn, columns
from lptui.core.output.task_columns import UNKNOWN as UNKNOWN_TEXT
from lptui.richtext import Table, Text

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from lptui.core.oncall.facts import OnCall
    from lptui.core.tree import Tree
    from lptui.source import Source

LEGACY_REASONS = frozenset({Reason.KGRAFT_IN_KERNEL, Reason.KGRAFT_KTHREAD, Reason.KSPLICE_CONFLICT})

# The CLI's styling of the declared task columns (lptui.core.output.task_columns).
CLI_STYLES = {"blocking_functions": "bold red"}


def task_cell(column: TaskColumn, task: TaskInfo) -> Text:
    text = column.text(task)
    if text == UNKNOWN_TEXT:
        return UNKNOWN
    if column.key == "kthread":
        return Text(text, style="green" if task.kthread else "dim")
    if column.key == "reason_code":
        return Text(text, style="yellow" if task.pending else "dim")
    return Text(text, style=CLI_STYLES.get(column.key, ""))


def tasks_table(tasks: tuple[TaskInfo, ...], *, all_tasks: bool) -> Table:
    legacy = any(t.reason_code in LEGACY_REASONS for t in tasks)
    table = new_table("All threads" if all_tasks else "Pending processes" if legacy else "Pending threads")
    cols = columns(CLI_VERDICT_TABLE if any(t.verdict for t in tasks) else CLI_TABLE)
    for col in cols:
        if col.key in ("state", "kthread"):
            add(table, col.short or col.label, no_wrap=True)
        else:
            add(table, col.short or col.label, number=col.number)
    for t in tasks:
        table.add_row(*(task_cell(col, t) for col in cols))
    return table


def reasons_list(tasks: tuple[TaskInfo, ...]) -> list[Text]:
    out = []
    for t in tasks:
        if t.pending or t.reason_code is Reason.UNKNOWN_STATE:
            line = Text(f"{t.comm or '?'} ({t.pid}/{t.tid}): ", style="bold")
            line.append(t.reason)
            out.append(line)
    return out


def pending_phrase(task: TaskInfo, age, uptime: float | None, started: float | None) -> str:
    """A task still pending has not switched since the transition started (the kernel marks every
    task at klp_start_transition; none switches back), or since it was created, if later."""
    from lptui.core.oncall.history import age_text

    if age is None or age.age_seconds is None:
        return "pending (how long: unknown)"
    since_start = age.age_seconds
    if started is not None and uptime is not None and uptime - started < since_start:
        return f"pending for {age_text(uptime - started)} (since it was created during the transition)"
    how = "the kernel log" if age.source is AgeSource.KERNEL_LOG else "what lptui saw"
    return f"pending for {age_text(since_start)}: since the transition started ({how})"


def verbose_blockers(
    tasks: tuple[TaskInfo, ...],
    age,
    tree: Tree,
    uptime: float | None,
    progress: dict | None = None,
    monotonic: float | None = None,
) -> list[str]:
    """`progress`: tid -> Progress on the live host (lptui.core.livepatch.progress), else None;
    `monotonic`: the kernel log's clock now, for the age of the kernel's verdicts."""
    from lptui.core.livepatch.blockers import SHORT_REASON, parse_frame
    from lptui.core.livepatch.tasks import thread_started
    from lptui.core.livepatch.verdicts import verdict_phrase

    out: list[str] = []
    for t in tasks:
        if not t.pending:
            continue
        out.append("")
        out.append(
            f"{t.comm or '?'} (pid {t.pid}, tid {t.tid}) state {t.state or '?'}"
            f"{', kernel thread' if t.kthread else ''}: {SHORT_REASON[t.reason_code]}"
        )
        out.append(f"  {pending_phrase(t, age, uptime, thread_started(tree, t.pid, t.tid))}")
        if progress is not None:
            moved = progress.get(t.tid)
            out.append(f"  progress: {moved.text() if moved else 'unknown (it ended, or cannot be read)'}")
        out.append(f"  why: {t.reason}")
        out.append(f"  kernel: {verdict_phrase(t, monotonic)}")
        if t.stack is None:
            out.append("  stack: unreadable")
            continue
        blocking = {b.split(" [")[0] for b in t.blocking_functions}
        out.append("  stack (patched frames marked >>):")
        for line in t.stack:
            frame = parse_frame(line)
            mark = ">>" if frame is not None and frame.func in blocking else "  "
            out.append(f"  {mark} {line}")
    return out


def verbose_tasks(source: Source, tasks: tuple[TaskInfo, ...], oncall: OnCall) -> None:
    """`lptui tasks -v`: each blocker at length; on the live host, whether it is making progress."""
    progress = None
    if not source.simulated and str(source.tree.root) == "/":  # only a live host has a scheduler
        from lptui.core.livepatch.progress import measure

        progress = measure(t.tid for t in tasks if t.pending)
        transition = oncall.snapshot.transition
        if transition is not None:  # a reason never contradicts what was just measured
            from lptui.core.livepatch.blockers import with_progress

            tasks = tuple(with_progress(t, transition, _rate(progress.get(t.tid))) for t in tasks)
    clock = source.kernel_clock()  # boottime: what /proc/<pid>/stat's start times count
    lines = verbose_blockers(tasks, oncall.age, source.tree, clock.boottime, progress, clock.monotonic)
    console = out.console()
    for line in lines:
        console.print(line)


def _rate(moved: Any) -> float | None:
    return moved.switches / moved.seconds if moved is not None and moved.seconds > 0 else None
