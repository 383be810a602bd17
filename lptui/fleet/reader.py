"""The fleet console's reader in a process of its own (`python -m lptui.fleet.reader`): it reads each round
from Prometheus, keeps the Fleet, and sends the console only the view it shows (lptui.fleet.view).

Why a process: decoding and reducing 10,000 hosts' answers is a second of Python, and in a thread it
shares the GIL with the console's event loop, which then answered keys 80-330 ms late per refresh
(benchmarks/fleet.py). In its own process it shares nothing; what crosses is the view, at most MAX_ROWS
rows a table and their records, whatever the fleet's size.

The pipe carries length-prefixed pickles between this process and the child it started itself (never
from anywhere else). The connection's settings, secrets included, go over the child's stdin, never its
argv (which `ps` shows). A child that dies is a FleetError for that read, and is started again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO, Any

from lptui.fleet.prometheus import Auth, FleetError, Prometheus
from lptui.fleet.view import FleetView, Shape, shape_view

_LENGTH = struct.Struct("!Q")
NICE = 10  # the reader's niceness over the console's
HISTORY_EVERY = 60.0  # seconds between two reads of the patches' history (three queries over hours)
MAX_FRAME = 256 << 20  # bytes of one message: a view is a few MB at most


@dataclass(frozen=True)
class Settings:
    base: str
    auth: Auth
    timeout: float
    limit: int
    job: str
    host_label: str
    stale: float

    def fleet_args(self) -> dict[str, Any]:
        return {"job": self.job, "host_label": self.host_label, "stale": self.stale}

    def history_args(self) -> dict[str, Any]:
        from lptui.fleet.view import CONSOLE_WINDOW

        return {"job": self.job, "host_label": self.host_label, "since": CONSOLE_WINDOW}

    @classmethod
    def of(cls, prom: Prometheus, *, job: str, host_label: str, stale: float) -> Settings:
        return cls(prom.base, prom.auth, prom.timeout, prom.limit, job, host_label, stale)


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    if size > MAX_FRAME:
        raise EOFError
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # from the child this process started, running lptui's own code


class ReaderProcess:
    """The parent's side: `view(read, shape)` asks the child for a view (after a new read, or of the last
    fleet shaped again) and waits for it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.child: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            [sys.executable, "-m", "lptui.fleet.reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdin is not None
        send(child.stdin, self.settings)
        return child

    def view(self, read: bool, shape: Shape) -> FleetView:
        if self.child is None or self.child.poll() is not None:
            self.child, read = self._start(), True  # a new child holds no fleet yet
        assert self.child.stdin is not None and self.child.stdout is not None
        try:
            send(self.child.stdin, (read, shape))
            view: FleetView = receive(self.child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError):
            code = self.child.poll()
            self.close()
            raise FleetError(f"the fleet's reader process stopped (exit {code}): started again") from None
        return view

    def close(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            self.child = None


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The child's side: settings first, then one (read, shape) request after another until EOF."""
    from lptui.fleet.history import PatchHistory, read_history
    from lptui.fleet.state import Fleet, quiet_gc, read_fleet

    with contextlib.suppress(OSError):
        # the reading is background work: where CPUs are few, the console's event loop goes first
        os.nice(NICE)
    settings: Settings = receive(stdin)
    prom = Prometheus(settings.base, settings.auth, timeout=settings.timeout, limit=settings.limit)
    fleet: Fleet | None = None
    error: str | None = None
    seconds = 0.0
    history: dict[str, PatchHistory] = {}
    history_due = 0.0
    while True:
        try:
            read, shape = receive(stdin)
        except EOFError:
            return
        with quiet_gc():
            if read:
                began = time.perf_counter()
                try:
                    fleet, error = read_fleet(prom, **settings.fleet_args()), None
                except FleetError as exc:
                    error = str(exc)  # the last fleet stays, with why
                seconds = time.perf_counter() - began
            if read and fleet is not None and time.monotonic() >= history_due:
                history_due = time.monotonic() + HISTORY_EVERY
                with contextlib.suppress(FleetError):  # the tables stand without it; the last one stays
                    history = read_history(prom, **settings.history_args(), now=fleet.at)
            view = shape_view(fleet, error, seconds, shape, history)
        send(stdout, view)


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
