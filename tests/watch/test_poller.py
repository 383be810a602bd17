"""The Textual-free poller: schedule, coalescing, one poll at a time, failures that never stop it,
and the frozen View it hands out (with a fake clock)."""

from __future__ import annotations

import threading
import time

import pytest

from lptui.source import open_source
from lptui.tui.status_line import badge_of, status_of
from lptui.watch.poller import FAST_INTERVAL, SLOW_INTERVAL, Poller, Tone, View


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stuck():
    clock = Clock()
    source = open_source(demo="stuck")
    poller = Poller(source, clock=clock, wall=lambda: 1_800_000_000.0)
    yield poller, clock, source
    poller.close()
    source.close()


def test_view_is_frozen_and_complete(stuck):
    poller, clock, _ = stuck
    view = poller.poll()
    assert isinstance(view, View) and view.interval == FAST_INTERVAL
    with pytest.raises(AttributeError):
        view.rows = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.pending_for[1] = 1.0  # type: ignore[index]
    assert [t.comm for t in view.rows] == ["xfsaild/dm-0", "postgres", "backup-agent"]
    assert badge_of(view)[0] == "DEMO"
    assert "3 tasks block kpatch_cve_2026_4242" in "".join(t for t, _ in status_of(view))
    assert any("starting patching transition" in line.text for line in view.lines)
    clock.now += 42
    later = poller.poll()
    assert later.elapsed == 42 and all(later.pending_for[t.tid] == 42 for t in later.rows)
    assert later.lines == () and later.history == (3, 3) and later.polls == 2
    assert view.elapsed == 0  # the first view did not change


def test_idle_polls_slowly_and_notes_leave_once():
    with open_source(demo="idle") as source:
        poller = Poller(source, clock=Clock())
        poller.note("module add: xfs", Tone.QUIET)
        first = poller.poll()
        assert first.interval == SLOW_INTERVAL and first.snapshot.transition is None
        assert [n.text for n in first.notes] == ["module add: xfs"]
        assert poller.poll().notes == ()
        poller.close()


def test_requests_coalesce_and_one_loop_runs(stuck):
    poller, _, _ = stuck
    assert poller.request() is True  # nothing running: the caller starts the loop
    assert poller.request() is False and poller.request() is False  # coalesced
    views: list[View] = []
    poller.run(views.append, lambda e: None, forever=False)
    assert len(views) == 2 and not poller.running  # the first poll, and one more for both requests


def test_loop_runs_on_schedule_until_stopped_and_survives_failures(stuck, monkeypatch):
    poller, _, _ = stuck
    calls = {"n": 0}
    real_read = poller.reader.read

    def flaky():
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("the tree went away")
        return real_read()

    monkeypatch.setattr(poller.reader, "read", flaky)
    monkeypatch.setattr("lptui.watch.poller.SLOW_INTERVAL", 0.01)  # after a failure: retry soon
    views: list[View] = []
    errors: list[str] = []
    assert poller.request()
    thread = threading.Thread(target=poller.run, args=(views.append, errors.append))
    thread.start()
    deadline = time.monotonic() + 10
    while len(views) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        poller.request()  # wake-ups come from module events and actions
    poller.stop()
    thread.join(5)
    assert not thread.is_alive() and len(views) >= 3
    assert errors == ["OSError: the tree went away"]
    assert any("cannot read the kernel state" in n.text for v in views for n in v.notes)


def test_an_idle_poll_has_nothing_new_to_draw(stuck):
    with open_source(demo="idle") as source:
        poller = Poller(source, clock=Clock())
        first = poller.poll()
        second = poller.poll()
        assert second.shows_the_same_as(first) and not first.shows_the_same_as(None)
        poller.note("module add: xfs")
        assert not poller.poll().shows_the_same_as(second)  # a note is news
        poller.close()
    poller, clock, _ = stuck
    a = poller.poll()
    clock.now += 0.2
    assert poller.poll().shows_the_same_as(a)  # a fifth of a second later: nothing new to draw
    b = poller.poll()
    clock.now += 1.0
    assert not poller.poll().shows_the_same_as(b)  # a second more of pending time is news


def test_a_slow_consumer_gets_no_backlog(stuck):
    """With wait_shown the next poll waits for the consumer: a slow screen never queues views."""
    poller, _, _ = stuck
    views: list[View] = []
    assert poller.request()
    thread = threading.Thread(
        target=poller.run, args=(views.append, lambda e: None), kwargs={"wait_shown": True}
    )
    thread.start()
    time.sleep(1.5)  # three polls' worth of time during a transition
    assert len(views) == 1
    poller.shown()
    deadline = time.monotonic() + 5
    while len(views) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(views) == 2
    poller.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_prefetched_first_poll_is_the_loops_first_view():
    """prefetch(): the console starts the first poll while Textual sets up; the loop's first view is
    that poll's (no second read), and a failure in it is reported like any failed poll."""
    source = open_source(demo="stuck", speed=0)
    try:
        poller = Poller(source)
        poller.prefetch()
        views, errors = [], []
        assert poller.request()
        poller.run(views.append, errors.append, forever=False)
        assert len(views) == 1 and errors == [] and poller.polls == 1
        assert views[0].snapshot.transition is not None

        broken = Poller(source)
        broken.poll = lambda: (_ for _ in ()).throw(OSError("unreadable"))  # type: ignore[method-assign]
        broken.prefetch()
        assert broken.request()
        broken.run(views.append, errors.append, forever=False)
        assert errors == ["OSError: unreadable"]
    finally:
        source.close()


def test_the_life_cycle_is_read_only_by_the_console_and_after_its_first_paint():
    """check, metrics and watch never read module files; the console's prefetched first poll leaves
    the life cycle to the next poll, which it asks for at once."""
    from lptui.watch.poller import LIFE_CYCLE_SOON

    source = open_source(demo="idle", speed=0)
    try:
        assert Poller(source).poll().life is None  # not asked for
        console = Poller(source, life_cycle=True)
        console.prefetch()
        views: list = []
        assert console.request()
        console.run(views.append, lambda e: None, forever=False)
        first = views[0]
        assert first.life is None and first.interval == LIFE_CYCLE_SOON
        second = console.poll()
        assert second.life is not None and second.life.lost_at_reboot == ("livepatch_nfsd_fix",)
    finally:
        source.close()


def test_the_status_line_opens_with_a_patch_not_in_effect_and_a_complaint_after_it(fake):
    """The console's first words: a settled patch whose handler ftrace does not show, and the kernel's
    WARNING in its module; ftrace's table is read once while nothing changes."""
    from tests.core.livepatch.test_ftrace import tables

    fake.patch("lp")
    tables(fake, enabled="", kprobes="")
    fake.write(
        "dev/kmsg",
        "5,1,100000000,-;livepatch: 'lp': patching complete\n"
        "4,2,101000000,-;WARNING: CPU: 0 PID: 7 at lp.c:3 lp_new_fn+0x1/0x2 [lp]\n",
    )
    with open_source(root=str(fake.root)) as source:
        poller = Poller(source, clock=Clock())
        view = poller.poll()
        words = "".join(t for t, _ in status_of(view))
        assert words.startswith(
            "NOT IN EFFECT: lp on cmdline_proc_show. WARNING after lp (in its module lp)."
        )
        poller.poll()
        assert poller.effects.reads == 1
        poller.close()
