"""Redraw only what changed: while a transition runs the poller delivers a view every half second
and most lines are the same as last time; and a line that still fits its one row needs no layout
pass (`Static.update` asks for one by default, and a layout pass repaints the whole screen)."""

from __future__ import annotations

from lptui.tui.shown import Static, Text


def update_static(widget: Static, content: Text) -> None:
    old = widget.content
    if old == content:  # rich Text compares its characters and its styles
        return
    width = widget.content_region.width
    same_height = (
        isinstance(old, Text) and _one_row(old, width) and _one_row(content, width) and widget.is_mounted
    )
    widget.update(content, layout=not same_height)


def _one_row(text: Text, width: int) -> bool:
    return "\n" not in text.plain and 0 < text.cell_len <= width
