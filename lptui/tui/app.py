"""The Textual console. Worker threads read the kernel and run actions; handlers own the UI.

Polls never overlap: the next one is armed only when the previous one has been handled (fast
while a transition runs, slow when idle); module events and actions trigger one at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.timer import Timer

from lptui.core.actions import Outcome, force_consequences
from lptui.core.errors import ActionError
from lptui.core.model import Snapshot
from lptui.tui.commands import LivepatchCommands
from lptui.tui.fmt import SHORT_REASON
from lptui.tui.messages import ActionDone, ModuleEvent, PollFailed, SnapshotReady
from lptui.tui.screens.all_tasks import AllTasksScreen
from lptui.tui.screens.confirm import ConfirmScreen, ForceScreen
from lptui.tui.screens.dashboard import ACTIONS, DashboardScreen
from lptui.tui.screens.help import HelpScreen
from lptui.tui.screens.load import LoadScreen
from lptui.tui.screens.patch_detail import PatchScreen
from lptui.tui.screens.task_detail import TaskScreen
from lptui.tui.widgets.event_log import EventLog
from lptui.tui.widgets.patch_table import PatchTable
from lptui.tui.widgets.pending_table import MAX_ROWS as PENDING_ROWS
from lptui.tui.widgets.pending_table import PendingTable
from lptui.watch.backend import FAST_INTERVAL, SLOW_INTERVAL, Backend
from lptui.watch.tracker import TransitionTracker
from lptui.watch.udev import ModuleEvents


class LptuiApp(App[int]):
    TITLE = "lptui"
    CSS_PATH = "lptui.tcss"
    COMMANDS = App.COMMANDS | {LivepatchCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False)]

    def __init__(
        self,
        backend: Backend,
        *,
        auto_poll: bool = True,
        watch_modules: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.auto_poll = auto_poll
        self.watch_modules = watch_modules
        self.clock = clock
        self.wall = wall
        self.snapshot: Snapshot | None = None
        self._shown: tuple = ()
        self.tracker = TransitionTracker()
        self.polls = 0
        self._polling = False
        self._again = False
        self._timer: Timer | None = None
        self._udev: ModuleEvents | None = None

    # ----- lifecycle -----
    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen()

    def start_watching(self) -> None:
        """Called by the dashboard once its widgets exist."""
        events = self._dashboard().query_one(EventLog)
        if self.backend.kmsg and self.backend.kmsg.error:
            events.add_note(self.backend.kmsg.error, self.wall(), "dim")
        live = self.backend.session is None and not self.backend.read_only
        if live and self.watch_modules:
            self._udev = ModuleEvents(lambda action, name: self.post_message(ModuleEvent(action, name)))
            problem = self._udev.start()
            if problem:
                events.add_note(problem, self.wall(), "dim")
                self._udev = None
        self.poll()

    def on_unmount(self) -> None:
        if self._udev is not None:
            self._udev.stop()
        self.backend.close()

    # ----- polling -----
    def poll(self) -> None:
        if self._polling:
            self._again = True
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._polling = True
        self._poll_worker()

    @work(thread=True, group="poll", exit_on_error=False)
    def _poll_worker(self) -> None:
        try:
            snap, lines = self.backend.poll()
        except Exception as exc:  # keep the console alive; say what broke
            self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))
            return
        # Linear work on 100k tasks stays here, off the UI thread. Only this worker (one at a time)
        # writes the tracker; the handler reads it after the message arrives.
        self.tracker.observe(snap, self.clock())
        for line in lines:
            self.tracker.note_log(line.text)
        shown = self.tracker.longest_pending(snap, PENDING_ROWS, self.clock())
        self.post_message(SnapshotReady(snap, lines, self.wall(), shown))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._polling = False
        self.polls += 1
        snap = message.snapshot
        self.snapshot = snap
        self._shown = message.shown
        dashboard = self._dashboard()
        if message.lines:
            dashboard.query_one(EventLog).add_kernel_lines(
                message.lines, self.backend.boot_wall(message.wall)
            )
        dashboard.set_class(snap.transition is None, "-idle")
        dashboard.show(snap, message.shown)
        if self.polls == 1:  # land where it matters: the blockers if a transition runs
            target = PendingTable if snap.transition is not None else PatchTable
            dashboard.query_one(target).focus()
        self.refresh_bindings()
        self._next(FAST_INTERVAL if snap.transition else SLOW_INTERVAL)

    def on_poll_failed(self, message: PollFailed) -> None:
        self._polling = False
        self.notify(message.error, title="Cannot read the kernel state", severity="warning")
        self._next(SLOW_INTERVAL)

    def _next(self, interval: float) -> None:
        if self._again:
            self._again = False
            self.poll()
        elif self.auto_poll:
            self._timer = self.set_timer(interval, self.poll)

    def on_module_event(self, message: ModuleEvent) -> None:
        self._dashboard().query_one(EventLog).add_note(
            f"module {message.action}: {message.name}", self.wall(), "dim"
        )
        self.poll()

    def _dashboard(self) -> DashboardScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    # ----- what the header says -----
    def badge(self) -> tuple[str, str]:
        if self.backend.session is not None:
            return "DEMO", "bold black on yellow"  # short: the header must fit 80 columns
        if self.backend.read_only:
            return "READ-ONLY", "bold white on blue"
        if self.backend.can_act:
            return "ROOT", "bold white on red"
        return "NOT ROOT: read-only", "bold black on yellow"

    def status_text(self, snap: Snapshot) -> Text:
        why = self.backend.why_read_only
        if why:
            return Text(why, style="yellow")
        if snap.transition is None:
            n = len(snap.patches)
            return Text(
                f"No transition in progress. {n} patch{'es' if n != 1 else ''} loaded.", style="green"
            )
        t = snap.transition
        if not snap.pending_tasks:
            return Text(f"{t.patch} is {t.direction}; no visible task is pending.", style="yellow")
        first = (
            self._shown[0] if self._shown else snap.pending_tasks[0]
        )  # longest pending, chosen in the worker
        where = f" in {first.blocking_functions[0]}" if first.blocking_functions else ""
        n = len(snap.pending_tasks)
        return Text.assemble(  # two lines at most (80 columns): the status line's max-height
            (f"{n} task{'s' if n != 1 else ''} block {t.patch}. ", "bold yellow"),
            f"First: {first.comm} ({first.pid}){where}: {SHORT_REASON[first.reason_code]}.",
        )

    # ----- actions -----
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ACTIONS:
            return True
        if not self.backend.can_act:
            return None  # shown dimmed; the status line says why
        snap = self.snapshot
        if action == "force":
            return True if snap is not None and snap.transition is not None else None
        if action == "unload":
            return True if snap is not None and snap.inactive_modules else None
        if action == "revert":
            return True if snap is not None and snap.patches else None
        return True

    def why_disabled(self, action: str) -> str | None:
        """One line saying why a dimmed action does nothing (None when it is available)."""
        if self.check_action(action, ()):
            return None
        if not self.backend.can_act:
            return f"{action}: " + (self.backend.why_read_only or "actions are not available here")
        return {
            "force": "force: no transition is in progress",
            "unload": "unload: no inactive livepatch module is loaded (disable a patch first: v)",
            "revert": "revert: no patch is loaded",
        }.get(action, f"{action}: not available now")

    def _require_actions(self) -> bool:
        if not self.backend.can_act or self.backend.actions is None:
            self.notify(self.backend.why_read_only or "actions are not available", severity="warning")
            return False
        return True

    def _selected_patch(self) -> str | None:
        return self._dashboard().query_one(PatchTable).selected_key()

    def action_revert(self) -> None:
        snap = self.snapshot
        if snap is None or not self._require_actions():
            return
        selected = self._selected_patch()
        if snap.transition is not None:
            name = snap.transition.patch
        elif selected and snap.patch(selected):
            name = selected
        else:
            self.notify("Select a loaded patch first.", severity="warning")
            return
        self.request_revert(name)

    def request_revert(self, name: str) -> None:
        snap = self.snapshot
        if snap is None or not self._require_actions():
            return
        t = snap.transition
        if t is not None and t.patch == name:
            title = f"Reverse the {t.direction} transition of {name}?"
            body = ("Writing the opposite value to `enabled` sends the tasks that already switched back. "
                    "This is the safe way to cancel a stuck transition.")  # fmt: skip
        else:
            title = f"Disable {name}?"
            body = ("This starts an unpatching transition. When it completes the patch disappears from "
                    "/sys/kernel/livepatch and its module stays loaded until you unload it (u).")  # fmt: skip
        actions = self.backend.actions
        self.push_screen(
            ConfirmScreen(title, body, "Reverse" if t is not None and t.patch == name else "Disable"),
            lambda ok: ok and self.start_action(f"revert {name}", lambda: actions.revert(name)),
        )

    def action_force(self) -> None:
        snap = self.snapshot
        if snap is None or snap.transition is None:
            self.notify("No transition is in progress.", severity="warning")
            return
        self.request_force(snap.transition.patch)

    def request_force(self, name: str) -> None:
        snap = self.snapshot
        if snap is None or not self._require_actions():
            return
        actions = self.backend.actions
        self.push_screen(
            ForceScreen(name, force_consequences(snap, name)),
            lambda ok: ok and self.start_action(f"force {name}", lambda: actions.force(name, yes=True)),
        )

    def action_unload(self) -> None:
        snap = self.snapshot
        if snap is None or not self._require_actions():
            return
        selected = self._selected_patch()
        inactive = [m.name for m in snap.inactive_modules]
        if selected in inactive:
            self.request_unload(selected)
        elif len(inactive) == 1:
            self.request_unload(inactive[0])
        else:
            self.notify("Select an inactive module in the patches table first.", severity="warning")

    def request_unload(self, name: str) -> None:
        if not self._require_actions():
            return
        actions = self.backend.actions
        self.push_screen(
            ConfirmScreen(f"Unload module {name}?", "Its patch is gone; this removes the module.", "Unload"),
            lambda ok: ok and self.start_action(f"unload {name}", lambda: actions.unload(name)),
        )

    def action_load(self) -> None:
        if not self._require_actions():
            return
        actions = self.backend.actions
        release = self.snapshot.kernel.release if self.snapshot else None
        self.push_screen(
            LoadScreen(self.backend.module_dirs(release), actions.inspect),
            lambda path: path and self.start_action(f"load {path}", lambda: actions.load(path)),
        )

    @work(thread=True, group="action", exit_on_error=False)
    def start_action(self, what: str, call: Callable[[], Outcome]) -> None:
        try:
            outcome = call()
        except ActionError as exc:
            self.post_message(ActionDone(False, f"{what}: {exc}"))
            return
        except Exception as exc:  # never let an action take the console down
            self.post_message(ActionDone(False, f"{what}: {type(exc).__name__}: {exc}"))
            return
        self.post_message(ActionDone(True, outcome.message))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="information" if message.ok else "error", timeout=8)
        if self.backend.session is None:  # the demo's kernel log already has the audit line
            style = "bold cyan" if message.ok else "bold red"
            self._dashboard().query_one(EventLog).add_note(f"lptui: {message.text}", self.wall(), style)
        self.poll()

    # ----- navigation -----
    def action_task_details(self) -> None:
        task = self._dashboard().query_one(PendingTable).selected()
        if task is not None:
            self.push_screen(TaskScreen(task, simulated=self.backend.session is not None))

    def action_patch_details(self) -> None:
        snap = self.snapshot
        name = self._selected_patch()
        if snap is None or name is None:
            return
        patch = snap.patch(name)
        if patch is not None:
            self.push_screen(PatchScreen(patch, snap))
        else:
            self.notify(f"{name}: livepatch module still loaded, its patch is gone. Press u to unload it.")

    def action_all_tasks(self) -> None:
        snap = self.snapshot
        if snap is not None:
            self.push_screen(AllTasksScreen(lambda: self.backend.all_tasks(snap)))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_refresh(self) -> None:
        self.poll()
