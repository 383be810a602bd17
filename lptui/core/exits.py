"""Every exit code lptui uses, as README's "Exit codes" paragraph states them (tests/test_readme.py holds
the two together), and beside them the monitoring-plugin codes `check` and `fleet check` use instead;
`LptuiError`, the base of every error the user is told about, carries one."""

from __future__ import annotations

OK = 0
ERROR = 1  # one line on stderr; `inspect`: the file could not be read as a module
USAGE = 2
TIMEOUT = 3  # `--wait` or `watch --timeout` ran out
NOT_LOADABLE = 4  # `inspect`: lptui load would refuse it
NOT_PATCHED = 4  # `status --cve`, `fleet cve`: no patch names it (a host not fixed)
NOT_YET = 5  # `status --cve`, `fleet cve`: a patch names it but is not live yet
CANNOT_TELL = 6  # `inspect`: built for another release, no CRCs here to decide it by; `fleet cve`: a host
UNWELL = 7  # `watch`: complete, but the patch is not in effect or the kernel complained (`--after`)
INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it

# The monitoring plugins' codes (Nagios, Icinga, Sensu, checkmk): `lptui check` and `lptui fleet check`.
PLUGIN_OK, PLUGIN_WARNING, PLUGIN_CRITICAL, PLUGIN_UNKNOWN = 0, 1, 2, 3
PLUGIN_NAMES = {
    PLUGIN_OK: "OK",
    PLUGIN_WARNING: "WARNING",
    PLUGIN_CRITICAL: "CRITICAL",
    PLUGIN_UNKNOWN: "UNKNOWN",
}


class LptuiError(Exception):
    """A failure the user is told about in one line, never a traceback: the message, the exit code
    (lptui.core.exits), the word after "lptui: " on stderr, and `detail`: lines of lptui's own
    explanation shown after it (what forcing would break). `lptui.cli.main` handles every one the same."""

    code: int = ERROR
    label: str = "error"

    def __init__(self, message: str, *, code: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.detail = detail


class UsageError(LptuiError):
    """A command line argparse or a command refuses: exit 2, "lptui: usage error: …"."""

    code = USAGE
    label = "usage error"
