"""Post-load health: a patch that "applied" and then made the kernel warn or oops.

The kernel prints its gravest complaints at warning level or worse, each starting one of a few ways:
  __warn() (kernel/panic.c):                "WARNING: CPU: %d PID: %d at %pS" (the caller, "func+0x/0x [mod]")
  the BUG paths (lib/bug.c, mm/, x86 fault): "BUG: …", "kernel BUG at %s:%u!"
  die() / __die_header() (arch/x86/kernel/dumpstack.c): "Oops: …", "general protection fault…"
  panic() (kernel/panic.c):                  "Kernel panic - not syncing: …"
and the register dump's "RIP: 0010:%pS" names the faulting function. A line of those within HEALTH_WINDOW
of a patch's "patching complete" (klp_complete_transition), or naming the patch's module or one of its
functions at any time, is tied to that patch. Each of these also sets a taint flag (W, D, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lptui.core.model import PatchInfo

HEALTH_WINDOW = 600.0  # seconds after the patch completed: "the minutes after"
WARNING_LEVEL = 4  # KERN_WARNING: the log levels 0-4 are warning or worse
TROUBLES = ("WARNING: ", "BUG: ", "kernel BUG at", "Oops", "general protection fault", "Kernel panic")
_GRAVE = ("BUG: ", "kernel BUG at", "Oops", "general protection fault", "Kernel panic")
_RIP = re.compile(r"^RIP: [0-9a-f]{4}:(?P<where>\S+)(?: \[(?P<mod>[^\]]+)\])?")
_WHERE = re.compile(
    r" at (?:\S+:\d+ )?(?P<func>[A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[(?P<mod>[^\]]+)\])?"
)


def is_trouble(text: str, level: int) -> bool:
    """A line the health check keeps: warning level or worse and one of the kernel's complaint forms
    (or the register dump's RIP line, which names where an oops happened)."""
    if level > WARNING_LEVEL and not text.startswith("RIP: "):
        return False
    return text.startswith(TROUBLES) or text.startswith("RIP: ")


@dataclass(frozen=True, slots=True)
class Trouble:
    usec: int  # since boot
    text: str
    grave: bool  # an oops, BUG or panic (not a WARNING)
    function: str | None  # where, when the line says
    module: str | None


def trouble_of(text: str, usec: int, last: Trouble | None = None) -> Trouble | None:
    """The complaint a line starts; a RIP line instead completes the complaint before it (an oops's
    first line names no function) and is otherwise dropped: None."""
    rip = _RIP.match(text)
    if rip is not None:
        if last is None or last.function is not None or usec - last.usec > 2_000_000:
            return None
        return Trouble(last.usec, last.text, last.grave, rip["where"].split("+")[0], rip["mod"])
    where = _WHERE.search(text)
    func, mod = (where["func"], where["mod"]) if where is not None else (None, None)
    return Trouble(usec, text.strip(), text.startswith(_GRAVE), func, mod)


@dataclass(frozen=True, slots=True)
class HealthFinding:
    """A kernel complaint tied to a patch."""

    patch: str
    grave: bool  # an oops/BUG (CRITICAL in `check`), else a WARNING
    text: str  # the kernel's line
    seconds_after: float | None  # since the patch completed; None: named it, completion not in the log
    why: str  # how it is tied: "names its module", "in the minutes after it completed"


def tie(patch: PatchInfo, troubles: list[Trouble], completed_usec: int | None) -> list[HealthFinding]:
    functions = {f.name for o in patch.objects for f in o.functions}
    found = []
    for t in troubles:
        after = None if completed_usec is None else (t.usec - completed_usec) / 1e6
        if t.module == patch.module.name or t.module == patch.name:
            why = f"in its module {t.module}"
        elif t.function in functions and t.module is None:
            why = f"in {t.function}, a function it patches"
        elif after is not None and 0 <= after <= HEALTH_WINDOW:
            why = f"{after:.0f} s after it completed"
        else:
            continue  # neither named nor in the window: an older patch's, the boot's, another's
        found.append(HealthFinding(patch.name, t.grave, t.text, after, why))
    return found
