"""One pending task: its full stack with patched frames highlighted, process facts, reason, what to do."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from lptui.core.blockers import parse_frame
from lptui.core.model import TaskInfo
from lptui.tui.fmt import WHAT_TO_DO


def process_facts(pid: int, simulated: bool) -> Text:
    if simulated:
        return Text("Simulated task: no process details.", style="dim")
    try:
        import psutil

        proc = psutil.Process(pid)
        with proc.oneshot():
            user = proc.username()
            cmdline = " ".join(proc.cmdline()) or f"[{proc.name()}]"
            parent = proc.ppid()
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(proc.create_time()))
        parent_name = psutil.Process(parent).name() if parent else "-"
    except Exception as exc:  # gone, or not permitted
        return Text(f"Process details unavailable ({type(exc).__name__}).", style="dim")
    return Text.assemble(
        ("User     ", "bold"), f"{user}\n",
        ("Command  ", "bold"), f"{cmdline}\n",
        ("Parent   ", "bold"), f"{parent} ({parent_name})\n",
        ("Started  ", "bold"), started,
    )  # fmt: skip


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
        out.append(("▶ " if hit else "  ") + line + "\n", style="bold red" if hit else "")
    return out


class TaskScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("v", "app.revert", "Reverse transition"),
        Binding("f", "app.force", "Force transition"),
    ]

    def __init__(self, task: TaskInfo, simulated: bool) -> None:
        super().__init__()
        self.task_info = task
        self.simulated = simulated

    def compose(self) -> ComposeResult:
        t = self.task_info
        head = Text()
        head.append(f"{t.comm or '?'}", style="bold")
        head.append(f"  pid {t.pid}  tid {t.tid}  state {t.state or '?'}  ")
        head.append("kernel thread" if t.kthread else "user task", style="cyan")
        head.append(f"  patch_state {t.patch_state}")
        with VerticalScroll():
            yield Static(head, classes="section")
            yield Static(Text.assemble(("Why it blocks: ", "bold"), (t.reason, "yellow")), classes="section")
            yield Static(
                Text.assemble(("What you can do: ", "bold"), WHAT_TO_DO[t.reason_code]), classes="section"
            )
            yield Static(Text("Stack (patched frames marked ▶)", style="bold"), classes="section-title")
            yield Static(stack_text(t), id="stack", classes="section")
            yield Static(process_facts(t.pid, self.simulated), classes="section")
        yield Footer()
