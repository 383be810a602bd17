"""The simulated kernel's one lock: polls and actions from two threads, on the clock (speed > 0),
never see a file vanish under them."""

from __future__ import annotations

import threading
import time

from lptui.core.errors import ActionError
from lptui.source import open_source
from lptui.watch.poller import Poller


def test_polls_and_actions_from_two_threads_see_no_read_errors():
    source = open_source(demo="stuck", speed=50)
    poller = Poller(source)
    actions = source.actions()
    errors: list[str] = []
    problems: list[str] = []
    stop = time.monotonic() + 6
    polls = reversals = 0  # reversals: revert attempts, each rewriting the tree

    def poll_loop() -> None:
        nonlocal polls
        while time.monotonic() < stop:
            try:
                view = poller.poll()
            except Exception as exc:
                errors.append(f"poll: {type(exc).__name__}: {exc}")
                continue
            polls += 1
            time.sleep(0.005)  # a lock is not a queue: leave the other thread a moment
            snap = view.snapshot
            problems.extend(p for t in snap.pending_tasks for p in t.problems if "vanished" in p)
            problems.extend(p for p in snap.kernel.problems)

    def act_loop() -> None:
        nonlocal reversals
        while time.monotonic() < stop:
            snap = actions.snapshot()
            t = snap.transition
            reversals += 1
            try:
                if t is not None:
                    actions.revert(t.patch)  # reverse, back and forth
                else:
                    patch = snap.patches[-1].name if snap.patches else None
                    if patch:
                        actions.revert(patch)
            except ActionError:
                pass  # a refusal by the kernel's rules is fine; a read error is not
            except Exception as exc:
                errors.append(f"action: {type(exc).__name__}: {exc}")
            time.sleep(0.01)

    threads = [threading.Thread(target=poll_loop), threading.Thread(target=act_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    poller.close()
    source.close()
    assert errors == [] and problems == []
    assert polls > 20 and reversals > 5, (polls, reversals)  # both threads really ran
