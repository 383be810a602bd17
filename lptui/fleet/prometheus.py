"""Prometheus's HTTP API, instant queries only (`/api/v1/query`), as the fleet view's one source.

The standard library's HTTP client is enough for one GET per query (the PyPI clients bring pandas and
matplotlib); orjson decodes the answers in under half the standard library's time (the fleet's refresh
is mostly decoding). Authentication is spelled as the Prometheus ecosystem spells it (promtool, amtool,
Grafana): basic auth, a bearer token read from a file or the environment, a CA file. A secret is never
part of a message: errors name the URL without its user information. The response is read to a bound.
"""

from __future__ import annotations

import base64
import gc
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import orjson

MAX_RESPONSE = 64 << 20  # bytes per query: one family's series at 10,000 hosts are ~4 MB of JSON


class FleetError(Exception):
    """A one-line reason the fleet cannot be read (unreachable, refused, not Prometheus, a bad query)."""


Sample = tuple[dict[str, str], float]  # (labels, value)


@dataclass(frozen=True)
class Answer:
    """An instant vector as Prometheus sent it: `items` are its JSON objects, `{"metric": {labels},
    "value": [time, "value"]}`, kept undecoded past the JSON (tens of thousands per refresh: the fleet's
    reduction reads each once, see state.reduce_family)."""

    at: float  # the evaluation time Prometheus used (Unix seconds)
    items: tuple[dict, ...]

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
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class Prometheus:
    def __init__(
        self, url: str, auth: Auth | None = None, *, timeout: float = 10.0, limit: int = MAX_RESPONSE
    ):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FleetError(f"--prometheus {shown(url)!r}: expected http(s)://HOST[:PORT][/PATH]")
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

    def query(self, expr: str, at: float | None = None) -> Answer:
        """One instant query, evaluated at `at` (Unix seconds) or at Prometheus's now."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
                body = response.read(self.limit + 1)
        except urllib.error.HTTPError as exc:
            body = exc.read(1 << 16)
            reason = _api_error(body) or f"HTTP {exc.code} {exc.reason}"
            if exc.code == 404 and not _api_error(body):
                raise FleetError(
                    f"{self.base} has no /api/v1/query (HTTP 404): is it Prometheus? Give its base URL, "
                    "e.g. http://HOST:9090"
                ) from None
            if exc.code in (401, 403):
                reason += " (check --prometheus-username/--prometheus-password-file or the bearer token)"
            raise FleetError(f"Prometheus at {self.base} refused the query: {reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            raise FleetError(f"cannot reach Prometheus at {self.base}: {why}") from None
        if len(body) > self.limit:
            raise FleetError(f"Prometheus at {self.base} answered more than {self.limit >> 20} MiB: refused")
        return _parse(body, self.base)


def _api_error(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except ValueError:
        return None
    return f"{data.get('errorType', 'error')}: {data.get('error')}" if isinstance(data, dict) else None


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


def _parse_vector(body: bytes, base: str) -> Answer:
    try:
        data = orjson.loads(body)
        if data.get("status") != "success":
            raise FleetError(f"Prometheus at {base}: {_api_error(body)}")
        result = data["data"]
        if result["resultType"] != "vector":
            raise FleetError(f"Prometheus at {base} answered a {result['resultType']}, not a vector")
        items = result["result"]
        if not isinstance(items, list):
            raise TypeError(items)
        at = float(items[0]["value"][0]) if items else 0.0
    except FleetError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise not_prometheus(base) from None
    return Answer(at, tuple(items))


def not_prometheus(base: str) -> FleetError:
    return FleetError(f"{base} did not answer as Prometheus's HTTP API does (is it Prometheus?)")
