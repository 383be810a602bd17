"""A DataTable kept in step with a dict of row models: rows are added, removed and patched by key,
never rebuilt, and only cells whose rendering changed are redrawn.

Two column layouts: the full one, and a narrow one for terminals under `NARROW_BELOW` columns
(80x24 included) in which columns give way by priority: less important ones are dropped and the
rest narrowed, so the columns that explain a row (function, reason) stay on screen.
"""

from __future__ import annotations

from lptui.tui.shown import DataTable, Text

NARROW_BELOW = 110


class KeyedTable(DataTable):
    # (key, label, width, width when narrow: 0 drops the column there)
    COLUMNS: tuple[tuple[str, str, int, int], ...] = ()
    NARROW_LABELS: dict[str, str] = {}  # shorter headers for the narrow layout

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO: subclasses must not call super() here.
        self.cursor_type = "row"
        self._shown: dict[str, tuple] = {}
        self.narrow = False
        self._add_columns()

    def _layout(self) -> list[tuple[str, str, int]]:
        if self.narrow:
            return [
                (key, self.NARROW_LABELS.get(key, label), narrow)
                for key, label, _, narrow in self.COLUMNS
                if narrow
            ]
        return [(key, label, width) for key, label, width, _ in self.COLUMNS]

    def _add_columns(self) -> None:
        for key, label, width in self._layout():
            self.add_column(label, key=key, width=width)

    def set_narrow(self, narrow: bool) -> None:
        """Switch layouts (on resize only): the one time rows are rebuilt, from the kept models."""
        if narrow == self.narrow:
            return
        keep = self.selected_key()
        self.narrow = narrow
        self.clear(columns=True)
        self._add_columns()
        for key, model in self._shown.items():
            self.add_row(*self._visible(self.cells(model)), key=key)
        if keep is not None and keep in self._shown:
            self.move_cursor(row=self.get_row_index(keep))

    def _visible(self, cells: tuple) -> tuple:
        if not self.narrow:
            return cells
        return tuple(cell for cell, col in zip(cells, self.COLUMNS, strict=True) if col[3])

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
        shown_columns = {key for key, _, _ in self._layout()}
        for key, model in wanted.items():
            old = self._shown.get(key)
            if old == model:
                continue
            cells = self.cells(model)
            if old is None:
                self.add_row(*self._visible(cells), key=key)
            else:
                for (col, _, _, _), cell, before in zip(self.COLUMNS, cells, self.cells(old), strict=True):
                    if col in shown_columns and (cell != before or cell.style != before.style):
                        self.update_cell(key, col, cell)
            self._shown[key] = model
