"""Loaded patches (and inactive livepatch modules), updated by row key, never rebuilt."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from lptui.core.model import Snapshot
from lptui.tui.fmt import flag, maybe

# Fixed widths: columns do not jump as data changes (and renders are deterministic).
COLUMNS = (
    ("name", "Patch", 28),
    ("enabled", "Enabled", 8),
    ("transition", "Transition", 13),
    ("replace", "Replace", 7),
    ("order", "Order", 5),
    ("objects", "Objects", 19),
    ("funcs", "Funcs", 5),
    ("refcnt", "Refcnt", 6),
)


class PatchTable(DataTable):
    BORDER_TITLE = "Patches"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._shown: dict[str, tuple] = {}
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def reconcile(self, snap: Snapshot) -> None:
        wanted: dict[str, tuple] = {}
        for p in snap.patches:
            wanted[p.name] = (
                "patch",
                p.name,
                p.enabled,
                p.transition,
                p.replace,
                p.stack_order,
                ", ".join(o.name for o in p.objects),
                p.function_count,
                p.module.refcnt,
            )
        for m in snap.inactive_modules:
            wanted[m.name] = ("inactive", m.name, None, None, None, None, "", 0, m.refcnt)
        for gone in self._shown.keys() - wanted.keys():
            self.remove_row(gone)
            del self._shown[gone]
        for key, model in wanted.items():
            if self._shown.get(key) == model:
                continue
            cells = self._cells(model)
            if key in self._shown:
                for (col, _, _), cell in zip(COLUMNS, cells, strict=True):
                    self.update_cell(key, col, cell)
            else:
                self.add_row(*cells, key=key)
            self._shown[key] = model

    @staticmethod
    def _cells(model: tuple) -> tuple:
        kind, name, enabled, transition, replace, order, objects, funcs, refcnt = model
        if kind == "inactive":
            return (
                Text(name, style="dim"),
                Text("inactive", style="yellow"),
                Text("-", style="dim"),
                Text("-", style="dim"),
                Text("-", style="dim"),
                Text("patch gone", style="dim"),
                Text("-", style="dim"),
                maybe(refcnt),
            )
        return (
            Text(name, style="bold"),
            flag(enabled),
            flag(transition, "IN TRANSITION", "no") if transition is not None else Text("n/a", style="dim"),
            flag(replace) if replace is not None else Text("n/a", style="dim"),
            maybe(order) if order is not None else Text("n/a", style="dim"),
            Text(objects),
            Text(str(funcs)),
            maybe(refcnt),
        )
