"""Rich's text, tables and groups on lptui's terms: the only way the CLI and the console build what they
print (tests/test_output_boundary.py fails on any other import of rich's text, table or console).

- `Text` passes every string it is given through `lptui.core.shown.shown`, whether at construction, in
  `append`, `append_tokens`, `+` or a new `plain`, and never reads markup (`from_markup` and `from_ansi`
  refuse). A line break survives only as a piece of its own (`text.append("\\n")`): inside a piece it is
  escaped like any other control, so no value can start a line that looks like lptui's.
- `Table` and `Group` turn every string cell, header, title and member into such a `Text` when they are
  given it: Rich would otherwise read a string as markup when it renders it (Textual's console does).

Rich's own internals keep building plain `rich.text.Text` from what these hold, which is escaped already.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group as _RichGroup
from rich.table import Table as _RichTable
from rich.text import Span
from rich.text import Text as _RichText

from lptui.core.shown import shown

__all__ = ["Group", "Table", "Text", "as_text", "fits_whole", "lines_text"]


def _piece(text: str) -> str:
    """A piece made only of line breaks is layout, lptui's own; anything else is shown escaped."""
    if not text or text.isprintable() or not text.strip("\n"):
        return text
    return shown(text)


# Rich's own `plain` property, which lptui's wraps (read from the class: an attribute access would call it).
_PLAIN: property = vars(_RichText)["plain"]


class Text(_RichText):
    """A Rich `Text` whose every string is escaped: see the module's docstring."""

    __slots__ = ()

    def __init__(self, text: str = "", style: Any = "", **kwargs: Any) -> None:
        super().__init__(_piece(text), style, **kwargs)

    @classmethod
    def from_markup(cls, *args: Any, **kwargs: Any) -> Text:
        raise TypeError("lptui never reads a string as markup: build a Text from pieces")

    @classmethod
    def from_ansi(cls, *args: Any, **kwargs: Any) -> Text:
        raise TypeError("lptui never reads escape sequences: build a Text from pieces")

    @classmethod
    def assemble(cls, *parts: Any, **kwargs: Any) -> Text:
        out = super().assemble(*parts, **kwargs)
        assert isinstance(out, Text)  # Rich builds it with `cls` and `append`: escaped
        return out

    def join(self, lines: Iterable[_RichText]) -> Text:
        out = super().join(lines)
        assert isinstance(out, Text)  # Rich builds it with `blank_copy`, lptui's below
        return out

    @property
    def plain(self) -> str:
        return str(_PLAIN.__get__(self))

    @plain.setter
    def plain(self, new_text: str) -> None:
        _PLAIN.__set__(self, _piece(new_text))

    def append(self, text: str | _RichText, style: Any = None) -> Text:
        if isinstance(text, str):
            text = _piece(text)
        elif not isinstance(text, Text):
            text = as_text(text)
        super().append(text, style)
        return self

    def append_text(self, text: _RichText) -> Text:
        super().append_text(text if isinstance(text, Text) else as_text(text))
        return self

    def append_tokens(self, tokens: Any) -> Text:
        super().append_tokens((_piece(content), style) for content, style in tokens)
        return self

    def blank_copy(self, plain: str = "") -> Text:
        return Text(plain, self.style, **_layout(self), tab_size=self.tab_size)

    def copy(self) -> Text:
        out = self.blank_copy(self.plain)
        out.spans = self.spans
        return out


def _layout(text: _RichText) -> dict[str, Any]:
    return {"justify": text.justify, "overflow": text.overflow, "no_wrap": text.no_wrap, "end": text.end}


def as_text(value: Any) -> Text:
    """A string, or a Rich `Text` made elsewhere (by Rich itself), as lptui's `Text`: each character
    escaped, each span moved to where its characters landed."""
    if isinstance(value, Text):
        return value
    if isinstance(value, str):
        return Text(value)
    if not isinstance(value, _RichText):
        return Text(str(value))
    plain = value.plain
    if plain.isprintable() or not plain.strip("\n"):
        out = Text(style=value.style, **_layout(value))
        _RichText.append_text(out, value)
        return out
    starts = [0]  # where each original character starts in the escaped string
    pieces = []
    for char in plain:
        piece = char if char.isprintable() or char == "\n" else shown(char)
        pieces.append(piece)
        starts.append(starts[-1] + len(piece))
    out = Text(style=value.style, **_layout(value))
    _RichText.append(out, "".join(pieces))
    out.spans = [Span(starts[s.start], starts[s.end], s.style) for s in value.spans]
    return out


def lines_text(text: str, style: Any = "") -> Text:
    """Text of several lines (lptui's own explanation, with names in it): each line escaped, the line
    breaks kept."""
    return Text("\n").join(Text(part, style) for part in text.split("\n"))


def _cell(value: Any) -> Any:
    return (
        Text(value) if isinstance(value, str) else as_text(value) if isinstance(value, _RichText) else value
    )


class Table(_RichTable):
    """A Rich `Table` whose string cells, headers, title and caption become lptui's `Text`."""

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any) -> None:
        super().__init__(*(_cell(h) for h in headers), title=_cell(title), caption=_cell(caption), **kwargs)

    @classmethod
    def grid(cls, *headers: Any, **kwargs: Any) -> Table:
        out = super().grid(*headers, **kwargs)
        assert isinstance(out, Table)  # Rich builds it with `cls`
        return out

    def add_column(self, header: Any = "", footer: Any = "", **kwargs: Any) -> None:
        super().add_column(_cell(header), _cell(footer), **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(_cell(r) for r in renderables), **kwargs)


class Group(_RichGroup):
    """A Rich `Group` whose string members become lptui's `Text`."""

    def __init__(self, *renderables: Any, fit: bool = True) -> None:
        super().__init__(*(_cell(r) for r in renderables), fit=fit)


def fits_whole(console: Any, renderable: Any) -> bool:
    """Whether `renderable` needs no more than the console's width when nothing in it may wrap: measured
    unconstrained (Rich's measurement is otherwise capped at the width it is given)."""
    from rich.measure import Measurement

    wide = console.options.update_width(1 << 16)
    return Measurement.get(console, wide, renderable).maximum <= console.width
