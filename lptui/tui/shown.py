"""Textual's text widgets on lptui's terms: the console's only way to put words on the screen
(tests/test_output_boundary.py fails on any other import of them, or of Textual's `App`).

Textual reads a plain string as markup almost everywhere: `Static`, `Label`, `Button`, `OptionList`,
a `DataTable` cell, a notification, a command palette's prompt and help. A patch named
`[@click=app.quit]x[/]` would be a button; `[link=file:///etc/passwd]` a hyperlink. So each widget
here turns every string it is given into lptui's `Text` (`lptui.richtext`: escaped by `shown`, never
markup) before Textual sees it, and the `App` does the same for notifications. Textual's own words
(key names in the footer) are not ours to escape.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from rich.console import RenderableType
from rich.text import Text as _RichText
from textual.app import App as _App
from textual.command import DiscoveryHit, Hit
from textual.markup import escape as _escape_markup
from textual.widgets import Button as _Button
from textual.widgets import DataTable as _DataTable
from textual.widgets import Label as _Label
from textual.widgets import Markdown as _Markdown
from textual.widgets import OptionList as _OptionList
from textual.widgets import RichLog as _RichLog
from textual.widgets import Select as _Select
from textual.widgets import Static as _Static
from textual.widgets.option_list import Option as _Option

from lptui.core.shown import one_line, shown
from lptui.richtext import Group, Table, Text, as_text, lines_text

__all__ = [
    "App",
    "Button",
    "DataTable",
    "Group",
    "Label",
    "Markdown",
    "Option",
    "OptionList",
    "RichLog",
    "Select",
    "Static",
    "Table",
    "Text",
    "as_text",
    "discovery_hit",
    "hit",
    "lines_text",
    "visual",
]


def visual(content: Any) -> Any:
    """What a widget may be given: a string or a Rich `Text` becomes lptui's `Text`; lptui's tables and
    groups made their cells so already; anything else (a Sparkline's numbers) passes."""
    if isinstance(content, str | _RichText):
        return as_text(content)
    return content


class _Plain(_Static):
    """Static's and Label's content (Textual's Label is a Static): never markup, every string escaped."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(visual(content), **kwargs)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(visual(content), layout=layout)


class Static(_Plain):
    pass


class Label(_Plain, _Label):
    pass


class Button(_Button):
    def __init__(self, label: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(None if label is None else visual(label), *args, **kwargs)


class DataTable(_DataTable):
    """Every cell, column label and row label as lptui's `Text`."""

    def add_column(self, label: Any, **kwargs: Any) -> Any:
        return super().add_column(visual(label), **kwargs)

    def add_columns(self, *labels: Any) -> list[Any]:
        return super().add_columns(*(visual(label) for label in labels))

    def add_row(self, *cells: Any, label: Any = None, **kwargs: Any) -> Any:
        label = None if label is None else visual(label)
        return super().add_row(*(visual(cell) for cell in cells), label=label, **kwargs)

    def add_rows(self, rows: Any) -> list[Any]:
        return [self.add_row(*row) for row in rows]

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, visual(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell_at(coordinate, visual(value), **kwargs)


class Option(_Option):
    def __init__(self, prompt: Any, id: str | None = None, disabled: bool = False) -> None:
        super().__init__(visual(prompt), id, disabled)


class OptionList(_OptionList):
    def __init__(self, *content: Any, **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(*(visual(c) if isinstance(c, str) else c for c in content), **kwargs)


class RichLog(_RichLog):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(**kwargs)

    def write(self, content: Any, *args: Any, **kwargs: Any) -> Any:
        return super().write(visual(content), *args, **kwargs)


class Select(_Select):
    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__([(visual(label), value) for label, value in options], **kwargs)

    def set_options(self, options: Any) -> None:
        super().set_options([(visual(label), value) for label, value in options])


class Markdown(_Markdown):
    """For lptui's own documents only (the help screen's literal text): a test holds every use to a
    module-level string constant."""


def _lines(message: str) -> str:
    """A notification: each line escaped, a few lines at most."""
    return "\n".join(one_line(part) for part in message.split("\n")[:8])


ReturnType = TypeVar("ReturnType")


class App(_App[ReturnType], Generic[ReturnType]):
    """Textual's App whose notifications never read markup and show every string escaped."""

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        super().notify(_lines(str(message)), title=shown(title), markup=False, **kwargs)


def hit(score: float, display: RenderableType, command: Any, help: str) -> Hit:
    """A command palette hit: `display` as given (a matcher's highlight) or escaped, `help` never markup
    (Textual reads a hit's help with Content.from_markup)."""
    prompt = visual(display)
    text = prompt.plain if isinstance(prompt, Text) else None
    return Hit(score, prompt, command, text=text, help=_escape_markup(shown(help)))


def discovery_hit(display: str, command: Any, help: str) -> DiscoveryHit:
    return DiscoveryHit(Text(display), command, text=shown(display), help=_escape_markup(shown(help)))
