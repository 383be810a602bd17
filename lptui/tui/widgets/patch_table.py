"""Loaded patches (and inactive livepatch modules, and those installed but not loaded), updated by row
key, never rebuilt."""

from __future__ import annotations

from lptui.core.lifecycle.provenance import LifeCycle
from lptui.core.model import Mechanism, Snapshot
from lptui.tui.fmt import flag, maybe
from lptui.tui.shown import Text
from lptui.tui.widgets.keyed_table import KeyedTable

INSTALLED = "installed:"  # row keys of livepatch modules installed for this release, not loaded

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

    def reconcile(self, snap: Snapshot, life: LifeCycle | None = None) -> None:
        wanted: dict[str, tuple] = {}
        lost = set(life.lost_at_reboot) if life is not None else set()
        mixed = len({p.mechanism for p in snap.patches}) > 1  # name each row's system only then
        for p in snap.patches:
            legacy = p.mechanism is not Mechanism.LIVEPATCH
            tag = str(p.mechanism) if mixed else ""
            wanted[p.name] = (
                "lost" if p.name in lost else f"{tag}:{p.stage or '-'}" if legacy else "patch",
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
        for i in life.installed if life is not None else ():
            if not i.loaded:
                wanted[INSTALLED + i.facts.name] = (
                    "installed",
                    i.facts.name,
                    None,
                    None,
                    None,
                    None,
                    "",
                    0,
                    None,
                )
        self.apply(wanted)
        notes = []
        others = sorted({str(p.mechanism) for p in snap.patches if p.mechanism is not Mechanism.LIVEPATCH})
        if others:
            notes.append("systems: " + ", ".join(others))
        if lost:
            notes.append(f"{len(lost)} gone after a reboot (no file)")
        if life is not None and (n := sum(not i.loaded for i in life.installed)):
            notes.append(f"{n} installed, not loaded")
        self.border_subtitle = Text(" · ".join(notes))

    def cells(self, model: tuple) -> tuple:
        kind, name, enabled, transition, replace, order, objects, funcs, refcnt = model
        if kind in ("installed", "inactive"):  # not a patch: most columns do not apply
            none = Text("-", style="dim")
            installed = kind == "installed"
            return (
                Text(name, style="dim"),
                Text("no", style="dim") if installed else Text("inactive", style="yellow"),
                none,
                none,
                none,
                Text("on disk, not loaded", style="yellow") if installed else Text("patch gone", style="dim"),
                none,
                none if installed else maybe(refcnt),
            )
        legacy = ":" in kind
        mechanism, _, stage = kind.partition(":") if legacy else ("", "", "")
        name_cell = Text(name, style="bold yellow" if kind == "lost" else "bold")
        if mechanism:
            name_cell.append(f" [{mechanism}]", style="magenta")
        if legacy:
            busy = "bold red" if stage in ("patching", "reverting", "preparing") else ""
            moving = Text(stage, style=busy)
        elif transition is not None:
            moving = flag(transition, "IN TRANSITION", "no")
        else:
            moving = Text("n/a", style="dim")
        return (
            name_cell,
            flag(enabled),
            moving,
            flag(replace) if replace is not None else Text("n/a", style="dim"),
            maybe(order) if order is not None else Text("n/a", style="dim"),
            Text(objects),
            Text(str(funcs)),
            maybe(refcnt),
        )
