"""Confirmation dialogs and their wording: a plain yes/no (revert, reverse, unload) and the guarded force
dialog (type the patch name). Both answer True only on their confirm button or key; the App runs the
action on True."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from lptui.core.model import Snapshot
from lptui.tui.shown import Button, Label, Static, lines_text


class Dialog(ModalScreen[bool]):
    """The buttons every confirmation shares: `#confirm` answers True, `#cancel` False."""

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ConfirmScreen(Dialog):
    AUTO_FOCUS = "#cancel"  # the safe choice is the default
    BINDINGS = [Binding("escape,n", "answer(False)", "Cancel"), Binding("y", "answer(True)", "Confirm")]

    def __init__(self, title: str, body: str, confirm: str = "Confirm") -> None:
        super().__init__()
        self._title, self._body, self._confirm = title, body, confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="buttons"):
                yield Button(self._confirm, id="confirm", variant="warning")
                yield Button("Cancel", id="cancel")


def revert_dialog(snap: Snapshot, name: str) -> ConfirmScreen:
    """Reversing the transition in progress, or disabling an applied patch: what each does."""
    t = snap.transition
    if t is not None and t.patch == name:
        title = f"Reverse the {t.direction} transition of {name}?"
        body = (
            "Writing the opposite value to `enabled` sends the tasks that already switched back. "
            "This is the safe way to cancel a stuck transition."
        )
        return ConfirmScreen(title, body, "Reverse")
    body = (
        "This starts an unpatching transition. When it completes the patch disappears from "
        "/sys/kernel/livepatch and its module stays loaded until you unload it (u)."
    )
    return ConfirmScreen(f"Disable {name}?", body, "Disable")


def unload_dialog(name: str) -> ConfirmScreen:
    return ConfirmScreen(f"Unload module {name}?", "Its patch is gone; this removes the module.", "Unload")


class ForceScreen(Dialog):
    """Forcing breaks the consistency guarantee: explain, and make the user type the patch name."""

    AUTO_FOCUS = "#force-name"
    BINDINGS = [Binding("escape", "answer(False)", "Cancel")]

    def __init__(self, patch: str, consequences: str) -> None:
        super().__init__()
        self.patch = patch
        self.consequences = consequences

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Label(f"Force the transition of {self.patch}?", classes="dialog-title")
            yield Static(lines_text(self.consequences), classes="dialog-body")
            yield Label(f"Type {self.patch} to confirm:")
            # An empty field with a neutral hint: the patch name as placeholder looked filled in.
            yield Input(placeholder="type the patch name", id="force-name")
            with Horizontal(classes="buttons"):
                yield Button("Force", id="confirm", variant="error", disabled=True)
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#force-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.patch

    @on(Input.Submitted, "#force-name")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.patch:
            self.dismiss(True)
