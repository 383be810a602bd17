"""Command palette: the same actions as the keys, by name."""

from __future__ import annotations

from functools import partial
from typing import Protocol, cast

from textual.command import Hits, Provider

from lptui.core.shown import shown
from lptui.tui.shown import discovery_hit, hit

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.model import Snapshot


class Console(Protocol):
    """What the palette asks of the console's App (lptui.tui.app.LptuiApp), without importing it."""

    snapshot: Snapshot | None

    def action_load(self) -> None: ...
    def action_all_tasks(self) -> None: ...
    def action_refresh(self) -> None: ...
    def action_help(self) -> None: ...
    def action_verdicts(self) -> None: ...
    def request_revert(self, name: str) -> None: ...
    def request_force(self, name: str) -> None: ...
    def request_unload(self, name: str) -> None: ...


class LivepatchCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = cast("Console", self.app)
        snap = app.snapshot
        out: list[tuple[str, str, object]] = [
            ("Load a livepatch module…", "inspect a .ko, then load it", app.action_load),
            ("Show all tasks", "every thread with its patch_state", app.action_all_tasks),
            ("Refresh", "read the kernel now", app.action_refresh),
            ("Help", "what the console shows and the keys", app.action_help),
        ]
        if snap is not None:
            t = snap.transition
            if t is not None:
                out.append(
                    (
                        f"Reverse the {t.direction} of {t.patch}",
                        "cancel the transition safely",
                        partial(app.request_revert, t.patch),
                    )
                )
                out.append(
                    (
                        f"Force the {t.direction} of {t.patch}…",
                        "breaks the consistency guarantee",
                        partial(app.request_force, t.patch),
                    )
                )
                why = ("Ask the kernel why each task blocks", "its debug lines for 3.5 s, restored")
                out.append((*why, app.action_verdicts))
            for p in snap.patches:
                if t is None or t.patch != p.name:
                    out.append(
                        (
                            f"Revert (disable) {p.name}",
                            "starts an unpatching transition",
                            partial(app.request_revert, p.name),
                        )
                    )
            for m in snap.inactive_modules:
                out.append(
                    (
                        f"Unload module {m.name}",
                        "remove the inactive livepatch module",
                        partial(app.request_unload, m.name),
                    )
                )
        return out

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield discovery_hit(title, callback, help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield hit(score, matcher.highlight(shown(title)), callback, help_text)
