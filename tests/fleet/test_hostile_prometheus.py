"""The Prometheus client against servers built to hurt it (loopback, in this test): one that drips a byte
a second, one that redirects a token elsewhere or in a loop, one whose error text is 100 KB of escape
sequences, one whose answers together go past the round's bound, and any answer Hypothesis can make.
Each gives one escaped line within the query's deadline, and credentials never leave the origin."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptui.fleet.prometheus import Auth, FleetError, Prometheus, Round
from tests.hostile import CLEAR, OSC52_BEL, RLO, controls_in

EMPTY = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()


class Handler(BaseHTTPRequestHandler):
    """What the server does is the class's `reply(handler)`; every request's Authorization is kept."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[int, str | None]] = []
    reply = None

    def do_GET(self) -> None:
        Handler.seen.append((self.server.server_port, self.headers.get("Authorization")))
        type(self).reply(self)

    def log_message(self, *args) -> None:
        pass

    def send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def serve(reply) -> tuple[ThreadingHTTPServer, str]:
    handler = type("H", (Handler,), {"reply": staticmethod(reply)})
    quiet = type("Quiet", (ThreadingHTTPServer,), {"handle_error": lambda self, *args: None})
    httpd = quiet(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_port}"


@pytest.fixture
def servers():
    started = []

    def start(reply) -> str:
        httpd, url = serve(reply)
        started.append(httpd)
        return url

    Handler.seen.clear()
    yield start
    for httpd in started:
        httpd.shutdown()


def drip(handler: Handler) -> None:
    """Headers at once, then a byte a second of a long answer (each read succeeds: no socket timeout)."""
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(120):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


def drip_headers(handler: Handler) -> None:
    try:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 120:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


@pytest.mark.parametrize("how", [drip, drip_headers])
def test_a_dripping_server_is_left_at_the_deadline(servers, how):
    """Before: a server dripping a byte a second kept `fleet check` running past 60 s (the 10 s timeout
    bounded each read, not the answer). Now each query has a deadline from connect to the last byte."""
    url = servers(how)
    began = time.monotonic()
    with pytest.raises(FleetError, match="did not answer within 2 s"):
        Prometheus(url, timeout=2).query("up")
    assert time.monotonic() - began < 30  # a guard against hanging, not a measurement
    done = subprocess.run(
        [sys.executable, "-m", "lptui", "fleet", "--prometheus", url, "--prometheus-timeout", "2", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and done.stdout.startswith("FLEET UNKNOWN - ") and "within 2 s" in done.stdout


def test_a_round_has_one_deadline_for_all_its_queries(servers):
    url = servers(lambda h: (time.sleep(0.6), h.send(200, EMPTY)))
    prom = Prometheus(url, timeout=5)
    round = Round(1.0)
    prom.query("up", round=round)
    with pytest.raises(FleetError, match="did not answer"):
        prom.query("up", round=round)  # 0.4 s left of the round's second


def test_credentials_never_follow_a_redirect_to_another_origin(servers):
    """Before: urllib followed a redirect to another port and sent the bearer token there, on every query
    of the round."""
    elsewhere = servers(lambda h: h.send(200, EMPTY))
    url = servers(lambda h: h.send(302, b"", Location=f"{elsewhere}/api/v1/query?query=up"))
    with pytest.raises(FleetError, match=r"redirected to http://127\.0\.0\.1:") as caught:
        Prometheus(url, Auth(bearer_token="tok-secret")).query("up")
    assert "credentials go nowhere else" in str(caught.value) and "tok-secret" not in str(caught.value)
    other_port = int(elsewhere.rsplit(":", 1)[1])
    assert all(port != other_port for port, _ in Handler.seen)


def test_a_redirect_within_the_origin_is_followed_with_its_credentials(servers):
    def reply(h: Handler) -> None:
        if h.path.startswith("/prom/"):
            h.send(200, EMPTY)
        else:
            h.send(301, b"", Location="/prom" + h.path)

    url = servers(reply)
    assert Prometheus(url, Auth(bearer_token="tok")).query("up").items == ()
    assert [auth for _, auth in Handler.seen] == ["Bearer tok", "Bearer tok"]


def test_a_redirect_loop_is_one_line(servers):
    """Before: a three-line error."""
    url = servers(lambda h: h.send(302, b"", Location=h.path))
    with pytest.raises(FleetError, match="redirected more than 3 times") as caught:
        Prometheus(url).query("up")
    assert "\n" not in str(caught.value)


def test_an_error_text_is_one_escaped_bounded_line(servers):
    """Before: an error text of 100 KB gave a 100,217-character line; escape sequences in it reached
    `fleet`'s stderr and `fleet check`'s stdout raw."""
    words = f"{OSC52_BEL}{CLEAR}{RLO}" * 5 + "x" * 100_000
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": words}).encode()
    url = servers(lambda h: h.send(400, body[:60_000] + b'"}'))
    for question in (["hosts"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "lptui", "fleet", "--prometheus", url, *question],
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = done.stdout + done.stderr
        assert said.count("\n") == 1 and len(said) < 1_000 and not controls_in(said), said
        assert "\\x1b]52;c;" in said and "\\u202e" in said
    short = json.dumps({"status": "error", "errorType": "bad_data", "error": f"no {OSC52_BEL}"}).encode()
    url = servers(lambda h: h.send(400, short))
    with pytest.raises(FleetError) as caught:
        Prometheus(url).query("up")
    assert "bad_data: no \\x1b]52;c;" in str(caught.value) and not controls_in(str(caught.value))


def test_the_answers_of_a_round_are_bounded_together(servers):
    """Before: the 64 MiB bound was per answer; four 60 MiB answers in flight cost 2.7 GB."""
    item = {"metric": {"instance": "h:1", "patch": "p" * 200}, "value": [1, "1"]}
    body = json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": [item] * 2_500}}
    ).encode()
    url = servers(lambda h: h.send(200, body))
    prom = Prometheus(url)
    round = Round(30, budget=len(body) * 2 + 1000)
    prom.query("up", round=round)
    prom.query("up", round=round)
    with pytest.raises(FleetError, match="the answers of one round went past"):
        prom.query("up", round=round)


def test_a_server_that_hangs_up_is_one_line(servers):
    def hang_up(h: Handler) -> None:
        h.connection.shutdown(socket.SHUT_RDWR)

    with pytest.raises(FleetError, match="cannot reach Prometheus") as caught:
        Prometheus(servers(hang_up)).query("up")
    assert "\n" not in str(caught.value)


ANSWERS = st.tuples(
    st.sampled_from([200, 200, 200, 204, 301, 302, 400, 401, 404, 500, 503]),
    st.one_of(
        st.binary(max_size=300),
        st.just(EMPTY),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda x: json.dumps({"status": "success", "data": x}).encode()),
    ),
    st.dictionaries(st.sampled_from(["Location", "Content-Type", "X-A"]), st.text(max_size=40), max_size=2),
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(answer=ANSWERS)
def test_any_answer_is_a_vector_or_one_line(answer):
    status, body, headers = answer
    safe = {
        k: v.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")
        for k, v in headers.items()
    }
    httpd, url = serve(lambda h: h.send(status, body, **safe))
    try:
        Prometheus(url, timeout=5).query("up")
    except FleetError as exc:
        assert "\n" not in str(exc) and not controls_in(str(exc))
    finally:
        httpd.shutdown()
