"""`lptui metrics`: Prometheus metrics, once to stdout, into node_exporter's textfile directory, or
served on /metrics (127.0.0.1 unless a host is given) and refreshed by the shared poller."""

from __future__ import annotations

import argparse
from pathlib import Path

from lptui.cli import out
from lptui.core import exits
from lptui.core.exits import LptuiError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from lptui.cli.main import Commands
    from lptui.watch.metrics import LivepatchCollector
    from lptui.watch.poller import Poller

TEXTFILE_NAME = "lptui.prom"
FIRST_POLL_WAIT = 30.0  # seconds the listener holds its first answer for the first poll


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdecimal() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected [HOST:]PORT with a port from 1 to 65535")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def cmd_metrics(args: argparse.Namespace) -> int:
    from lptui.source import opened
    from lptui.watch.metrics import LivepatchCollector, registry_for
    from lptui.watch.poller import Poller

    collector = LivepatchCollector()
    registry = registry_for(collector)
    speed = 1.0 if args.listen else 0.0
    with opened(args.root, args.demo, speed=speed) as source:
        poller = Poller(source, life_cycle=True)  # the fleet's CVE and rollout series need it
        if args.listen:
            return _listen(args.listen, poller, collector, registry)
        return _once(args.textfile, poller, collector, registry)


def _once(
    textfile: str | None, poller: Poller, collector: LivepatchCollector, registry: CollectorRegistry
) -> int:
    """One poll, to stdout or atomically into node_exporter's textfile directory."""
    from prometheus_client import generate_latest, write_to_textfile

    try:
        collector.update(poller.poll())
    except Exception as exc:  # the exposition still says it failed (lptui_scrape_errors)
        collector.failed(f"{type(exc).__name__}: {exc}")
        out.error(exc, "lptui: error: cannot read the kernel state: ")
    finally:
        poller.close()
    if textfile:
        target = Path(textfile)
        if not target.is_dir():
            raise LptuiError(f"--textfile {target}: not a directory")
        write_to_textfile(str(target / TEXTFILE_NAME), registry)  # atomic: temp file + rename
    else:
        out.lines(generate_latest(registry).decode())
    return exits.ERROR if collector.errors else exits.OK


def _listen(
    address: tuple[str, int], poller: Poller, collector: LivepatchCollector, registry: CollectorRegistry
) -> int:
    """Serve /metrics until SIGTERM or Ctrl-C, the shared poller refreshing the collector."""
    import signal
    import threading

    from lptui.watch.exporter import answer, bind

    host, port = address
    try:
        server = bind(host, port, registry)
    except OSError as exc:
        poller.close()
        raise LptuiError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # the loop's first poll before the first answer: a scrape never reads a page without the kernel's
    # state (it waits in the listen backlog meanwhile), and a poll that hangs delays the answers only
    # FIRST_POLL_WAIT seconds
    first = threading.Event()

    def on_view(view) -> None:
        collector.update(view)
        first.set()

    def on_error(message: str) -> None:
        collector.failed(message)
        first.set()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    poller.request()
    loop = threading.Thread(target=poller.run, args=(on_view, on_error), daemon=True)
    loop.start()
    answering = None
    try:
        first.wait(FIRST_POLL_WAIT)
        answering = answer(server)
        serving = f"http://{host}:{port}/metrics"
        out.line(f"lptui: serving metrics on {serving} (read-only; Ctrl-C stops)", err=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        poller.stop()
        loop.join(5)
        poller.close()
        if answering is not None:  # shutdown() waits for serve_forever to end: only once it has begun
            server.shutdown()
        server.server_close()
    return 0


def add_parsers(cli: Commands) -> None:
    with cli.command(
        "metrics",
        cmd_metrics,
        help="Prometheus metrics: to stdout, into a textfile directory, or served on /metrics",
        description="Read-only Prometheus exposition of the live patching state. Per-task state needs root.",
    ) as p:
        mode = p.add_mutually_exclusive_group()
        mode.add_argument(
            "--textfile",
            metavar="DIR",
            help=f"write DIR/{TEXTFILE_NAME} atomically, for node_exporter's textfile collector",
        )
        mode.add_argument(
            "--listen",
            metavar="[HOST:]PORT",
            type=parse_listen,
            help="serve /metrics until stopped (HOST defaults to 127.0.0.1)",
        )
