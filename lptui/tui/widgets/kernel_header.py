"""One line about the kernel: release, livepatch support, taint, and what this session may do."""

from __future__ import annotations

from lptui.core.model import Mechanism, Snapshot
from lptui.tui.shown import Static, Text, as_text
from lptui.tui.widgets.only_changes import update_static


class KernelHeader(Static):
    def show(self, snap: Snapshot, badge: str, badge_style: str) -> None:
        k = snap.kernel
        line = Text()
        line.append(" lptui ", style="bold reverse")
        line.append(f" {k.release or '?'} ", style="bold")
        line.append(f"{k.machine or ''}  ", style="dim")
        if k.livepatch_supported:
            line.append("livepatch ✓", style="green")
        elif not snap.systems:
            line.append("livepatch ✗ (no /sys/kernel/livepatch)", style="bold red")
        for system in snap.systems:
            if system.mechanism is not Mechanism.LIVEPATCH:
                line.append(f"  {system.mechanism} ✓", style="green")
        line.append("  taint ")
        if k.tainted is None:
            line.append("?", style="yellow")
        elif not k.taint_flags:
            line.append("none", style="green")
        else:
            line.append(" ".join(f.letter for f in k.taint_flags), style="bold yellow")
        line.append("  ")
        line.append(f" {badge} ", style=badge_style)
        update_static(self, line)
        tip = Text("\n").join(
            Text(part)
            for part in [f"Version: {k.version or '?'}", f"Tainted: {k.tainted}"]
            + [f"  {f.letter}: {f.meaning}" for f in k.taint_flags]
        )
        if self.tooltip != tip:
            self.tooltip = as_text(tip)
