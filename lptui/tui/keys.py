"""The console's actions and their keys, in one table: the dashboard's bindings, the footer's order,
the App's handlers and the availability checks all read it."""

from __future__ import annotations

from enum import StrEnum

from textual.binding import Binding


class Action(StrEnum):
    """What the console can do to the kernel (or ask of it): each one gated by `why_unavailable`."""

    LOAD = "load"
    REVERT = "revert"
    FORCE = "force"
    UNLOAD = "unload"
    VERDICTS = "verdicts"


def _act(action: Action) -> str:
    """The dashboard's Textual action for it: `act('load')` (DashboardScreen.action_act)."""
    return f"act({str(action)!r})"


# In the footer's order; each binding's id is its action.
ACTION_BINDINGS = (
    Binding("l", _act(Action.LOAD), "Load", id=Action.LOAD),
    Binding("v", _act(Action.REVERT), "Revert", id=Action.REVERT),
    Binding("f", _act(Action.FORCE), "Force", id=Action.FORCE),
    Binding("u", _act(Action.UNLOAD), "Unload", id=Action.UNLOAD),
    Binding("k", _act(Action.VERDICTS), "Kernel verdicts", id=Action.VERDICTS),
)
