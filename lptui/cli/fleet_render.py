"""The fleet's tables for the CLI (Rich), from the cells `lptui.fleet.cells` makes (escaped there)."""

from __future__ import annotations

from lptui.core.oncall.history import age_text
from lptui.core.shown import shown
from lptui.fleet.answers import CveVerdict, Rollout
from lptui.fleet.cells import (
    CVE_COLUMNS,
    HOST_COLUMNS,
    ROLLOUT_COLUMNS,
    Cell,
    cve_cells,
    cve_title,
    history_cells,
    history_columns,
    host_cells,
    problem_lines,
    rollout_cells,
)
from lptui.fleet.history import PatchHistory
from lptui.fleet.state import Fleet
from lptui.richtext import Group, Table, Text

__all__ = ["cve_table", "hosts_table", "rollout_table"]


def _table(title: str, columns: tuple[str, ...], rows: list[list[Cell]]) -> Table | Group:
    """A table when every cell fits whole at the output's width (no value is ever cut or folded: a host
    name or a patch name split across lines is as lost to grep as one cut with "…"); otherwise one block
    a row, "column: value" a line, which fits any width."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(*(Text(text, style=style) for text, style in row))
    from lptui.cli import out
    from lptui.richtext import fits_whole

    console = out.console()
    if fits_whole(console, table):
        return table
    blocks: list = [Text(title, style="italic")]
    for row in rows:
        first, *rest = row
        blocks.append(Text(""))
        blocks.append(Text(first[0], style=first[1] or "bold"))
        for name, (text, style) in zip(columns[1:], rest, strict=True):
            if text:
                blocks.append(Text.assemble((f"  {name}: ", "dim"), (text, style)))
    return Group(*blocks)


def hosts_table(fleet: Fleet) -> Group:
    title = f"{len(fleet.hosts)} hosts (job {shown(fleet.job)}), worst first"
    table = _table(title, HOST_COLUMNS, [host_cells(h) for h in fleet.hosts])
    problems = [Text(line, style="yellow") for line in problem_lines(fleet.hosts)]
    return Group(table, *problems)


def rollout_table(
    found: tuple[Rollout, ...], history: dict[str, PatchHistory] | None = None, since: float | None = None
) -> Table | Group:
    """Each patch's rollout; with its history, its transitions' p50 / p90 across the fleet and, over a
    window, its curve (hosts live, step by step) and when the first and the last host went live."""
    history = history or {}
    columns = (*ROLLOUT_COLUMNS, *history_columns(since))
    rows = [rollout_cells(r) + history_cells(history.get(r.patch), r, since) for r in found]
    title = "Rollout by patch" + (f", the last {age_text(since)}" if since else "")
    return _table(title, columns, rows)


def cve_table(cve: str, verdicts: tuple[CveVerdict, ...]) -> Table | Group:
    return _table(cve_title(cve, verdicts), CVE_COLUMNS, [cve_cells(v) for v in verdicts])
