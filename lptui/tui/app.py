"""The Textual console. One worker runs the poller (lptui.watch.poller); the App keeps its latest
`View` in one reactive that the dashboard is bound to; actions run in workers and report back as
messages. The App never reaches into a screen's widgets, and screens never read the kernel.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import work
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen

from lptui.core.errors import ActionError
from lptui.core.lifecycle.moddirs import module_dirs
from lptui.core.model import Snapshot
from lptui.source import Source
from lptui.tui.availability import availability, why_unavailable
from lptui.tui.commands import LivepatchCommands
from lptui.tui.failures import ShowsWorkerFailures, one_line
from lptui.tui.keys import Action
from lptui.tui.messages import (
    ActionDone,
    ActionRequested,
    ModuleEvent,
    PatchChosen,
    PollFailed,
    TaskChosen,
    ViewReady,
    WorkerFailed,
)
from lptui.tui.screens.dashboard import DashboardScreen
from lptui.tui.shown import App
from lptui.tui.widgets.patch_table import INSTALLED
from lptui.watch.poller import Poller, Tone, View
from lptui.watch.udev import ModuleEvents

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.core.actions.actions import Outcome
    from lptui.core.actions.preflight import Inspection

# The other screens, the actions and what they need (pyelftools, Markdown) are imported when first
# used: the dashboard's first paint waits for every import made here.


class LptuiApp(ShowsWorkerFailures, App[int]):
    TITLE = "lptui"
    CSS_PATH = "lptui.tcss"
    COMMANDS = App.COMMANDS | {LivepatchCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False)]

    # repaint=False: a new view repaints nothing by itself (the default repaints the whole screen
    # each time); the widgets redraw what changed
    view: reactive[View | None] = reactive(None, always_update=True, repaint=False)

    def __init__(
        self,
        source: Source,
        *,
        auto_poll: bool = True,
        watch_modules: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.poller = Poller(source, clock=clock, wall=wall, life_cycle=True)
        self.auto_poll = auto_poll  # False (tests): poll only when asked, never on a timer
        if auto_poll:
            self.poller.prefetch()  # the first view is read while Textual sets the screen up
        self.watch_modules = watch_modules
        self.module_dirs = module_dirs
        self._udev: ModuleEvents | None = None

    @property
    def snapshot(self) -> Snapshot | None:
        return self.view.snapshot if self.view is not None else None

    @property
    def polls(self) -> int:
        """Views shown so far."""
        return self._views_shown

    _views_shown = 0
    _availability: tuple[str | None, ...] | None = None  # of the last view drawn (see on_view_ready)

    # ----- lifecycle -----
    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen().data_bind(LptuiApp.view)

    def on_mount(self) -> None:
        live = not self.source.simulated and not self.source.read_only
        if live and self.watch_modules:
            self._udev = ModuleEvents(lambda action, name: self.post_message(ModuleEvent(action, name)))
            problem = self._udev.start()
            if problem:
                self.poller.note(problem, Tone.QUIET)
                self._udev = None
        self.poll()

    def on_unmount(self) -> None:
        if self._udev is not None:
            self._udev.stop()
        self.poller.close()

    # ----- polling: the poller decides when; one worker runs it -----
    def poll(self) -> None:
        """A poll now: coalesced into the running loop's next one, or a loop started for it."""
        if self.poller.request():
            self._poll_loop()

    @work(thread=True, group="poll", exit_on_error=False)
    def _poll_loop(self) -> None:
        self.poller.run(
            lambda view: self.post_message(ViewReady(view)),
            lambda error: self.post_message(PollFailed(error)),
            forever=self.auto_poll,
            wait_shown=True,  # the next poll after this view is drawn: no backlog on a slow screen
        )

    def on_view_ready(self, message: ViewReady) -> None:
        try:
            if not self.screen_stack:  # the polling thread can post while the app starts or closes
                return
            self._views_shown += 1
            if message.view.shows_the_same_as(self.view):
                return  # nothing new to draw (an idle poll): no render, no layout
            self.view = message.view
            if (now := availability(message.view)) != self._availability:
                self._availability = now
                self.refresh_bindings()
        finally:
            self.poller.shown()

    def on_poll_failed(self, message: PollFailed) -> None:
        self.notify(message.error, title="Cannot read the kernel state", severity="warning")

    def on_worker_failed(self, message: WorkerFailed) -> None:
        """Any worker that died: say so in one line, log it, and make sure polling goes on."""
        self.notify(message.error, title=f"{message.worker} failed", severity="error")
        self.poller.note(f"{message.worker} failed: {message.error}", Tone.ERROR)
        self.poll()

    def on_module_event(self, message: ModuleEvent) -> None:
        self.poller.note(f"module {message.action}: {message.name}", Tone.QUIET)
        self.poll()

    # ----- actions: requested by keys, the dashboard or the palette -----
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if why_unavailable(action, self.view) else True

    def _refuse(self, action: str) -> bool:
        why = why_unavailable(action, self.view)
        if why:
            self.notify(why, severity="warning")
        return why is not None

    def on_action_requested(self, message: ActionRequested) -> None:
        handlers = {
            Action.REVERT: self.action_revert,
            Action.FORCE: self.action_force,
            Action.UNLOAD: self.action_unload,
            Action.LOAD: self.action_load,
            Action.VERDICTS: self.action_verdicts,
        }
        handlers[Action(message.action)](message.target)

    def action_verdicts(self, _selected: str | None = None) -> None:
        """The kernel's own verdict per task: klp_try_switch_task's debug lines on for a few seconds (the
        same gated, audited, restored window as `lptui verdicts`); the next poll reads them."""
        if self._refuse(Action.VERDICTS):
            return
        from lptui.core.actions.actions import Outcome
        from lptui.core.actions.verdict_window import DEFAULT_SECONDS, MAX_PENDING

        source = self.source

        def window() -> Outcome:
            result = source.verdict_window(DEFAULT_SECONDS, MAX_PENDING)
            return Outcome(
                f"kernel verdicts: {len(result.verdicts)} task(s) in {result.seconds:.1f} s, "
                f"{result.restored} debug flag(s) restored"
            )

        self.notify(f"Kernel verdicts: dynamic debug on for {DEFAULT_SECONDS:g} s…")
        self.start_action("kernel verdicts", window)

    def action_revert(self, selected: str | None = None) -> None:
        snap = self.snapshot
        if snap is None or self._refuse(Action.REVERT):
            return
        if snap.transition is not None:
            self.request_revert(snap.transition.patch)
        elif selected and snap.patch(selected):
            self.request_revert(selected)
        else:
            self.notify("Select a loaded patch first.", severity="warning")

    def request_revert(self, name: str) -> None:
        snap = self.snapshot
        if snap is None or self._refuse(Action.REVERT):
            return
        from lptui.tui.screens.confirm import revert_dialog

        actions = self.source.actions()
        self._confirm_then(revert_dialog(snap, name), f"revert {name}", lambda: actions.revert(name))

    def action_force(self, _selected: str | None = None) -> None:
        snap = self.snapshot
        if snap is None or self._refuse(Action.FORCE) or snap.transition is None:
            return
        self.request_force(snap.transition.patch)

    def request_force(self, name: str) -> None:
        snap = self.snapshot
        if snap is None or self._refuse(Action.FORCE):
            return
        from lptui.core.actions.consequences import force_consequences
        from lptui.tui.screens.confirm import ForceScreen

        actions = self.source.actions()
        dialog = ForceScreen(name, force_consequences(snap, name))
        self._confirm_then(dialog, f"force {name}", lambda: actions.force(name, yes=True))

    def action_unload(self, selected: str | None = None) -> None:
        snap = self.snapshot
        if snap is None or self._refuse(Action.UNLOAD):
            return
        inactive = [m.name for m in snap.inactive_modules]
        if selected in inactive:
            self.request_unload(selected)
        elif len(inactive) == 1:
            self.request_unload(inactive[0])
        else:
            self.notify("Select an inactive module in the patches table first.", severity="warning")

    def request_unload(self, name: str) -> None:
        if self._refuse(Action.UNLOAD):
            return
        from lptui.tui.screens.confirm import unload_dialog

        actions = self.source.actions()
        self._confirm_then(unload_dialog(name), f"unload {name}", lambda: actions.unload(name))

    def action_load(self, _selected: str | None = None) -> None:
        if self._refuse(Action.LOAD):
            return
        from lptui.tui.screens.load import LoadScreen

        actions = self.source.actions()
        release = self.snapshot.kernel.release if self.snapshot else None

        def chosen(path: str | None) -> None:
            if path:
                self.start_action(f"load {path}", lambda: actions.load(path))

        self.push_screen(LoadScreen(self.module_dirs(release), self._inspect), chosen)

    def _confirm_then(self, dialog: ModalScreen[bool], what: str, call: Callable[[], Outcome]) -> None:
        """The dialog first; the action (in a worker) only on its confirm."""

        def answered(ok: bool | None) -> None:
            if ok:
                self.start_action(what, call)

        self.push_screen(dialog, answered)

    def _inspect(self, path: str) -> Inspection:
        """The load dialog's pre-flight, with the life cycle this console's View already holds."""
        return self.source.inspect(path, self.view.life if self.view is not None else None)

    @work(thread=True, group="action", exit_on_error=False)
    def start_action(self, what: str, call: Callable[[], Outcome]) -> None:
        try:
            outcome = call()
        except ActionError as exc:
            self.post_message(ActionDone(False, f"{what}: {exc}"))
            return
        except Exception as exc:  # never let an action take the console down
            self.post_message(ActionDone(False, f"{what}: {one_line(exc)}"))
            return
        self.post_message(ActionDone(True, outcome.message))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="information" if message.ok else "error", timeout=8)
        if not self.source.simulated:  # the demo's kernel log already has the audit line
            self.poller.note(f"lptui: {message.text}", Tone.DONE if message.ok else Tone.ERROR)
        self.poll()

    # ----- navigation -----
    def on_task_chosen(self, message: TaskChosen) -> None:
        from lptui.tui.screens.task_detail import TaskScreen

        oncall = self.view.oncall if self.view is not None else None
        clock = oncall.clock if oncall is not None else None
        monotonic = clock.monotonic if clock is not None else None
        self.push_screen(
            TaskScreen(
                message.task,
                self.source.tree,
                simulated=self.source.simulated,
                monotonic=monotonic,
                transition=self.snapshot.transition if self.snapshot is not None else None,
            )
        )

    def on_patch_chosen(self, message: PatchChosen) -> None:
        snap = self.snapshot
        patch = snap.patch(message.name) if snap is not None else None
        if patch is not None and snap is not None:
            from lptui.tui.screens.patch_detail import PatchScreen

            self.push_screen(PatchScreen(patch, snap, self.view.life if self.view is not None else None))
        elif message.name.startswith(INSTALLED):
            name = message.name.removeprefix(INSTALLED)
            life = self.view.life if self.view is not None else None
            path = next((i.facts.path for i in life.installed if i.facts.name == name), "?") if life else "?"
            self.notify(f"{name}: installed at {path}, not loaded. Press l to load it.")
        else:
            self.notify(
                f"{message.name}: livepatch module still loaded, its patch is gone. Press u to unload it."
            )

    def action_all_tasks(self) -> None:
        snap = self.snapshot
        if snap is not None:
            from lptui.tui.screens.all_tasks import AllTasksScreen

            self.push_screen(AllTasksScreen(lambda: self.poller.all_tasks(snap)))

    def action_help(self) -> None:
        from lptui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_refresh(self) -> None:
        self.poll()
