"""`lptui` with no command: the interactive console (the only place Textual is imported)."""

from __future__ import annotations

import argparse
import os

from lptui.cli import out
from lptui.source import SourceError, open_source


def run_console(args: argparse.Namespace) -> int:
    """The console on the source the options name; SIGTERM and SIGHUP leave the terminal as it was."""
    if not out.is_terminal() and not os.environ.get("LPTUI_FORCE_TUI"):
        raise SourceError("the console needs a terminal; for scripts use `lptui status` or `lptui tasks`")
    import signal

    from lptui.tui.app import LptuiApp

    source = open_source(args.root, args.demo, speed=1.0)
    try:
        app = LptuiApp(source)

        def on_signal(signum: int, _frame: object) -> None:
            if signum == signal.SIGTERM:
                app.exit(128 + signum)  # Textual restores the terminal on its way out
            else:  # SIGHUP: the terminal is gone, nothing to restore; a demo's tree must still go
                source.close()
                os._exit(128 + signum)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGHUP, on_signal)
        app.run()
    finally:
        source.close()
    return app.return_code or 0
