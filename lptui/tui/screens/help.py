"""`?`: what the console shows and what the keys do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from lptui.tui.shown import Markdown

HELP = """\
# lptui

**Top:** the kernel, livepatch support, taint letters, and whether you can act (root / demo / read-only).

**Transition:** the patch being applied or removed, how long it has been stuck (from the kernel
log), how many tasks have switched, the trend of pending tasks, and whether the kernel has sent
its fake signal.

**Pending tasks:** the tasks holding the transition up, longest-pending first ("Seen for": since
lptui saw it), with the patched function on their stack, why they block, and what the kernel itself
said of each ("Kernel says": its `klp_try_switch_task` debug line, when one is in the log; where it
disagrees with lptui's reading, the kernel's is shown). **Enter** opens a task: its stack, process
facts, the kernel's verdict and what you can do.

**Patches:** every loaded patch and every livepatch module still loaded after its patch went away.
**Enter** opens a patch: objects, functions, and which a later patch overrides.

| Key | Action |
| --- | --- |
| `Tab` | move between the tables |
| `Enter` | details of the selected row |
| `a` | all threads with their patch_state |
| `l` | load a patch module (inspected first) |
| `v` | revert the selected patch, or reverse the transition in progress |
| `f` | force the transition in progress (asks you to type the patch name) |
| `u` | unload the selected inactive module |
| `k` | the kernel's own verdict per task: its debug lines on for 3.5 s, then restored |
| `r` | refresh now |
| `Ctrl+P` | command palette |
| `q` | quit |

Actions need root (or `--demo`); with `--root` the console is read-only.

*Esc, q or ? closes this help; the arrow keys and PgUp/PgDn scroll it.*
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help-body") as body:
            body.border_title = "Help"
            body.border_subtitle = "Esc closes · ↑↓ PgUp PgDn scroll"
            yield Markdown(HELP)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()  # so the arrow keys scroll it at once
