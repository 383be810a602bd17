"""Whether an action can be taken now, from the view alone: the dashboard dims keys with it and the
App refuses with the same one-line reason."""

from __future__ import annotations

from lptui.watch.poller import View

ACTIONS = ("load", "revert", "force", "unload", "verdicts")


def why_unavailable(action: str, view: View | None) -> str | None:
    """None when `action` can be taken now; otherwise one line saying why not."""
    if action not in ACTIONS:
        return None
    if view is None:
        return f"{action}: the kernel state has not been read yet"
    if not view.can_act:
        return f"{action}: " + (view.why_read_only or "actions are not available here")
    snap = view.snapshot
    if action == "force" and snap.transition is None:
        return "force: no transition is in progress"
    if action == "force" and snap.transition.mechanism != "livepatch":
        from lptui.core.legacy.systems import tool_for  # the older systems' code only where one is present

        mechanism = snap.transition.mechanism
        return f"force: lptui does not force a {mechanism} transition (use {tool_for(mechanism)})"
    if action == "unload" and not snap.inactive_modules:
        return "unload: no inactive livepatch module is loaded (disable a patch first: v)"
    if action == "verdicts" and snap.transition is None:
        return "verdicts: no transition is in progress (the kernel prints its verdicts only during one)"
    if action == "verdicts" and snap.transition.mechanism != "livepatch":
        return f"verdicts: only the upstream core prints them (this is {snap.transition.mechanism})"
    if action == "revert" and not snap.patches:
        return "revert: no patch is loaded"
    return None


def availability(view: View | None) -> tuple[str | None, ...]:
    """What the footer shows of the actions: it only needs redrawing when this changes (a binding
    refresh makes Textual's Footer recompose, remounting every key: the biggest cost of a redraw)."""
    return tuple(why_unavailable(action, view) for action in ACTIONS)
