"""Redraw only what changed: `Static.update` always asks for a layout pass, which repaints the whole
screen; while a transition runs the poller delivers a view every half second and most lines are the
same as last time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def update_static(widget: Static, content: Text) -> None:
    if widget.content != content:  # rich Text compares its characters and its styles
        widget.update(content)
