"""The transition in progress: patch, direction, elapsed time, progress, trend, signals."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Sparkline

from lptui.core.legacy.ksplice import ABORT_CAUSES
from lptui.core.model import MECHANISM_TITLES, Mechanism
from lptui.core.oncall.history import AgeSource, age_text
from lptui.tui.shown import Static, Text
from lptui.tui.widgets.only_changes import update_static
from lptui.watch.poller import View


class TransitionPanel(Vertical):
    BORDER_TITLE = "Transition"

    def compose(self) -> ComposeResult:
        yield Static(id="transition-line")
        with Horizontal(id="transition-progress"):
            # a total from the start: without one the bar is "indeterminate" and Textual animates it at
            # 15 frames a second (auto_refresh), hidden or not: most of the idle console's CPU
            yield ProgressBar(id="switched", show_eta=False, total=1)
            yield Sparkline([], id="trend")
        yield Static(id="transition-signal")
        yield Static(id="transition-hint")

    def show(self, view: View) -> None:
        snap = view.snapshot
        t = snap.transition
        self.display = t is not None
        if t is None:
            return
        total = t.tasks_total or 0
        pending = t.tasks_pending or 0
        switched = max(total - pending - t.tasks_unknown, 0)  # an unreadable one is not switched
        line = Text()
        if t.mechanism is not Mechanism.LIVEPATCH:
            line.append(f"{MECHANISM_TITLES[t.mechanism]}  ", style="bold magenta")
        line.append(t.patch, style="bold cyan")
        line.append(f"  {t.direction}", style="bold")
        line.append(f" (target {t.target})  ")
        age = view.age
        if age is not None and age.source is AgeSource.KERNEL_LOG:
            line.append(
                f"stuck for {age_text(age.age_seconds)}  ",
                style="bold" if (age.age_seconds or 0) >= 60 else "",
            )
        else:
            line.append(f"{age_text(view.elapsed, compact=True)} observed  ", style="dim")
        if t.aborted is not None:
            line.append(f"ABORTED ({t.aborted})", style="bold red")
        else:
            unit = "processes" if t.mechanism is Mechanism.KGRAFT else "tasks"
            line.append(f"{switched} of {total} {unit} switched", style="bold")
        if pending:
            line.append(f"  {pending} pending", style="bold red")
        if t.tasks_unknown:
            line.append(f"  {t.tasks_unknown} unreadable", style="yellow")
        update_static(self.query_one("#transition-line", Static), line)
        self.query_one("#transition-progress").display = t.aborted is None  # an aborted update has none
        bar = self.query_one("#switched", ProgressBar)
        bar.update(total=max(total, 1), progress=switched)
        trend = list(view.history) or [0]
        if self.query_one("#trend", Sparkline).data != trend:
            self.query_one("#trend", Sparkline).data = trend
        signal = signal_text(view)
        update_static(self.query_one("#transition-signal", Static), signal)
        hint = Text(style="dim")
        if pending and t.mechanism is not Mechanism.LIVEPATCH:
            hint.append(
                "Select a process and press Enter for why it blocks; lptui does not act on "
                f"{MECHANISM_TITLES[t.mechanism]}."
            )
        elif pending:
            hint.append("Select a task and press Enter for why it blocks; v reverses, f forces.")
        else:
            for note in snap.notes:
                hint.append(note, style="yellow")
        update_static(self.query_one("#transition-hint", Static), hint)


def signal_text(view: View) -> Text:
    """What moves the transition on: the kernel's fake signals (kernel/livepatch/transition.c sends them
    from the 16th failed retry, about 15 s in), or what the older systems wait for."""
    t = view.snapshot.transition
    assert t is not None
    snap = view.snapshot
    elapsed = (view.age.age_seconds if view.age is not None else None) or view.elapsed or 0
    if t.mechanism is Mechanism.KGRAFT:
        return Text(
            "kGraft: a process switches when it crosses the kernel/user boundary; a kernel "
            "thread at kgr_task_safe()."
        )
    if t.mechanism is Mechanism.KSPLICE:
        return Text(ABORT_CAUSES.get(t.aborted or "", "Ksplice is preparing the update."))
    if snap.features.signal:
        return Text("This kernel does not signal by itself: signal the pending tasks.", style="yellow")
    if view.signal_seen:
        return Text("Fake signals: sent by the kernel to the pending tasks.", style="yellow")
    if elapsed < 15:
        left = age_text(15 - elapsed, compact=True)
        return Text(f"Fake signals: the kernel sends them about 15 s in ({left} left).")
    return Text("Fake signals: likely sent already (15 s in).")
