"""The listener of `lptui metrics --listen`: /metrics from prometheus_client's encoders, behind an asyncio
server that whoever can reach the port cannot blind.

A thread per connection (prometheus_client's `start_http_server`, or socketserver with a bound on the
threads) gives slow clients the slots: 64 sockets sending a byte a second held every one of them, and
Prometheus got 503 for as long as they liked; 64 sockets holding 99 headers of 64 KB took the process
from 29 MB to 425 MB. So here each connection is a coroutine on one event loop (in one thread), and:
- a request must be whole, request line and headers, within HEADER_SECONDS of its accept, in at most
  MAX_HEADER bytes (asyncio's stream limit: nothing past it is buffered); otherwise it is closed;
- at most MAX_CONNECTIONS are open at once: a new one past that closes the oldest still reading its
  request (a slow one, by definition: a scrape's request arrives in one packet), so a scrape always gets
  in; the header bytes held in all are at most MAX_CONNECTIONS x MAX_HEADER (2 MiB);
- the answer must be written within WRITE_SECONDS; one request a connection (Connection: close);
- `/metrics` only (404 elsewhere), GET and HEAD only (405 otherwise).
Nothing a request says reaches the kernel: the answer only reads the collector's last poll. asyncio is
the standard library's; no web framework is needed for one path.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import OrderedDict

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

MAX_CONNECTIONS = 256
MAX_HEADER = 8 << 10  # a scrape's request is ~300 bytes
HEADER_SECONDS = 5.0  # from accept to the end of the headers
WRITE_SECONDS = 10.0
CLIENT_TIMEOUT = HEADER_SECONDS  # kept for callers that wait on a client's drop
BACKLOG = 128


PLAIN = "text/plain; charset=utf-8"


def _response(status: str, body: bytes, content_type: str = PLAIN, head: bool = False) -> bytes:
    header = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return header if head else header + body


class Exporter:
    """One listening socket and its event loop (in a thread of its own once `answer` starts it)."""

    def __init__(self, sock: socket.socket, registry: CollectorRegistry) -> None:
        self.sock = sock
        self.registry = registry
        self.loop = asyncio.new_event_loop()
        self.reading: OrderedDict[asyncio.Task, float] = (
            OrderedDict()
        )  # still reading a request, oldest first
        self.open: set[asyncio.Task] = set()
        self.server: asyncio.Server | None = None
        self.thread: threading.Thread | None = None

    async def _serve(self) -> None:
        self.server = await asyncio.start_server(self._accepted, sock=self.sock, limit=MAX_HEADER)
        async with self.server:
            await self.server.serve_forever()

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.open) >= MAX_CONNECTIONS and self.reading:
            oldest, _ = self.reading.popitem(last=False)  # the slowest: it has had the longest to send
            oldest.cancel()
        elif len(self.open) >= 2 * MAX_CONNECTIONS:  # all answered, none reading: past any sane load
            writer.transport.abort()
            return
        task = self.loop.create_task(self._handle(reader, writer))
        self.open.add(task)
        self.reading[task] = time.monotonic()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.open.discard(task)
        self.reading.pop(task, None)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        answered = False
        try:
            async with asyncio.timeout(HEADER_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            if me is not None:  # always inside a task here; None only outside any
                self.reading.pop(me, None)
            async with asyncio.timeout(WRITE_SECONDS):
                writer.write(self._answer(head))
                await writer.drain()
            answered = True
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a slow, fat or vanished client: dropped, nothing logged
        finally:
            if answered:
                writer.close()
            else:  # dropped at once: no lingering to flush to a client that does not read
                writer.transport.abort()

    def _answer(self, head: bytes) -> bytes:
        line, _, rest = head.partition(b"\r\n")
        parts = line.split(b" ")
        if len(parts) != 3:
            return _response("400 Bad Request", b"")
        method, target = parts[0], parts[1].split(b"?", 1)[0].split(b"#", 1)[0]
        if target != b"/metrics":
            return _response("404 Not Found", b"lptui serves /metrics only\n")
        if method not in (b"GET", b"HEAD"):
            return _response("405 Method Not Allowed", b"")
        accept = ""
        for header in rest.split(b"\r\n"):
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"accept":
                accept = value.strip().decode("latin-1")
        encoder, content_type = choose_encoder(accept)
        return _response("200 OK", encoder(self.registry), content_type, head=method == b"HEAD")

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self._serve())

    def shutdown(self) -> None:
        """Stop answering and wait for the loop's thread (only once `answer` started it)."""
        if self.server is not None:
            self.loop.call_soon_threadsafe(self.server.close)
            for task in list(self.open):
                self.loop.call_soon_threadsafe(task.cancel)
        if self.thread is not None:
            self.thread.join(10)

    def server_close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if not self.loop.is_running():
            self.loop.close()


def bind(host: str, port: int, registry: CollectorRegistry) -> Exporter:
    """Listen (OSError when the port is taken), not yet answering: a scrape that arrives before the
    caller's first poll waits in the listen backlog rather than reading an empty page."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, sockaddr = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return Exporter(sock, registry)


def answer(exporter: Exporter) -> threading.Thread:
    """Serve in a daemon thread until exporter.shutdown()."""
    exporter.thread = threading.Thread(target=exporter.run, name="lptui-metrics", daemon=True)
    exporter.thread.start()
    return exporter.thread
