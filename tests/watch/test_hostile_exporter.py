"""Whoever can reach the exporter's port, trying to blind it (loopback, bounded loops): clients that send
a byte a second, 64 and then 300 of them; clients sending 99 headers of 64 KB; a request that takes longer
than the deadline to arrive. Prometheus's scrape must still be answered within a second every time, and
the exporter's memory, threads and descriptors must stay where they were."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from lptui.watch import exporter
from tests.watch.test_exporter import listener, threads_and_fds, timed_scrape  # noqa: F401 (a fixture)


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])


class Drip:
    """`count` connections, each sending one byte of a request a second, from one thread."""

    def __init__(self, port: int, count: int, payload: bytes = b"GET /metrics HTTP/1.1\r\n") -> None:
        self.socks = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            self.socks.append(s)
        self.payload = payload
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for i in range(60):
            if self.stop.wait(1.0):
                return
            for s in self.socks:
                try:
                    s.send(self.payload[i % len(self.payload) : i % len(self.payload) + 1])
                except OSError:
                    continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


@pytest.mark.parametrize("count", [64, 300])
def test_clients_dripping_a_byte_a_second_do_not_blind_it(listener, count):  # noqa: F811
    """Before: 64 sockets each sending a byte a second held every slot: 6 of 6 scrapes over 20 s got
    503 (Prometheus marks the host down for as long as they like). Now every scrape is answered, also
    with 300 of them (past MAX_CONNECTIONS the oldest reader is dropped)."""
    proc, port = listener
    base_threads, base_fds = threads_and_fds(proc.pid)
    drip = Drip(port, count)
    try:
        for _ in range(6):
            time.sleep(1.0)
            seconds, text = timed_scrape(port)
            assert seconds < 1.0 and "lptui_transition_tasks_pending 3.0" in text, seconds
        threads, fds = threads_and_fds(proc.pid)
        assert threads <= base_threads + 1  # one loop thread, whatever the clients
        assert fds <= base_fds + exporter.MAX_CONNECTIONS + 2
    finally:
        drip.close()


def test_a_request_slower_than_its_deadline_is_dropped(listener):  # noqa: F811
    """A request must be whole within HEADER_SECONDS of its accept (before: 5 s of silence, so a byte
    every 4 s kept a connection for ever)."""
    _, port = listener
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    began = time.monotonic()
    dropped = None
    try:
        for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\n":  # a byte every 0.3 s: ~10 s in all
            try:
                s.send(bytes([byte]))
                s.setblocking(False)
                if s.recv(1) == b"":
                    dropped = time.monotonic()
                    break
            except BlockingIOError:
                pass
            except OSError:
                dropped = time.monotonic()
                break
            finally:
                s.setblocking(True)
            time.sleep(0.3)
    finally:
        s.close()
    assert dropped is not None, "the connection was kept past its deadline"
    assert exporter.HEADER_SECONDS - 0.5 <= dropped - began <= exporter.HEADER_SECONDS + 2


def test_fat_headers_cost_no_memory(listener):  # noqa: F811
    """Before: 64 sockets holding 99 headers of 64 KB took the exporter from 29 MB to 425 MB. Now a
    request is read to MAX_HEADER bytes at most, and a fatter one is dropped."""
    proc, port = listener
    before = rss_kib(proc.pid)
    header = b"X-Fat: " + b"a" * 64_000 + b"\r\n"  # under http.server's 64 KiB line: read whole before
    socks = []
    try:
        for _ in range(64):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
            try:
                for _ in range(99):
                    s.sendall(header)
            except OSError:
                pass  # dropped once past the bound: what it sends after goes nowhere
            socks.append(s)
        seconds, text = timed_scrape(port)
        assert seconds < 1.0 and "lptui_" in text
        assert rss_kib(proc.pid) - before < 32 * 1024, (before, rss_kib(proc.pid))
    finally:
        for s in socks:
            s.close()
    assert os.path.exists(f"/proc/{proc.pid}")
