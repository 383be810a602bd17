"""`lptui metrics --listen` as a long-running service, on loopback with bounded loops: slow clients and
sockets held open do not stop /metrics answering a normal scrape within a second; past the connection
bound a client gets 503 at once; any other path is 404; no action is reachable; a port in use is one
line; the exporter's threads and descriptors come back down once the slow clients are gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lptui.watch import exporter
from tests.watch.test_prometheus import free_port, get, wait_for


@pytest.fixture
def listener():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lptui", "--demo", "stuck", "metrics", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: get(f"http://127.0.0.1:{port}/metrics"), 60, "the exporter")
    yield proc, port
    proc.terminate()
    proc.wait(20)


def threads_and_fds(pid: int) -> tuple[int, int]:
    threads = int(
        next(
            x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Threads:")
        ).split()[1]
    )
    return threads, len(os.listdir(f"/proc/{pid}/fd"))


def timed_scrape(port: int) -> tuple[float, str]:
    start = time.perf_counter()
    text = get(f"http://127.0.0.1:{port}/metrics")
    return time.perf_counter() - start, text


def test_slow_clients_do_not_stop_a_scrape(listener):
    proc, port = listener
    base = threads_and_fds(proc.pid)
    held = []
    try:
        for i in range(40):  # a few dozen: some silent, some sending half a request line
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(b"GET /met")
            held.append(s)
        time.sleep(0.5)
        seconds, text = timed_scrape(port)
        assert seconds < 1.0 and "lptui_transition_tasks_pending 3.0" in text
        threads, _ = threads_and_fds(proc.pid)
        assert threads <= base[0] + exporter.MAX_CONNECTIONS
    finally:
        for s in held:
            s.close()

    # the held ones time out or close: the exporter's threads and descriptors come back down
    def settled() -> bool:
        threads, fds = threads_and_fds(proc.pid)
        return threads <= base[0] + 1 and fds <= base[1] + 1

    wait_for(settled, exporter.CLIENT_TIMEOUT + 10, "the exporter to drop its slow clients")


def test_past_the_bound_the_oldest_reader_makes_room(listener):
    """Before: past the bound a client got 503, so connections held open denied the scrape. Now the
    oldest connection still reading its request is dropped, and the scrape is answered."""
    proc, port = listener
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(exporter.MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        seconds, text = timed_scrape(port)
        assert seconds < 1.0 and "lptui_patches_loaded" in text
        held[0].settimeout(5)
        assert held[0].recv(1) == b""  # the oldest was closed to make room
    finally:
        for s in held:
            s.close()
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err and "Exception" not in err, err


def test_only_metrics_and_only_get(listener):
    _, port = listener
    for path in ("/", "/metrics/", "/favicon.ico", "/api/v1/query", "/../etc/passwd", "/metrics?x=1#"):
        if path.startswith("/metrics?"):
            assert "lptui_" in get(f"http://127.0.0.1:{port}{path}")  # a query string is still /metrics
            continue
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
        assert caught.value.code == 404, path
    for method in ("POST", "PUT", "DELETE"):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"revert", method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 405, method


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "lptui", "--demo", "idle", "metrics", "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in out.stderr
