"""What `lptui check` concludes from one poll: the plugin code, its line and perfdata."""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms of every command's start)
if TYPE_CHECKING:
    from typing import Any

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


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
    problems: list[tuple[int, str]] = []
    if view.forced:
        names = ", ".join(sorted({e.patch for e in view.forced if e.patch})) or "patch unknown"
        problems.append((CRITICAL, f"a transition was forced this boot ({names}): plan a reboot"))
    gone = [m.name for m in snap.inactive_modules]
    if gone:
        problems.append((CRITICAL, f"patch module loaded with its patch gone: {', '.join(gone)}"))
    problems.extend(_effect_and_health(view))
    unresolved = [p.name for p in snap.patches if p.transition and p.enabled is None]
    if t is None and unresolved:  # find_transition needs `enabled` for the direction: it cannot say
        return Verdict(
            UNKNOWN, f"{', '.join(unresolved)} in transition, but its enabled is unreadable", perf, details
        )
    if t is not None:
        if t.tasks_unknown:
            return Verdict(
                UNKNOWN,
                f"{t.tasks_unknown} thread(s) have an unreadable patch_state"
                if t.mechanism == "livepatch"
                else f"{t.tasks_unknown} process(es) have an unreadable kgr_in_progress",
                perf,
                details,
            )
        if t.aborted is not None:  # Ksplice stopped: nothing is moving, the update is not in effect
            problems.append((WARNING, f"Ksplice {'undo of' if t.target == 0 else 'update'} {t.patch} aborted "
                                      f"({t.aborted}), {t.tasks_pending or 0} process(es) were using what it "
                                      "changes"))  # fmt: skip
            t = None
    if t is not None:
        problems.append(_moving(view, t, age, warn=warn, crit=crit))
    if not problems:
        n = len(snap.patches)
        return Verdict(
            OK, f"no transition in progress, {n} patch{'es' if n != 1 else ''} loaded", perf, details
        )
    problems.sort(key=lambda p: -p[0])
    return Verdict(problems[0][0], "; ".join(text for _, text in problems), perf, details)


def _moving(view, t, age: float | None, *, warn: float, crit: float) -> tuple[int, str]:
    """A transition still moving: its code by age against the thresholds, and the first blocker."""
    from lptui.core.oncall.history import age_text

    source = "kernel log" if view.age and view.age.source == "kernel-log" else "seen by lptui"
    unit = "threads" if t.mechanism == "livepatch" else "processes"
    text = (f"{t.patch} {t.direction} for {age_text(age)} ({source}): "
            f"{t.tasks_pending} of {t.tasks_total} {unit} pending")  # fmt: skip
    if view.rows:
        first = view.rows[0]
        from lptui.core.livepatch.blockers import SHORT_REASON

        where = f" in {first.blocking_functions[0]}" if first.blocking_functions else ""
        text += f", first {first.comm} ({first.pid}){where}: {SHORT_REASON[first.reason_code]}"
    code = CRITICAL if (age or 0) >= crit else WARNING if (age or 0) >= warn else OK
    return code, text


def _effect_and_health(view) -> list[tuple[int, str]]:
    """WARNING: a settled patch not in effect on a function, or one a BPF program may override; the
    kernel's WARNING after a patch went in. CRITICAL: an oops or BUG tied to a patch."""
    oncall = getattr(view, "oncall", None)  # a View; tests may pass a bare record of its facts
    if oncall is None:
        return []
    found = [(WARNING, f.text) for f in (oncall.effect.findings if oncall.effect is not None else ())]
    for h in oncall.health:
        found.append((CRITICAL if h.grave else WARNING, f"{h.patch} post-load health ({h.why}): {h.text}"))
    return found
