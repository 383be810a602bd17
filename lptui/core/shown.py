"""The one function every string from outside passes before anything prints it: `shown`.

lptui runs as root and prints what others control: a process names itself and writes its command line,
a module file carries its own `.modinfo`, a bundle its manifest, a host of the fleet its labels,
Prometheus its error texts. A terminal obeys the control sequences in what it is given: OSC 52 writes the
clipboard, `ESC[2J` clears the screen, U+202E reverses the text after it. So every character that is not
printable (C0 and C1 controls, DEL, the bidirectional controls and the other format characters, line and
paragraph separators, surrogates, private use, unassigned code points: what `str.isprintable` refuses)
is written as an escape: `\\x1b`, `\\u202e`, `\\U000e0041`. Printable text is returned unchanged, so
`shown` is idempotent and a string escaped once (a record's name) is safe to escape again.

Markup is the printers' half of the rule: lptui's Rich and Textual adapters (`lptui.richtext`,
`lptui.tui.shown`, `lptui.cli.out`) never read a string as markup. This module imports nothing of lptui.
"""

from __future__ import annotations

# An error or a plugin line is one line and stays readable: a server's 100 KB error text is cut here.
MAX_LINE = 500


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value: object) -> str:
    """`value` as text a terminal shows as written: every non-printable character escaped."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # nearly every string: no copy
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def one_line(value: object, limit: int = MAX_LINE) -> str:
    """`shown(value)` on one line (a line break is escaped too) of at most `limit` characters, cut
    between escapes and saying how much was left out."""
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    used = 0
    for i, char in enumerate(text):
        piece = char if char.isprintable() else _escape(char)
        if used + len(piece) > limit:
            return "".join(out) + f"… ({len(text) - i:,} more characters)"
        out.append(piece)
        used += len(piece)
    return "".join(out)
