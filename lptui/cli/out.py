"""Everything the CLI writes to stdout and stderr goes through here (tests/test_output_boundary.py fails
on a `print`, a `sys.stdout`/`sys.stderr` write or a Rich `Console` anywhere else in lptui).

- `line` and `lines`: plain text, each line passed through `shown` (a plugin line, a `watch` line);
- `plugin_line`: a monitoring plugin's status line, one line on stdout, bounded as `error` is;
- `error`: `lptui: error: ...`, one line of at most `MAX_LINE` characters (`one_line`): an exception's
  message carries what a server, a file or a bundle said;
- `json_out`: JSON with every non-ASCII character escaped (`\\u202e`), so no string reaches the
  terminal raw from there either;
- `console()`: the Rich console for tables, which never reads markup, emoji codes or highlights, and
  passes every string it renders through `shown` (lptui's `Text` has done so already).
"""

from __future__ import annotations

import json
import os
import sys

from lptui.core.shown import one_line, shown

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console

# Wide enough that no table of ours is ever narrowed when nothing limits the width (a pipe, a file).
UNLIMITED_WIDTH = 4096


def _stream(err: bool):
    return sys.stderr if err else sys.stdout


def line(text: object = "", *, err: bool = False, flush: bool = False) -> None:
    """One line; a line break inside it is escaped (use `lines` for text of several)."""
    stream = _stream(err)
    stream.write(shown(text) + "\n")
    if flush:
        stream.flush()


def lines(text: str, *, err: bool = False) -> None:
    """Text of several lines (a Prometheus exposition): each line shown escaped."""
    parts = text.split("\n")  # not splitlines(): it would drop \x0b, \x1c, \x85, \u2028 as line ends
    if parts[-1] == "":
        parts.pop()
    _stream(err).write("".join(shown(part) + "\n" for part in parts))


def error(message: object, prefix: str = "lptui: error: ") -> None:
    sys.stderr.write(prefix + one_line(message) + "\n")


def plugin_line(text: object) -> None:
    """A monitoring plugin's one line on stdout (what Nagios, Icinga or checkmk store and show): escaped
    and at most MAX_LINE characters."""
    sys.stdout.write(one_line(text) + "\n")


def json_text(data: Any) -> str:
    """lptui's one JSON form, on stdout and in a bundle alike: indented, ASCII only (every outside
    character escaped as \\uXXXX), a final line break."""
    return json.dumps(data, indent=2, ensure_ascii=True) + "\n"


def json_out(data: Any) -> None:
    sys.stdout.write(json_text(data))


def is_terminal() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Console:
    """Rich's console, reading no markup, emoji codes or highlights, escaping any string handed to it
    whole (Rich is imported only by the commands that print a table). On a terminal, or with COLUMNS
    set, that width governs (tables wrap, never cut). Into a pipe or a file with no COLUMNS, nothing
    is narrowed: Rich would otherwise assume 80 columns."""
    from rich.console import Console

    from lptui.richtext import Text

    class _Console(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            kwargs.update(markup=False, emoji=False, highlight=False)
            return super().render_str(Text(text).plain, **kwargs)

    width = None
    if not os.environ.get("COLUMNS") and not _stream(stderr).isatty():
        width = UNLIMITED_WIDTH
    return _Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=False, width=width)
