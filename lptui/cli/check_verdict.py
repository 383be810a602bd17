"""What `lptui check` concludes from one poll: the plugin code, its line and perfdata."""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.model import Mechanism
from lptui.core.oncall.history import AgeSource
from lptui.core.oncall.verdict import CRITICAL, NAMES, OK, UNKNOWN, WARNING, HostFacts
from lptui.core.oncall.verdict import problems as host_problems

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CRITICAL", "NAMES", "OK", "UNKNOWN", "WARNING", "Verdict", "judge"]


@dataclass(frozen=True)
class Verdict:
    code: int
    summary: str
    perfdata: dict[str, tuple[float | int | None, str, float | None, float | None]]  # value, unit, warn, crit
    details: dict[str, Any]

    def line(self) -> str:
        perf = " ".join(
            f"{name}={'' if value is None else value}{unit};{'' if w is None else int(w)};"
            f"{'' if c is None else int(c)};0;"
            for name, (value, unit, w, c) in self.perfdata.items()
        )
        # one line, bounded: the summary names what processes and patches call themselves
        from lptui.core.shown import one_line

        return f"LIVEPATCH {NAMES[self.code]} - {one_line(self.summary)}" + (f" | {perf}" if perf else "")


def judge(view, *, warn: float, crit: float, live_not_root: bool) -> Verdict:
    snap = view.snapshot
    t = snap.transition
    age = view.age.age_seconds if view.age is not None else None
    perf: dict[str, tuple[float | int | None, str, float | None, float | None]] = {
        "pending": (t.tasks_pending if t else 0, "", None, None),
        "age": (round(age) if age is not None else 0, "s", warn, crit),
        "total": (snap.threads_total, "", None, None),
        "patches": (len(snap.patches), "", None, None),
    }
    details: dict[str, Any] = {"warn": warn, "crit": crit}
    if not snap.systems:
        return Verdict(OK, "no live patching on this kernel (no /sys/kernel/livepatch)", perf, details)
    if live_not_root:
        return Verdict(
            UNKNOWN, "cannot read the per-task state: run as root (e.g. through sudo)", perf, details
        )
    unresolved = [p.name for p in snap.patches if p.transition and p.enabled is None]
    if t is None and unresolved:  # find_transition needs `enabled` for the direction: it cannot say
        return Verdict(
            UNKNOWN, f"{', '.join(unresolved)} in transition, but its enabled is unreadable", perf, details
        )
    if t is not None and t.tasks_unknown:
        unreadable = "patch_state" if t.mechanism is Mechanism.LIVEPATCH else "kgr_in_progress"
        unit = "thread(s)" if t.mechanism is Mechanism.LIVEPATCH else "process(es)"
        return Verdict(UNKNOWN, f"{t.tasks_unknown} {unit} have an unreadable {unreadable}", perf, details)
    found = host_problems(facts_of(view), warn=warn, crit=crit)
    problems = [(code, text or _moving(view, t, age)) for code, text in found]
    if not problems:
        n = len(snap.patches)
        return Verdict(
            OK, f"no transition in progress, {n} patch{'es' if n != 1 else ''} loaded", perf, details
        )
    return Verdict(problems[0][0], "; ".join(text for _, text in problems), perf, details)


def facts_of(view) -> HostFacts:
    """The live host's facts for the shared rules (lptui/core/oncall/verdict.py)."""
    snap = view.snapshot
    t = snap.transition
    oncall = getattr(view, "oncall", None)  # a View; tests may pass a bare record of its facts
    effect = oncall.effect if oncall is not None else None
    health = oncall.health if oncall is not None else ()
    forced = tuple(e.patch or "" for e in view.forced) if view.forced else None
    return HostFacts(
        forced=forced,
        gone=tuple(m.name for m in snap.inactive_modules),
        moving=(t.patch, str(t.direction)) if t is not None else None,
        age=view.age.age_seconds if view.age is not None else None,
        aborted=t.aborted if t is not None else None,
        undo=t is not None and t.target == 0,
        pending=t.tasks_pending if t is not None else None,
        not_in_effect=tuple(f.text for f in (effect.findings if effect is not None else ())),
        warnings=tuple(f"{h.patch} post-load health ({h.why}): {h.text}" for h in health if not h.grave),
        oopses=tuple(f"{h.patch} post-load health ({h.why}): {h.text}" for h in health if h.grave),
    )


def _moving(view, t, age: float | None) -> str:
    """A transition still moving, in the live host's words: its age, counts and first blocker (its code
    is the shared rules')."""
    from lptui.core.oncall.history import age_text

    source = "kernel log" if view.age and view.age.source is AgeSource.KERNEL_LOG else "seen by lptui"
    unit = "threads" if t.mechanism is Mechanism.LIVEPATCH else "processes"
    text = (
        f"{t.patch} {t.direction} for {age_text(age)} ({source}): "
        f"{t.tasks_pending} of {t.tasks_total} {unit} pending"
    )
    if view.rows:
        first = view.rows[0]
        from lptui.core.livepatch.blockers import SHORT_REASON

        where = f" in {first.blocking_functions[0]}" if first.blocking_functions else ""
        text += f", first {first.comm} ({first.pid}){where}: {SHORT_REASON[first.reason_code]}"
    return text
