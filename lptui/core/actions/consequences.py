"""What an action would do that its user must hear before it runs: forcing's broken guarantee and
modules kept until reboot (kernel/livepatch/transition.c klp_force_transition), and which tool to
use for an older system's patch."""

from __future__ import annotations

from lptui.core.errors import ActionError
from lptui.core.legacy.systems import tool_for
from lptui.core.model import MECHANISM_TITLES, Direction, PatchInfo, Snapshot


def force_consequences(snap: Snapshot, name: str) -> str:
    t = snap.transition
    pending = snap.pending_tasks
    who = ", ".join(f"{p.comm}({p.pid})" for p in pending[:5])
    if len(pending) > 5:
        who += f" and {len(pending) - 5} more"
    removed: list[str] = []
    patch = snap.patch(name)
    if t is not None and t.direction is Direction.UNPATCHING:
        removed = [name]
    elif patch is not None and patch.replace:
        removed = [p.name for p in snap.patches if p.name != name]
    lines = [
        f"Forcing marks every remaining task as switched without checking its stack. This breaks the "
        f"consistency guarantee for the {len(pending)} pending task(s){': ' + who if who else ''}: they may "
        "run old and new code together.",
    ]
    if removed:
        lines.append(
            f"The module(s) of the patches being removed ({', '.join(removed)}) keep their reference and can "
            "never be unloaded until reboot."
        )
    lines.append(
        f"Prefer reversing the transition (`lptui revert {name}`). Use force only with clearance from the "
        "patch's vendor, and plan a reboot."
    )
    return "\n".join(lines)


def not_here(patch: PatchInfo, what: str) -> ActionError:
    """lptui writes to an older system's interface only where its source shows exactly how."""
    title = MECHANISM_TITLES[patch.mechanism]
    return ActionError(
        f"{patch.name!r} is a {title} patch: lptui does not {what} it; use {tool_for(patch.mechanism)}"
    )
