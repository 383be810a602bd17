"""Livepatch lines from the kernel log and lptui's own actions, with times."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from textual import events

from lptui.core.oncall.kmsg import LogLine
from lptui.tui.shown import RichLog, Text

STYLES = {3: "bold red", 4: "yellow", 5: "", 6: "dim", 7: "dim"}


class EventLog(RichLog):
    BORDER_TITLE = "Events"

    def __init__(self, **kw: Any) -> None:
        super().__init__(markup=False, wrap=True, max_lines=2000, **kw)

    def on_resize(self, event: events.Resize) -> None:
        # Textual calls RichLog's own handler too (it writes what waited for a size). Lines written
        # before the first layout (a slow first paint under emulation) are laid out against the new size
        # here; keep the newest in sight, as a terminal's log does.
        if self.auto_scroll:
            self.call_after_refresh(self.scroll_end, animate=False)

    def add_kernel_lines(self, lines: Sequence[LogLine], boot_wall: float | None) -> None:
        for line in lines:
            stamp = (
                time.strftime("%H:%M:%S", time.localtime(boot_wall + line.usec / 1e6))
                if boot_wall is not None
                else f"+{line.usec / 1e6:9.3f}"
            )
            style = "bold cyan" if line.text.startswith("lptui:") else STYLES.get(line.level, "")
            self.write(Text.assemble((stamp + " ", "dim"), (line.text, style)))

    def add_note(self, text: str, wall: float, style: str = "") -> None:
        self.write(Text.assemble((time.strftime("%H:%M:%S ", time.localtime(wall)), "dim"), (text, style)))
