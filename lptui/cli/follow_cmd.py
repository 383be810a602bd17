"""`lptui watch`: follow the transition in plain lines, one per change, for a terminal, a script or the
journal."""

from __future__ import annotations

import argparse
import time

from lptui.core import exits
from lptui.core.exits import LptuiError
from lptui.core.model import Mechanism

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from lptui.cli.main import Commands
    from lptui.core.model import TaskInfo, TransitionInfo


def unit(t: TransitionInfo) -> str:
    """kGraft's state is per process, Ksplice names processes; the core's is per thread."""
    return "threads" if t.mechanism is Mechanism.LIVEPATCH else "processes"


class Follower:
    """Turns consecutive Views into the lines that describe what changed."""

    def __init__(self) -> None:
        self.key: tuple[str, str] | None = None
        self.pending: dict[int, TaskInfo] = {}
        self.count: int | None = None
        self.ended = False
        self.said: set[str] = set()  # the effect and health lines already printed
        self.unwell = False

    def aftermath(self, view) -> list[str]:
        """After the transition: whether the patch is in effect (ftrace's table, read at its end) and the
        kernel's complaints tied to it (post-load health), each said once."""
        oncall = view.oncall
        if not self.ended or oncall is None or self.key is None:
            return []
        patch = self.key[0]
        found = []
        effect = oncall.effect
        if effect is not None and effect.why:
            found.append(f"in effect: {effect.why}")
        elif effect is not None and patch in effect.checked:
            problems = effect.of(patch)
            found += [
                f"{'NOT IN EFFECT' if f.kind == 'not_in_effect' else 'warning'}: {f.text}" for f in problems
            ]
            if not problems:
                found.append(f"in effect: ftrace runs {patch}'s handler on every function it patches")
            self.unwell |= any(f.kind == "not_in_effect" for f in problems)
        for h in oncall.health:
            if h.patch == patch:
                found.append(
                    f"post-load: {'OOPS' if h.grave else 'WARNING'} after {patch} ({h.why}): {h.text}"
                )
                self.unwell = True
        out = [line for line in found if line not in self.said]
        self.said.update(out)
        return out

    def lines(self, view) -> list[str]:
        from lptui.core.livepatch.blockers import SHORT_REASON
        from lptui.core.oncall.history import age_phrase

        out: list[str] = []
        # The first view carries the whole log: history, summed up by "started". Later views: news.
        for line in view.lines if self.key is not None else ():
            if "signaling remaining tasks" in line.text:
                out.append("signal sent: the kernel woke the pending tasks with a fake signal")
            elif "forcing remaining tasks" in line.text:
                out.append("forced: " + line.text.strip())
        t = view.snapshot.transition
        if t is None:
            if self.key is not None:
                out.append(f"complete: {self.key[0]} {self.key[1]} finished")
                self.ended = True
            return out
        key = (t.patch, t.direction.value)
        if key != self.key:
            if self.key is not None and self.key[0] == t.patch:
                out.append(f"reversed: {t.patch} is now {t.direction}")
            elif t.aborted is not None:  # a Ksplice update that stopped: nothing moves until it is re-run
                what = "undo of" if t.target == 0 else "update"
                out.append(
                    f"aborted: Ksplice {what} {t.patch} ({t.aborted}); waiting for ksplice-apply to "
                    "clean it up or run it again"
                )
            else:
                logs_start = t.mechanism is Mechanism.LIVEPATCH
                age = f", {age_phrase(view.age, logs_start)}" if view.age is not None else ""
                system = "" if logs_start else f" ({t.mechanism})"
                out.append(f"started{system}: {t.patch} {t.direction}, {t.tasks_total} {unit(t)}{age}")
            self.key, self.pending, self.count = key, {}, None
        now = {task.tid: task for task in view.snapshot.pending_tasks}
        for tid, task in self.pending.items():
            if tid not in now:
                out.append(f"released: {task.comm} ({task.pid}/{task.tid}) switched")
        for tid, task in now.items():
            if tid not in self.pending:
                where = f" in {task.blocking_functions[0]}" if task.blocking_functions else ""
                out.append(
                    f"blocker: {task.comm} ({task.pid}/{task.tid}){where}: {SHORT_REASON[task.reason_code]}"
                )
        if t.tasks_pending != self.count:
            total = f" of {t.tasks_total}" if t.tasks_total is not None else ""
            out.append(f"{t.tasks_pending}{total} {unit(t)} pending")
            self.count = t.tasks_pending
        self.pending = now
        return out


def cmd_watch(args: argparse.Namespace) -> int:
    import threading

    from lptui.cli import out
    from lptui.source import opened
    from lptui.watch.poller import Poller

    if args.after < 0 or args.timeout < 0:
        raise LptuiError("--after and --timeout take seconds, 0 or more", code=exits.USAGE)
    with opened(args.root, args.demo, speed=1.0) as source:
        poller = Poller(source)
        follower = Follower()
        done = threading.Event()
        state = {"code": 0}
        ended: dict[str, float] = {}  # when the transition ended (monotonic)

        def show(view) -> None:
            stamp = time.strftime("%H:%M:%S", time.localtime(view.wall))
            if view.snapshot.transition is None and follower.key is None:
                out.line(f"{stamp} no transition in progress", flush=True)
                done.set()
                return
            for line in [*follower.lines(view), *follower.aftermath(view)]:
                out.line(f"{stamp} {line}", flush=True)
            if follower.ended and ended.setdefault("at", time.monotonic()) + args.after <= time.monotonic():
                done.set()

        def failed(error: str) -> None:
            out.error(error, f"{time.strftime('%H:%M:%S')} cannot read the kernel state: ")

        poller.request()
        thread = threading.Thread(target=poller.run, args=(show, failed), daemon=True)
        thread.start()
        try:
            if not done.wait(args.timeout + args.after if args.timeout > 0 else None):
                out.line(
                    f"{time.strftime('%H:%M:%S')} timeout: still in transition after {args.timeout:.0f} s "
                    "(nothing was changed)",
                    flush=True,
                )
                state["code"] = exits.TIMEOUT
        finally:
            poller.stop()
            thread.join(5)
            poller.close()
    return exits.UNWELL if state["code"] == 0 and follower.unwell else state["code"]


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "watch",
        cmd_watch,
        help="follow the transition in plain lines until it ends (exit 0) or --timeout (exit 3)",
        description="One line per change: started, pending count, a task released, a new blocker, signal "
        "sent, reversed, forced, complete; then whether the patch is in effect (ftrace's table) and, with "
        "--after, the kernel's complaints tied to it. Ends when the transition does (or --after seconds "
        "later), at --timeout, or on Ctrl-C. Exit 7: complete, but not in effect or the kernel complained.",
    ) as p:
        p.add_argument(
            "--timeout", type=float, default=0, metavar="S", help="give up after S seconds (exit 3)"
        )
        p.add_argument(
            "--after",
            type=float,
            default=0,
            metavar="S",
            help="after the transition completes, keep reading the kernel log S seconds for complaints tied "
            "to the patch (post-load health; exit 7 if any)",
        )
