"""The listener of `lptui metrics --listen`: prometheus_client's WSGI app, behind a server bounded for a
service that runs for days on a host.

prometheus_client's own `start_http_server` answers every path with the metrics and starts one thread per
connection, with no limit and no timeout: a few hundred idle sockets are a few hundred threads. Here:
- `/metrics` only (any other path is 404), GET only (prometheus_client answers other methods 405);
- at most MAX_CONNECTIONS connections served at once: the next one gets 503 at once and is closed, never
  queued behind the slow ones, so a few dozen sockets held open leave room for Prometheus's scrape;
- a client silent for CLIENT_TIMEOUT seconds is dropped (its thread ends), without a traceback.
Nothing a request says reaches the kernel: the handler only reads the collector's last poll.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

MAX_CONNECTIONS = 64
CLIENT_TIMEOUT = 5.0  # seconds of silence from a client before it is dropped
BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def metrics_only(registry: CollectorRegistry):
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"lptui serves /metrics only\n"]
        return metrics(environ, start_response)

    return app


class _Handler(WSGIRequestHandler):
    timeout = CLIENT_TIMEOUT  # StreamRequestHandler.setup: the connection's socket timeout

    def log_message(self, format: str, *args: object) -> None:
        pass


class BoundedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # the listen backlog: socketserver's 5 leaves a burst of connections half-open in the kernel, where
    # neither a slot nor the 503 reaches them
    request_queue_size = 128

    def __init__(self, *args, **kwargs) -> None:
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out or hung up is not the exporter's error: no traceback on stderr


def bind(host: str, port: int, registry: CollectorRegistry) -> BoundedServer:
    """Listen (OSError when the port is taken), not yet answering: a scrape that arrives before the
    caller's first poll waits in the backlog rather than reading an empty page."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = found[0]

    class Server(BoundedServer):
        address_family = family

    return make_server(sockaddr[0], port, metrics_only(registry), Server, handler_class=_Handler)


def answer(httpd: BoundedServer) -> threading.Thread:
    """Serve in a daemon thread until httpd.shutdown()."""
    thread = threading.Thread(target=httpd.serve_forever, name="lptui-metrics", daemon=True)
    thread.start()
    return thread
