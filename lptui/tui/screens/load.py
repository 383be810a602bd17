"""Pick a .ko file, see its inspection, then confirm the load."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input

from lptui.core.actions.kernel_checks import preview_lines
from lptui.core.actions.preflight import Inspection
from lptui.core.errors import ActionError
from lptui.core.kofile.files import module_files_under
from lptui.tui.failures import ShowsWorkerFailures
from lptui.tui.shown import Button, Label, Option, OptionList, Static, Text

MARKS = {
    "ok": ("✓ ", "green"),
    "warn": ("! ", "yellow"),
    "unknown": ("? ", "yellow"),
    "error": ("✗ ", "bold red"),
}


def find_modules(dirs: list[Path], limit: int = 200) -> list[Path]:
    """The module files directly in `dirs` (the current directory may hold anything: each is looked at
    through the same bounded walk as provenance's, one level deep)."""
    found: list[Path] = []
    for d in dirs:
        found.extend(module_files_under(d, max_entries=5_000, max_depth=0).files)
    return found[:limit]


def inspection_text(ins: Inspection) -> Text:
    mod = ins.module
    text = Text()
    text.append(f"{mod.name or '?'}", style="bold")
    text.append(f"  vermagic {mod.vermagic_release or '?'}  {'signed' if mod.signed else 'unsigned'}")
    text.append("\n")
    for obj in ins.plan.objects:
        funcs = (
            ", ".join(f.name + (f",{f.sympos}" if f.sympos != 1 else "") for f in obj.functions)
            or "callbacks only"
        )
        text.append(f"  {obj.name}: ", style="cyan")
        text.append(funcs).append("\n")
    if ins.plan.replace:
        unless = " (unless built not to: the builder's default)" if ins.plan.replace_by_default else ""
        text.append(f"  cumulative: replaces every loaded patch{unless}", style="yellow").append("\n")
    for line in preview_lines(ins.preview)[1:]:
        text.append(f"  {line.strip()}", style="yellow" if "original code" in line else "").append("\n")
    for note in ins.plan.notes:
        text.append(f"  {note}", style="dim").append("\n")
    for check in ins.checks:
        mark, style = MARKS[check.level]
        text.append(mark + check.text, style=style).append("\n")
    return text


class LoadScreen(ShowsWorkerFailures, ModalScreen[str | None]):
    """Returns the path to load, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, dirs: list[Path], inspect) -> None:
        super().__init__()
        self.dirs = dirs
        self.inspect = inspect  # path -> Inspection (raises ActionError)
        self.chosen: Inspection | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Load a livepatch module", classes="dialog-title")
            yield Static("Looked in: " + ", ".join(str(d) for d in self.dirs), classes="dim")
            modules = find_modules(self.dirs)
            options = [Option(str(p), id=str(p)) for p in modules]
            yield OptionList(*options, id="modules")
            if not modules:
                yield Static("No .ko files there. Type a path below.", classes="dim")
            yield Input(placeholder="or type a path to a .ko file and press Enter", id="path")
            with VerticalScroll(id="inspection-box"):
                yield Static("Select a module to inspect it.", id="inspection")
            with Horizontal(classes="buttons"):
                yield Button("Load", id="confirm", variant="warning", disabled=True)
                yield Button("Cancel", id="cancel")

    @on(OptionList.OptionSelected, "#modules")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._inspect(str(event.option.id))

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._inspect(event.value.strip())

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False)
    def _inspect(self, path: str) -> None:
        try:
            ins = self.inspect(path)
        except ActionError as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        self.app.call_from_thread(self._show, ins)

    def _show(self, ins: Inspection) -> None:
        self.chosen = ins
        self.query_one("#inspection", Static).update(inspection_text(ins))
        button = self.query_one("#confirm", Button)
        button.disabled = not ins.loadable
        button.label = "Load" if ins.loadable else "Not loadable"

    def worker_failed(self, name: str, message: str) -> None:
        self._show_error(f"cannot inspect it: {message}")

    def _show_error(self, message: str) -> None:
        self.chosen = None
        self.query_one("#inspection", Static).update(Text(message, style="bold red"))
        self.query_one("#confirm", Button).disabled = True

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        if self.chosen is not None and self.chosen.loadable:
            self.dismiss(self.chosen.path)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
