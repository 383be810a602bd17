"""Whether an action can be taken now, from the view alone: the dashboard dims keys with it and the
App refuses with the same one-line reason."""

from __future__ import annotations

from lptui.core.model import Mechanism
from lptui.tui.keys import Action
from lptui.watch.poller import View

_ACTIONS = frozenset(Action)  # str-valued: "load" is found (`"load" in Action` is a TypeError on 3.11)


def why_unavailable(action: str, view: View | None) -> str | None:
    """None when `action` can be taken now; otherwise one line saying why not."""
    if action not in _ACTIONS:
        return None
    if view is None:
        return f"{action}: the kernel state has not been read yet"
    if not view.can_act:
        return f"{action}: " + (view.why_read_only or "actions are not available here")
    snap = view.snapshot
    t = snap.transition
    if action == Action.FORCE and t is None:
        return "force: no transition is in progress"
    if action == Action.FORCE and t is not None and t.mechanism is not Mechanism.LIVEPATCH:
        from lptui.core.legacy.systems import tool_for  # the older systems' code only where one is present

        return f"force: lptui does not force a {t.mechanism} transition (use {tool_for(t.mechanism)})"
    if action == Action.UNLOAD and not snap.inactive_modules:
        return "unload: no inactive livepatch module is loaded (disable a patch first: v)"
    if action == Action.VERDICTS and t is None:
        return "verdicts: no transition is in progress (the kernel prints its verdicts only during one)"
    if action == Action.VERDICTS and t is not None and t.mechanism is not Mechanism.LIVEPATCH:
        return f"verdicts: only the upstream core prints them (this is {t.mechanism})"
    if action == Action.REVERT and not snap.patches:
        return "revert: no patch is loaded"
    return None


def availability(view: View | None) -> tuple[str | None, ...]:
    """What the footer shows of the actions: it only needs redrawing when this changes (a binding
    refresh makes Textual's Footer recompose, remounting every key: the biggest cost of a redraw)."""
    return tuple(why_unavailable(action, view) for action in Action)
