"""One pending task: its full stack with patched frames highlighted, process facts, reason, what to do."""

from __future__ import annotations

import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from lptui.core.livepatch.blockers import parse_frame
from lptui.core.livepatch.procfacts import ProcessFacts, read_process_facts
from lptui.core.model import TaskInfo, TransitionInfo
from lptui.core.tree import Tree
from lptui.tui.failures import ShowsWorkerFailures
from lptui.tui.fmt import WHAT_TO_DO
from lptui.tui.shown import Static, Text


def facts_text(facts: ProcessFacts) -> Text:
    if facts.problem:
        return Text(f"Process details: {facts.problem}.", style="dim")
    user = f"{facts.user} ({facts.uid})" if facts.user else str(facts.uid) if facts.uid is not None else "?"
    cmdline = (
        facts.cmdline if facts.cmdline else "[kernel thread: no command line]" if facts.cmdline == "" else "?"
    )
    parent = f"{facts.ppid} ({facts.parent_comm or '?'})" if facts.ppid is not None else "?"
    if facts.started_wall is not None:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(facts.started_wall))
    elif facts.started_after_boot is not None:
        started = f"{facts.started_after_boot:.0f} s after boot"
    else:
        started = "?"
    rows = (("User     ", user), ("Command  ", cmdline), ("Parent   ", parent), ("Started  ", started))
    return Text("\n").join(Text.assemble((label, "bold"), value) for label, value in rows)


def stack_text(task: TaskInfo) -> Text:
    if task.stack is None:
        return Text("Stack unreadable.", style="yellow")
    if not task.stack:
        return Text("Empty stack (the task may be running).", style="dim")
    blocking = {b.split(" [")[0] for b in task.blocking_functions}
    out = Text()
    for line in task.stack:
        frame = parse_frame(line)
        hit = frame is not None and frame.func in blocking
        out.append(("▶ " if hit else "  ") + line, style="bold red" if hit else "")
        out.append("\n")
    return out


def why_text(task: TaskInfo) -> Text:
    return Text.assemble(("Why it blocks: ", "bold"), (task.reason, "yellow"))


def verdict_text(task: TaskInfo, monotonic: float | None) -> Text:
    """The kernel's own verdict (klp_try_switch_task's debug line), or the key that asks for it."""
    from lptui.core.livepatch.verdicts import verdict_phrase

    if task.verdict is None:
        return Text.assemble(
            ("The kernel says: ", "bold"),
            ("nothing in its log yet: press k (or run `sudo lptui verdicts`)", "dim"),
        )
    style = "bold yellow" if task.own_reason is not None else "green"
    return Text.assemble(("The kernel says: ", "bold"), (verdict_phrase(task, monotonic), style))


class TaskScreen(ShowsWorkerFailures, Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("v", "app.revert", "Reverse transition"),
        Binding("f", "app.force", "Force transition"),
    ]

    def __init__(
        self,
        task: TaskInfo,
        tree: Tree,
        *,
        simulated: bool,
        monotonic: float | None = None,
        transition: TransitionInfo | None = None,
    ) -> None:
        super().__init__()
        self.transition = transition  # to re-explain the task with its measured progress
        self.task_info = task
        self.monotonic = monotonic  # the kernel log's clock at the poll: the age of its verdict
        self.source_tree = tree
        self.simulated = simulated
        # only the live host has a scheduler to ask whether the task is making progress
        self._live = not simulated and str(tree.root) == "/"

    def compose(self) -> ComposeResult:
        t = self.task_info
        head = Text()
        head.append(f"{t.comm or '?'}", style="bold")
        head.append(f"  pid {t.pid}  tid {t.tid}  state {t.state or '?'}  ")
        head.append("kernel thread" if t.kthread else "user task", style="cyan")
        head.append(f"  patch_state {t.patch_state}")
        with VerticalScroll():
            yield Static(head, classes="section")
            yield Static(why_text(t), id="why", classes="section")
            yield Static(verdict_text(t, self.monotonic), id="verdict", classes="section")
            yield Static(
                Text.assemble(("What you can do: ", "bold"), WHAT_TO_DO[t.reason_code]), classes="section"
            )
            yield Static(Text("Stack (patched frames marked ▶)", style="bold"), classes="section-title")
            yield Static(stack_text(t), id="stack", classes="section")
            yield Static(Text("Reading process details…", style="dim"), id="facts", classes="section")
            if self._live:
                yield Static(
                    Text("Measuring its progress (1 s)…", style="dim"), id="progress", classes="section"
                )
        yield Footer()

    def on_mount(self) -> None:
        if self.simulated:  # the simulated kernel renders no status or cmdline
            self.query_one("#facts", Static).update(Text("Simulated task: no process details.", style="dim"))
        else:
            self._read_facts()

    @work(thread=True, exclusive=True, group="facts", exit_on_error=False)
    def _read_facts(self) -> None:
        """Through the source's tree, off the UI thread: a saved tree shows its own facts."""
        facts = read_process_facts(
            self.source_tree, self.task_info.pid, live=str(self.source_tree.root) == "/"
        )
        self.app.call_from_thread(self._show_facts, facts)
        if self._live:
            from lptui.core.livepatch.progress import measure

            moved = measure([self.task_info.tid]).get(self.task_info.tid)
            self.app.call_from_thread(self._show_progress, moved)

    def _show_progress(self, moved) -> None:
        if not self.is_attached:  # the screen was closed during the measurement
            return
        text = moved.text() if moved is not None else "unknown (it ended, or cannot be read)"
        self.query_one("#progress", Static).update(Text.assemble(("Progress: ", "bold"), text))
        if moved is not None and moved.seconds > 0 and self.transition is not None:
            from lptui.core.livepatch.blockers import with_progress

            task = with_progress(self.task_info, self.transition, moved.switches / moved.seconds)
            if task.reason != self.task_info.reason:  # a reason never contradicts the measurement
                self.query_one("#why", Static).update(why_text(task))

    def _show_facts(self, facts: ProcessFacts) -> None:
        self.query_one("#facts", Static).update(facts_text(facts))

    def worker_failed(self, name: str, message: str) -> None:
        self.query_one("#facts", Static).update(
            Text(f"Process details unavailable: {message}", style="yellow")
        )
