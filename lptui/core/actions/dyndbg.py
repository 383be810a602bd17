"""The call sites of klp_try_switch_task in the dynamic-debug control file: read, saved, restored.

/proc/dynamic_debug/control (since 5.7, 239a5791ffd5) works under lockdown, where the debugfs copy
refuses even reads (debugfs_locked_down). ddebug_proc_show() prints one line per call site:
    kernel/livepatch/transition.c:290 [livepatch]klp_try_switch_task =_ "%s: %s:%d is running\\n"
and a query `file F line N =FLAGS` sets that one site's flags exactly ("_": none), as the kernel's
selftests restore them (tools/testing/selftests/livepatch/functions.sh, push_config/pop_config).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTROL = "proc/dynamic_debug/control"
FUNCTION = "klp_try_switch_task"
_SITE = re.compile(
    r"^(?P<file>[A-Za-z0-9_./+-]{1,256}):(?P<line>\d{1,7}) \[(?P<mod>[^\]]{0,64})\]"
    r"(?P<func>\S{1,128}) =(?P<flags>[a-z_]{1,16}) "
)


@dataclass(frozen=True, slots=True)
class CallSite:
    file: str
    line: int
    flags: str  # "_" for none, else letters such as "p", "pmf"

    @property
    def printing(self) -> bool:
        return "p" in self.flags

    def restore_query(self) -> str:
        return f"file {self.file} line {self.line} ={self.flags}"

    def enable_query(self) -> str:
        return f"file {self.file} line {self.line} +p"


def call_sites(control_text: str, function: str = FUNCTION) -> tuple[CallSite, ...]:
    """The control file's call sites of `function`, in order."""
    sites = []
    for line in control_text.splitlines():
        match = _SITE.match(line)
        if match is not None and match["func"] == function:
            sites.append(CallSite(match["file"], int(match["line"]), match["flags"]))
    return tuple(sites)
