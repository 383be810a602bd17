"""A fleet table kept in step with the poller's rows by key, in slices: rows gone are removed, new ones
added, changed cells updated in place, and the order fixed by one sort only when it changed. Each step
adds or removes at most SLICE rows, so the UI thread answers keys between slices: a DataTable row costs
~50 µs to add and its cells are measured when idle; 1,000 in one go held the UI for 200-300 ms.
The columns' widths are fixed from the poller's (off the UI thread): a value is never cut, and a value
wider than its column rebuilds the columns.
"""

from __future__ import annotations

from collections.abc import Iterator

from lptui.fleet.cells import Cell
from lptui.tui.shown import DataTable, Text

SLICE = 100  # row operations a step; Textual measures the new rows' cells when idle after it: ~20 ms


def _texts(row: list[Cell]) -> list[Text]:
    return [Text(text, style=style) for text, style in row]


class KeyedRows:
    def __init__(self, table: DataTable) -> None:
        self.table = table
        self.shown: dict[str, tuple[Cell, ...]] = {}
        self.columns: tuple[str, ...] = ()
        self.widths: tuple[int, ...] = ()
        self.restore: str | None = None  # the row the cursor was on when the columns were rebuilt

    def steps(
        self, rows: dict[str, list[Cell]], columns: tuple[str, ...], widths: tuple[int, ...]
    ) -> Iterator[None]:
        """Bring the table to `rows` (in their order) under `columns` of at least `widths` cells (fixed:
        a value never wider than its column, nothing measured here), yielding every SLICE operations."""
        table, done = self.table, 0
        grown = any(new > old for new, old in zip(widths, self.widths, strict=False))
        if columns != self.columns or grown:  # other columns fit, or a value outgrew its column: rebuilt
            keep = self.selected()
            table.clear(columns=True)
            for label, width in zip(columns, widths, strict=True):
                table.add_column(label, key=label, width=width)
            self.columns, self.widths, self.shown = columns, widths, {}
            if keep is not None:
                self.restore = keep
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
            self.shown[key] = now
            if before is not None:  # an update is cheap (~20 µs) and measures nothing: all in one frame
                for column, new, old in zip(keys, now, before, strict=True):
                    if new != old:
                        table.update_cell(key, column, Text(new[0], style=new[1]))
                continue
            table.add_row(*_texts(row), key=key)
            done += 1
            if done % SLICE == 0:
                yield
        if [row.key.value for row in table.ordered_rows] != list(rows):
            # DataTable sorts by cell values: the first column is the row's key as the cell shows it
            by_text = {Text(key).plain: i for i, key in enumerate(rows)}
            table.sort(keys[0], key=lambda cell: by_text.get(str(cell), len(by_text)))
        if self.restore is not None and self.restore in self.shown:
            table.move_cursor(row=table.get_row_index(self.restore))
        self.restore = None

    def selected(self) -> str | None:
        if not self.table.row_count:
            return None
        return self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
