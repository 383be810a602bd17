"""The transition in progress: patch, direction, elapsed time, progress, trend, signals."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Sparkline, Static

from lptui.core.history import age_text
from lptui.tui.fmt import duration
from lptui.watch.poller import View


class TransitionPanel(Vertical):
    BORDER_TITLE = "Transition"

    def compose(self) -> ComposeResult:
        yield Static(id="transition-line")
        with Horizontal(id="transition-progress"):
            yield ProgressBar(id="switched", show_eta=False)
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
        switched = max(total - pending, 0)
        line = Text()
        line.append(t.patch, style="bold cyan")
        line.append(f"  {t.direction}", style="bold")
        line.append(f" (target {t.target})  ")
        age = view.age
        if age is not None and age.source == "kernel-log":
            line.append(
                f"stuck for {age_text(age.age_seconds)}  ",
                style="bold" if (age.age_seconds or 0) >= 60 else "",
            )
        else:
            line.append(f"{duration(view.elapsed)} observed  ", style="dim")
        line.append(f"{switched} of {total} tasks switched", style="bold")
        if pending:
            line.append(f"  {pending} pending", style="bold red")
        if t.tasks_unknown:
            line.append(f"  {t.tasks_unknown} unreadable", style="yellow")
        self.query_one("#transition-line", Static).update(line)
        bar = self.query_one("#switched", ProgressBar)
        bar.update(total=max(total, 1), progress=switched)
        self.query_one("#trend", Sparkline).data = list(view.history) or [0]
        elapsed = (view.age.age_seconds if view.age is not None else None) or view.elapsed or 0
        if snap.features.signal:
            signal = Text("This kernel does not signal by itself: signal the pending tasks.", style="yellow")
        elif view.signal_seen:
            signal = Text("Fake signals: sent by the kernel to the pending tasks.", style="yellow")
        elif elapsed < 15:
            signal = Text(
                f"Fake signals: the kernel sends them about 15 s in ({duration(15 - elapsed)} left)."
            )
        else:
            signal = Text("Fake signals: likely sent already (15 s in).")
        self.query_one("#transition-signal", Static).update(signal)
        hint = Text(style="dim")
        if pending:
            hint.append("Select a task and press Enter for why it blocks; v reverses, f forces.")
        else:
            for note in snap.notes:
                hint.append(note, style="yellow")
        self.query_one("#transition-hint", Static).update(hint)
