"""A DataTable kept in step with a dict of row models: rows are added, removed and patched by key,
never rebuilt, and only cells whose rendering changed are redrawn."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class KeyedTable(DataTable):
    COLUMNS: tuple[tuple[str, str, int], ...] = ()  # (key, label, fixed width)

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO: subclasses must not call super() here.
        self.cursor_type = "row"
        self._shown: dict[str, tuple] = {}
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def cells(self, model: tuple) -> tuple[Text, ...]:
        raise NotImplementedError

    def apply(self, wanted: dict[str, tuple]) -> None:
        """New rows are appended in `wanted`'s order; existing rows keep their place."""
        for gone in self._shown.keys() - wanted.keys():
            self.remove_row(gone)
            del self._shown[gone]
        for key, model in wanted.items():
            old = self._shown.get(key)
            if old == model:
                continue
            cells = self.cells(model)
            if old is None:
                self.add_row(*cells, key=key)
            else:
                for (col, _, _), cell, before in zip(self.COLUMNS, cells, self.cells(old), strict=True):
                    if cell != before or cell.style != before.style:
                        self.update_cell(key, col, cell)
            self._shown[key] = model
