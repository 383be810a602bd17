"""One patch: objects, functions (and which a later patch overrides), module facts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from lptui.core.lifecycle.provenance import LifeCycle
from lptui.core.model import MECHANISM_TITLES, Mechanism, PatchInfo, Snapshot
from lptui.tui.fmt import flag, maybe
from lptui.tui.shown import DataTable, Static, Text


def overrides(snap: Snapshot, patch: PatchInfo) -> dict[tuple[str, str, int], str]:
    """(object, function, sympos) -> the later patch that wins over `patch` for it."""
    names = [p.name for p in snap.patches]
    later = snap.patches[names.index(patch.name) + 1 :] if patch.name in names else ()
    out = {}
    for other in later:
        if other.mechanism is not patch.mechanism:
            continue  # each system stacks its own patches
        for obj in other.objects:
            for fn in obj.functions:
                out[(obj.name, fn.name, fn.sympos)] = other.name
    return out


def provenance_text(name: str, life: LifeCycle | None) -> Text:
    """Where the patch came from, what it fixes, and whether it survives a reboot."""
    prov = life.provenance.get(name) if life is not None else None
    if prov is None:
        return Text("File  not looked for yet", style="dim")
    if prov.file is None and prov.why and prov.why.startswith("not searched"):
        return Text.assemble(("File  ", "bold"), (prov.why, "dim"))
    if prov.file is None:
        return Text.assemble(
            ("File  ", "bold"), (f"none found: gone after a reboot ({prov.why})", "bold yellow")
        )
    f = prov.file
    text = Text.assemble(("File  ", "bold"), f.path, (f"  (matched by {prov.matched_by})", "dim"))
    if f.description:
        text.append("\n").append(f.description)
    if prov.cves:
        text.append("\n").append(f"Fixes  {', '.join(prov.cves)}", style="bold")
    text.append("\n").append(
        f"Package  {prov.package}" if prov.package else f"Package  - ({prov.why})", style="dim"
    )
    return text


class PatchScreen(Screen):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, patch: PatchInfo, snap: Snapshot, life: LifeCycle | None = None) -> None:
        super().__init__()
        self.patch = patch
        self.snap = snap
        self.life = life

    def compose(self) -> ComposeResult:
        p = self.patch
        m = p.module
        head = Text.assemble(
            (p.name, "bold"),
            "  enabled ",
            flag(p.enabled),
            "  transition ",
            flag(p.transition),
            "  replace ",
            flag(p.replace) if p.replace is not None else Text("n/a", style="dim"),
            "  stack order ",
            maybe(p.stack_order) if p.stack_order is not None else Text("n/a", style="dim"),
        )
        facts = f"refcnt {m.refcnt}  taint {m.taint or '-'}  srcversion {m.srcversion or '-'}"
        if m.version:
            facts += f"  version {m.version}"
        module = Text.assemble(("Module  ", "bold"), facts)
        with VerticalScroll():
            yield Static(head, classes="section")
            if p.mechanism is not Mechanism.LIVEPATCH:
                details = ", ".join(f"{k} {v}" for k, v in p.details)
                system = Text.assemble(
                    ("System  ", "bold"),
                    (MECHANISM_TITLES[p.mechanism], "magenta"),
                    f"  stage {p.stage or '?'}  ",
                    (details, "dim"),
                )
                yield Static(system, classes="section")
            yield Static(module, classes="section")
            yield Static(provenance_text(p.name, self.life), classes="section")
            yield DataTable(id="functions", cursor_type="row")
            for problem in p.problems:
                yield Static(Text(problem, style="yellow"))
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#functions", DataTable)
        table.border_title = "Objects and functions"
        states = any(fn.state for obj in self.patch.objects for fn in obj.functions)
        for col in ("Object", "Loaded", "Patched", "Function", "Sympos", "Live version"):
            table.add_column(col)
        if states:
            table.add_column("kGraft state")
        over = overrides(self.snap, self.patch)
        for obj in self.patch.objects:
            for fn in obj.functions:
                winner = over.get((obj.name, fn.name, fn.sympos))
                table.add_row(
                    obj.name,
                    flag(obj.loaded),
                    flag(obj.patched) if obj.patched is not None else Text("n/a", style="dim"),
                    fn.name,
                    str(fn.sympos),
                    Text(f"overridden by {winner}", style="yellow")
                    if winner
                    else Text("this patch", style="green"),
                    *([fn.state or "-"] if states else []),
                )
