"""Loaded patches (and inactive livepatch modules), updated by row key, never rebuilt."""

from __future__ import annotations

from rich.text import Text

from lptui.core.model import Snapshot
from lptui.tui.fmt import flag, maybe
from lptui.tui.widgets.keyed_table import KeyedTable

# Fixed widths: columns do not jump as data changes (and renders are deterministic).
# Narrow (80 columns): the object list and refcnt give way (the patch's detail screen has both).
COLUMNS = (
    ("name", "Patch", 28, 24),
    ("enabled", "Enabled", 8, 8),
    ("transition", "Transition", 13, 13),
    ("replace", "Replace", 7, 7),
    ("order", "Order", 5, 5),
    ("objects", "Objects", 19, 0),
    ("funcs", "Funcs", 5, 5),
    ("refcnt", "Refcnt", 6, 0),
)


class PatchTable(KeyedTable):
    BORDER_TITLE = "Patches"
    COLUMNS = COLUMNS

    def on_mount(self) -> None:
        self.zebra_stripes = True

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
        self.apply(wanted)

    def cells(self, model: tuple) -> tuple:
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
