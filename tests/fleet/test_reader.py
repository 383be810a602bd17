"""The fleet console's reader process (lptui.fleet.reader): views come back from a child of lptui's own,
its secrets never on a command line, and a child that dies is one error, then a new child."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lptui.fleet.prometheus import Auth, FleetError
from lptui.fleet.reader import ReaderProcess, Settings
from lptui.fleet.view import Shape


def reader() -> ReaderProcess:
    auth = Auth(bearer_token="s3cret-token-for-the-test")
    return ReaderProcess(Settings("http://127.0.0.1:1", auth, 5.0, 1 << 20, "lptui", "instance", 300.0))


def test_a_view_comes_back_with_why_the_read_failed():
    r = reader()
    try:
        view = r.view(True, Shape(filter="stuck"))
        assert view.at is None and view.shape.filter == "stuck"
        assert view.error is not None and "cannot reach Prometheus at http://127.0.0.1:1" in view.error
        assert r.child is not None
        argv = Path(f"/proc/{r.child.pid}/cmdline").read_bytes()
        assert b"s3cret" not in argv and b"lptui.fleet.reader" in argv  # the secret went over stdin
        nice = int(Path(f"/proc/{r.child.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert nice == min(os.nice(0) + 10, 19)  # background work: the console goes first
    finally:
        r.close()


def test_a_reader_that_dies_is_one_error_then_a_new_one():
    r = reader()
    try:
        r.view(True, Shape())
        assert r.child is not None
        first = r.child.pid
        r.child.kill()
        r.child.wait()
        with pytest.raises(FleetError, match="reader process stopped"):
            r.child.poll = lambda: None  # as if it died after the check: the pipe says so
            r.view(False, Shape())
        view = r.view(False, Shape())  # a new child: it reads first (it holds no fleet)
        assert r.child is not None and r.child.pid != first and view.error is not None
    finally:
        r.close()
