"""The console's status line and badge, as (text, style) segments, from a poll's View: a force this boot,
a patch not in effect, a kernel complaint after a patch, why actions are off, or who blocks the
transition first; and the event log's style for each kind of note."""

from __future__ import annotations

from lptui.core.model import Mechanism, Snapshot, TaskInfo
from lptui.core.oncall.facts import OnCall
from lptui.watch.poller import Tone, View

# How each kind of event is shown in the event log.
NOTE_STYLES = {
    Tone.PLAIN: "",
    Tone.QUIET: "dim",
    Tone.WARNING: "yellow",
    Tone.ERROR: "bold red",
    Tone.DONE: "bold cyan",
}


def badge_of(view: View) -> tuple[str, str]:
    """The header's badge: what kernel this is and whether lptui may act on it."""
    if view.simulated:
        return "DEMO", "bold black on yellow"  # short: the header must fit 80 columns
    if view.read_only:
        return "READ-ONLY", "bold white on blue"
    if view.can_act:
        return "ROOT", "bold white on red"
    return "NOT ROOT: read-only", "bold black on yellow"


def alert_segments(oncall: OnCall) -> tuple[tuple[str, str], ...]:
    """The status line's first words when a patch is not in effect or the kernel complained after it."""
    out: list[tuple[str, str]] = []
    effect = oncall.effect
    for f in effect.findings if effect is not None else ():
        if f.kind == "not_in_effect":
            out.append((f"NOT IN EFFECT: {f.patch} on {f.function}. ", "bold red"))
    for h in oncall.health:
        word = "OOPS" if h.grave else "WARNING"
        out.append((f"{word} after {h.patch} ({h.why}). ", "bold red" if h.grave else "bold yellow"))
    return tuple(out[:3])  # the line has two rows at 80 columns: `lptui status` lists them all


def status_of(view: View) -> tuple[tuple[str, str], ...]:
    """The whole status line: the alerts first, then the one sentence."""
    oncall = view.oncall
    alerts = alert_segments(oncall) if oncall is not None else ()
    forced = bool(oncall.forced) if oncall is not None else False
    return alerts + status_segments(view.snapshot, view.rows, view.why_read_only, forced)


def status_segments(
    snap: Snapshot, rows: tuple[TaskInfo, ...], why_read_only: str | None, forced: bool = False
) -> tuple[tuple[str, str], ...]:
    """The one-sentence status line: a force this boot first, then why actions are off, or who blocks
    the transition first."""
    forced_first = (("FORCED THIS BOOT: plan a reboot, load no more patches. ", "bold red"),)
    if forced:
        return forced_first + _status(snap, rows, why_read_only)
    return _status(snap, rows, why_read_only)


def _status(
    snap: Snapshot, rows: tuple[TaskInfo, ...], why_read_only: str | None
) -> tuple[tuple[str, str], ...]:
    from lptui.core.livepatch.blockers import SHORT_REASON

    if why_read_only:
        return ((why_read_only, "yellow"),)
    t = snap.transition
    if t is None:
        n = len(snap.patches)
        return ((f"No transition in progress. {n} patch{'es' if n != 1 else ''} loaded.", "green"),)
    if not snap.pending_tasks:
        return ((f"{t.patch} is {t.direction}; no visible task is pending.", "yellow"),)
    first = rows[0] if rows else snap.pending_tasks[0]  # the longest pending
    where = f" in {first.blocking_functions[0]}" if first.blocking_functions else ""
    n = len(snap.pending_tasks)
    if t.aborted is not None:  # Ksplice: nothing moves; these processes made the update abort
        in_its_way = (
            f"Ksplice {t.patch} aborted ({t.aborted}): {n} process{'es' if n != 1 else ''} in its way. "
        )
        return ((in_its_way, "bold yellow"), (f"First: {first.comm} ({first.pid}){where}.", ""))
    unit = ("task", "tasks") if t.mechanism is Mechanism.LIVEPATCH else ("process", "processes")
    return (  # two lines at most at 80 columns: the status line's max-height
        (f"{n} {unit[n != 1]} block {t.patch}. ", "bold yellow"),
        (f"First: {first.comm} ({first.pid}){where}: {SHORT_REASON[first.reason_code]}.", ""),
    )
