"""Prometheus's HTTP API, instant queries only (`/api/v1/query`), as the fleet view's one source.

The standard library's HTTP client, with what the fleet needs on top of it:
- a deadline for each query from connect to its last byte (and one for the round of queries): a socket
  timeout bounds each read, not the answer, so a server dripping a byte a second would keep `fleet check`
  (a monitoring plugin) running for ever; a watchdog closes the connection when the deadline passes;
- redirects followed only within Prometheus's own origin (scheme, host and port), with the credentials;
  a redirect anywhere else is refused and named, so a token is never sent to another server;
- the answer read to a bound, and every answer of a round to a bound shared by the queries in flight;
- every error one line, a server's own words quoted escaped and cut (lptui.core.shown.one_line).
httpx was considered: it has per-phase timeouts but no deadline for a whole answer either, and it would
be a dependency for what http.client does here in one small module. orjson decodes the answers in under
half the standard library's time (the fleet's refresh is mostly decoding).

Authentication is spelled as the Prometheus ecosystem spells it (promtool, amtool, Grafana): basic auth,
a bearer token read from a file or the environment, a CA file. A secret is never part of a message:
errors name the URL without its user information.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from lptui.core.exits import LptuiError
from lptui.core.shown import one_line

MAX_RESPONSE = 64 << 20  # bytes per answer: one family's series at 10,000 hosts are ~4 MB of JSON
ROUND_BYTES = 128 << 20  # bytes of every answer of one round together (~45 MB at 10,000 hosts)
MAX_REDIRECTS = 3
QUOTED = 300  # characters of a server's own error text quoted in a message
PIECE = 64 << 10
REDIRECTS = (301, 302, 303, 307, 308)


class FleetError(LptuiError):
    """A one-line reason the fleet cannot be read (unreachable, refused, not Prometheus, a bad query)."""


Sample = tuple[dict[str, str], float]  # (labels, value)
Series = tuple[dict[str, str], tuple[tuple[float, float], ...]]  # (labels, (time, value) points)
MAX_POINTS = 1_000  # points of a range query's series (Prometheus's own limit is 11,000)


@dataclass(frozen=True)
class Answer:
    """An instant vector as Prometheus sent it: `items` are its JSON objects, `{"metric": {labels},
    "value": [time, "value"]}`, kept undecoded past the JSON (tens of thousands per refresh: the fleet's
    reduction reads each once, see state.reduce_family)."""

    at: float  # the evaluation time Prometheus used (Unix seconds)
    items: tuple[dict[str, Any], ...]

    @property
    def samples(self) -> list[Sample]:
        return [(item["metric"], float(item["value"][1])) for item in self.items]

    @classmethod
    def of(cls, at: float, samples: list[Sample]) -> Answer:
        return cls(at, tuple({"metric": labels, "value": [at, repr(value)]} for labels, value in samples))


@dataclass(frozen=True)
class Auth:
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    insecure: bool = False


def shown(url: str) -> str:
    """The URL without user information (`http://user:secret@host` shows as `http://host`)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme == "https" else 80),
    )


class Round:
    """One refresh's deadline and byte budget, shared by the queries in flight."""

    def __init__(self, seconds: float, budget: int = ROUND_BYTES) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.budget = budget
        self.left = budget
        self._lock = threading.Lock()

    def take(self, size: int) -> None:
        with self._lock:
            self.left -= size
            if self.left < 0:
                raise FleetError(f"the answers of one round went past {self.budget >> 20} MiB: refused")


class Prometheus:
    def __init__(
        self, url: str, auth: Auth | None = None, *, timeout: float = 10.0, limit: int = MAX_RESPONSE
    ):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            given = one_line(shown(url), QUOTED)
            raise FleetError(f"--prometheus {given!r}: expected http(s)://HOST[:PORT][/PATH]")
        self.auth = auth or Auth()
        if parts.username and not self.auth.username:  # user information in the URL, as curl takes it
            self.auth = Auth(
                urllib.parse.unquote(parts.username),
                urllib.parse.unquote(parts.password or ""),
                self.auth.bearer_token,
                self.auth.ca_file,
                self.auth.insecure,
            )
        self.base = shown(url).rstrip("/")
        self.origin = _origin(self.base)
        self.timeout = timeout
        self.limit = limit
        self.context = None
        if parts.scheme == "https":
            try:
                self.context = ssl.create_default_context(cafile=self.auth.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise FleetError(f"--prometheus-ca-file {self.auth.ca_file}: {exc}") from None
            if self.auth.insecure:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "lptui-fleet"}
        if self.auth.bearer_token:
            headers["Authorization"] = f"Bearer {self.auth.bearer_token}"
        elif self.auth.username is not None:
            pair = f"{self.auth.username}:{self.auth.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return headers

    def round(self, seconds: float | None = None) -> Round:
        """A round of queries: its deadline (three queries' worth by default) and its byte budget."""
        return Round(seconds if seconds is not None else 3 * self.timeout)

    def query(self, expr: str, at: float | None = None, round: Round | None = None) -> Answer:
        """One instant query, evaluated at `at` (Unix seconds) or at Prometheus's now."""
        return _parse(self.fetch(expr, at, round), self.base)

    def query_range(self, expr: str, start: float, end: float, step: float) -> tuple[Series, ...]:
        """One range query (`/api/v1/query_range`): each series' labels and its (time, value) points, at
        most MAX_POINTS of them asked for (the window over the step)."""
        if not (step > 0 and (end - start) / step <= MAX_POINTS):
            raise FleetError(f"a range of {(end - start) / max(step, 1e-9):.0f} points: at most {MAX_POINTS}")
        span = {"start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:.3f}"}
        return _parse_matrix(self.fetch(expr, path="query_range", params=span), self.base)

    def fetch(
        self,
        expr: str,
        at: float | None = None,
        round: Round | None = None,
        *,
        path: str = "query",
        params: dict[str, str] | None = None,
    ) -> bytes:
        """The answer's bytes, within the query's deadline (and the round's) and bounds."""
        asked = {"query": expr, **(params or {})}
        if at is not None:
            asked["time"] = f"{at:.3f}"
        url = f"{self.base}/api/v1/{path}?" + urllib.parse.urlencode(asked)
        deadline = time.monotonic() + self.timeout
        if round is not None:
            deadline = min(deadline, round.deadline)
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._get(url, deadline, round)
            if status not in REDIRECTS:
                return self._answer(status, body)
            target = urllib.parse.urljoin(url, location or "")
            if _origin(target) != self.origin:
                elsewhere = one_line(shown(target), QUOTED)
                raise FleetError(
                    f"Prometheus at {self.base} redirected to {elsewhere}: lptui follows redirects only "
                    "within the URL's own scheme, host and port (credentials go nowhere else)"
                )
            url = target
        raise FleetError(f"Prometheus at {self.base} redirected more than {MAX_REDIRECTS} times")

    def _answer(self, status: int, body: bytes) -> bytes:
        if status == 200:
            return body
        reason = _api_error(body) or f"HTTP {status}"
        if status == 404 and not _api_error(body):
            raise FleetError(
                f"{self.base} has no /api/v1/query (HTTP 404): is it Prometheus? Give its base URL, "
                "e.g. http://HOST:9090"
            )
        if status in (401, 403):
            reason += " (check --prometheus-username/--prometheus-password-file or the bearer token)"
        raise FleetError(f"Prometheus at {self.base} refused the query: {reason}")

    def _get(self, url: str, deadline: float, round: Round | None) -> tuple[int, str | None, bytes]:
        """One GET, every byte of it before `deadline`: a watchdog shuts the socket when it passes."""
        parts = urllib.parse.urlsplit(url)
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=left, context=self.context
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=left)
        watchdog = threading.Timer(left, _shut, (conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            target = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
            conn.request("GET", target, headers=self._headers())
            response = conn.getresponse()
            limit = self.limit if response.status == 200 else 1 << 16  # an error or a redirect: its start
            body = _read(response, limit, deadline, round)
            if len(body) > limit and response.status == 200:
                raise FleetError(
                    f"Prometheus at {self.base} answered more than {self.limit >> 20} MiB: refused"
                )
            return response.status, response.getheader("Location"), body[:limit]
        except FleetError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if time.monotonic() >= deadline:
                raise self._late() from None
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise FleetError(f"cannot reach Prometheus at {self.base}: {one_line(why, QUOTED)}") from None
        finally:
            watchdog.cancel()
            conn.close()

    def _late(self) -> FleetError:
        return FleetError(
            f"Prometheus at {self.base} did not answer within {self.timeout:g} s (from connect to the last "
            "byte; --prometheus-timeout)"
        )


def _shut(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to wake
            sock.shutdown(socket.SHUT_RDWR)


def _read(response: http.client.HTTPResponse, limit: int, deadline: float, round: Round | None) -> bytes:
    pieces = []
    size = 0
    while size <= limit:
        if time.monotonic() >= deadline:
            raise OSError("deadline")
        piece = response.read1(min(PIECE, limit + 1 - size))  # what one read brings: no waiting for more
        if not piece:
            break
        if round is not None:
            round.take(len(piece))
        pieces.append(piece)
        size += len(piece)
    if time.monotonic() >= deadline:  # the watchdog ended it: what came is not the answer
        raise OSError("deadline")
    if size <= limit and response.length:  # the server hung up before its own Content-Length
        raise http.client.IncompleteRead(b"", response.length)
    return b"".join(pieces)


def _api_error(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return one_line(f"{data.get('errorType', 'error')}: {data.get('error')}", QUOTED)


def _parse(body: bytes, base: str) -> Answer:
    # tens of thousands of small dicts at once: the cyclic collector would run dozens of times for
    # nothing (JSON builds no cycles), a third of the parse
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_vector(body, base)
    finally:
        if collecting:
            gc.enable()


def _result(body: bytes, base: str, kind: str) -> object:
    """The answer's `data.result`, when the answer is a success of that kind."""
    data = orjson.loads(body)
    if data.get("status") != "success":
        raise FleetError(f"Prometheus at {base}: {_api_error(body)}")
    result = data["data"]
    if result["resultType"] != kind:
        other = one_line(result["resultType"], 40)
        raise FleetError(f"Prometheus at {base} answered a {other}, not a {kind}")
    return result["result"]


def _parse_vector(body: bytes, base: str) -> Answer:
    try:
        items = _result(body, base, "vector")
        if not isinstance(items, list):
            raise TypeError(items)
        at = float(items[0]["value"][0]) if items else 0.0
    except FleetError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise not_prometheus(base) from None
    return Answer(at, tuple(items))


def _parse_matrix(body: bytes, base: str) -> tuple[Series, ...]:
    try:
        items = _result(body, base, "matrix")
        if not isinstance(items, list):
            raise TypeError(items)
        return tuple(
            (
                {str(k): str(v) for k, v in item["metric"].items()},
                tuple((float(t), float(v)) for t, v in item["values"][:MAX_POINTS]),
            )
            for item in items
        )
    except FleetError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise not_prometheus(base) from None


def not_prometheus(base: str) -> FleetError:
    return FleetError(f"{base} did not answer as Prometheus's HTTP API does (is it Prometheus?)")
