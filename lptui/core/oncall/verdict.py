"""One host's verdict, by the monitoring-plugin codes: the rules `lptui check` applies to the live host and
`lptui fleet` applies to each host's series, in one place. Each side gathers the same `HostFacts` from
what it reads (the kernel and its log; the host's Prometheus series) and gets the same code back."""

from __future__ import annotations

from dataclasses import dataclass

from lptui.core.exits import PLUGIN_CRITICAL as CRITICAL
from lptui.core.exits import PLUGIN_NAMES as NAMES
from lptui.core.exits import PLUGIN_OK as OK
from lptui.core.exits import PLUGIN_UNKNOWN as UNKNOWN
from lptui.core.exits import PLUGIN_WARNING as WARNING

__all__ = ["CRITICAL", "NAMES", "OK", "UNKNOWN", "WARNING", "HostFacts", "code_of"]


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the verdict rests on. `forced`: the patches forced this boot ("" when the log does not name
    one), None when nothing was forced. `moving`: the transition's patch and direction, None when none
    runs; `age` its age in seconds (None: unknown); `aborted`: a Ksplice update's abort cause."""

    forced: tuple[str, ...] | None = None
    gone: tuple[str, ...] = ()  # patch modules loaded with their patch gone
    moving: tuple[str, str] | None = None
    age: float | None = None
    aborted: str | None = None
    undo: bool = False  # the aborted Ksplice run was an undo
    pending: int | None = None
    not_in_effect: tuple[str, ...] = ()  # "P is enabled, but not in effect on F: …" (or "P")
    warnings: tuple[str, ...] = ()  # kernel WARNINGs tied to a patch since it went in
    oopses: tuple[str, ...] = ()  # kernel oopses (BUG, panic) tied to a patch


def problems(f: HostFacts, *, warn: float, crit: float) -> list[tuple[int, str]]:
    """Every problem with its code, worst first. A transition's text is only its age's code and a stub:
    each side says the rest in its own words (the live host names the first blocker)."""
    found: list[tuple[int, str]] = []
    if f.forced is not None:
        names = ", ".join(sorted({p for p in f.forced if p})) or "patch unknown"
        found.append((CRITICAL, f"a transition was forced this boot ({names}): plan a reboot"))
    if f.gone:
        found.append((CRITICAL, f"patch module loaded with its patch gone: {', '.join(f.gone)}"))
    found += [(WARNING, text) for text in f.not_in_effect]
    found += [(WARNING, text) for text in f.warnings]
    found += [(CRITICAL, text) for text in f.oopses]
    if f.moving is not None and f.aborted is not None:  # Ksplice stopped: nothing moves, not in effect
        what = f"Ksplice {'undo of' if f.undo else 'update'} {f.moving[0]} aborted ({f.aborted})"
        found.append((WARNING, f"{what}, {f.pending or 0} process(es) were using what it changes"))
    elif f.moving is not None:
        age = f.age or 0
        found.append((CRITICAL if age >= crit else WARNING if age >= warn else OK, ""))
    return sorted(found, key=lambda p: -p[0])


def code_of(f: HostFacts, *, warn: float, crit: float) -> int:
    found = problems(f, warn=warn, crit=crit)
    return found[0][0] if found else OK
