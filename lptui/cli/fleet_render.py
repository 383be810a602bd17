"""The fleet's tables for the CLI (Rich), shared by the fleet console's widgets: every value that came
from Prometheus's labels is escaped (a host controls its own patch names) and shown as plain text."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from lptui.cli.render import make_console
from lptui.core.oncall.history import age_text
from lptui.core.tree import escape_controls
from lptui.fleet.answers import CveVerdict, Rollout
from lptui.fleet.state import Fleet, Host

__all__ = ["cve_table", "host_row", "hosts_table", "make_console", "rollout_table"]

STATE_STYLE = {"down": "bold red", "stale": "yellow", "in transition": "bold red", "ok": "green"}
VERDICT_STYLE = {"fixed": "green", "in transition": "yellow", "not fixed": "bold red", "unknown": "dim"}
HOST_COLUMNS = (
    "Host",
    "State",
    "Kernel",
    "Live",
    "In transition",
    "Age",
    "Pending",
    "Top blocker",
    "Forced",
    "Last poll",
)


def _t(value: object, style: str = "") -> Text:
    return Text(escape_controls(str(value)), style=style)


def host_row(h: Host) -> list[Text]:
    live = sum(1 for p in h.patches if p.live)
    t = h.transition
    return [
        _t(h.name, "bold"),
        _t(h.state, STATE_STYLE[h.state]),
        _t(h.release or "?"),
        _t(live if h.reporting else "?"),
        _t(t.patch if t else "", "cyan"),
        _t(age_text(t.age_seconds) if t else ""),
        _t(t.tasks_pending if t and t.tasks_pending is not None else ""),
        _t(h.top_blocker or ""),
        _t({True: "FORCED", False: "no", None: "?"}[h.forced], "bold red" if h.forced else ""),
        _t(f"{age_text(h.poll_age)} ago" if h.poll_age is not None else "never"),
    ]


def hosts_table(fleet: Fleet) -> Table:
    table = Table(title=f"{len(fleet.hosts)} hosts (job {escape_controls(fleet.job)}), worst first")
    for name in HOST_COLUMNS:
        table.add_column(name)
    for h in fleet.hosts:
        table.add_row(*host_row(h))
    return table


def rollout_table(found: tuple[Rollout, ...]) -> Table:
    table = Table(title="Rollout by patch")
    for name in ("Patch", "Live", "In transition (oldest)", "Disabled", "Same release, lacking it"):
        table.add_column(name)
    for r in found:
        moving = f"{len(r.in_transition)} ({age_text(r.oldest_transition)})" if r.in_transition else "0"
        table.add_row(
            _t(r.patch, "cyan"),
            _t(len(r.live), "green"),
            _t(moving, "yellow" if r.in_transition else ""),
            _t(len(r.disabled)),
            _t(", ".join(r.lacking) or "-", "bold red" if r.lacking else ""),
        )
    return table


def cve_table(cve: str, verdicts: tuple[CveVerdict, ...]) -> Table:
    counts = {k: sum(1 for v in verdicts if v.verdict == k) for k in VERDICT_STYLE}
    title = f"{cve}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
    table = Table(title=title)
    for name in ("Host", "Verdict", "Why"):
        table.add_column(name)
    for v in verdicts:
        table.add_row(_t(v.host, "bold"), _t(v.verdict, VERDICT_STYLE[v.verdict]), _t(v.why))
    return table
