"""A fleet table kept in step with the poller's rows by key, in slices: rows gone are removed, new ones
added, changed cells updated in place, and the order fixed by one sort only when it changed. Each call of
`step()` does at most SLICE of those, so the UI thread answers keys between slices: a DataTable row costs
~50 µs to add, and 10,000 in one go would hold the UI for half a second (benchmarks/fleet.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from lptui.fleet.cells import Cell
from lptui.tui.shown import DataTable, Text

SLICE = 200  # row operations a step: ~10 ms


def _texts(row: list[Cell]) -> list[Text]:
    return [Text(text, style=style) for text, style in row]


class KeyedRows:
    def __init__(self, table: DataTable) -> None:
        self.table = table
        self.shown: dict[str, tuple[Cell, ...]] = {}
        self.columns: tuple[str, ...] = ()

    def steps(self, rows: dict[str, list[Cell]], columns: tuple[str, ...]) -> Iterator[None]:
        """Bring the table to `rows` (in their order) under `columns`, yielding every SLICE operations."""
        table, done = self.table, 0
        if columns != self.columns:  # the columns that fit changed (a resize, a longer value): rebuilt
            table.clear(columns=True)
            table.add_columns(*columns)
            self.columns, self.shown = columns, {}
        keys = list(table.columns)
        for gone in self.shown.keys() - rows.keys():
            table.remove_row(gone)
            del self.shown[gone]
            done += 1
            if done % SLICE == 0:
                yield
        for key, row in rows.items():
            now, before = tuple(row), self.shown.get(key)
            if before == now:
                continue
            if before is None:
                table.add_row(*_texts(row), key=key)
            else:
                for column, new, old in zip(keys, now, before, strict=True):
                    if new != old:
                        table.update_cell(key, column, Text(new[0], style=new[1]))
            self.shown[key] = now
            done += 1
            if done % SLICE == 0:
                yield
        if [row.key.value for row in table.ordered_rows] != list(rows):
            rank = {key: i for i, key in enumerate(rows)}
            # DataTable sorts by cell values: the first column is the row's key as the cell shows it
            by_text = {Text(key).plain: i for key, i in rank.items()}
            table.sort(keys[0], key=lambda cell: by_text.get(str(cell), len(by_text)))
