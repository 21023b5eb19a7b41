"""User text in the terminal: printed as text, never as markup, with control characters escaped.

A run's name, a comment, a class label, a column name or a path comes from a user (or from a
file a user got from someone else) and is shown to everyone who reads a shared registry. Two
things must not happen when it is printed: brackets read as Rich markup (``[red]`` coloured,
``[/scratch/data]`` a crash, ``[low]`` gone) and bytes that steer the terminal (an escape
sequence that clears the screen, a carriage return that overwrites the line, a bidirectional
override that reorders what is read). :func:`printable` escapes the second;
:class:`PlainConsole` never reads markup or emoji codes in a string and escapes control
characters in every string it renders, so styles come only from :class:`rich.text.Text` built
by dlworkflow itself.

Example:
    >>> printable("trained on [/scratch/data]\\x1b[2J")
    'trained on [/scratch/data]\\\\x1b[2J'
    >>> console = PlainConsole(width=60, force_terminal=False)
    >>> with console.capture() as captured:
    ...     console.print("label [low] and [red]not red[/]")
    >>> captured.get()
    'label [low] and [red]not red[/]\\n'
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.text import Text

_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_CONTROL_AND_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any, *, newlines: bool = False) -> str:
    r"""``value`` as text safe to print: control characters written as escapes (``\x1b``, ``\u202e``).

    Escaped are the C0 and C1 control characters, DEL, and the Unicode controls that reorder
    text (bidirectional overrides, embeddings, isolates and marks). A tab is escaped too: it
    would misalign a table.

    Args:
        value: Any value; printed with :func:`str`.
        newlines: Keep line breaks (``\n``) as they are, for text shown on several lines;
            by default they are escaped so that one value stays on one line.

    Returns:
        The text, with nothing a terminal would act on.

    Example:
        >>> printable("snow\r\nrain"), printable("a\nb", newlines=True)
        ('snow\\x0d\\x0arain', 'a\nb')
        >>> printable("\u202egnp.exe")
        '\\u202egnp.exe'
    """
    pattern = _CONTROL if newlines else _CONTROL_AND_NEWLINE
    return pattern.sub(_escaped, str(value))


def plain(value: Any, style: str = "") -> Text:
    """``value`` as a :class:`rich.text.Text` of :func:`printable` text: never markup, optionally styled.

    Example:
        >>> plain("[bold]x[/]", "cyan").plain
        '[bold]x[/]'
    """
    return Text(printable(value, newlines=True), style=style)


class PlainConsole(Console):
    """A Rich console that reads no markup and no emoji codes, and escapes control characters.

    Every string it renders (printed, a table cell, a title) is shown as written, through
    :func:`printable` with line breaks kept; styles come only from :class:`rich.text.Text`
    objects, which dlworkflow builds from :func:`plain` for user text.

    Example:
        >>> console = PlainConsole(width=40, force_terminal=False)
        >>> with console.capture() as captured:
        ...     console.print(":smile: [link=http://x]y[/link]\\x07")
        >>> captured.get()
        ':smile: [link=http://x]y[/link]\\\\x07\\n'
    """

    def __init__(self, **options: Any) -> None:
        options = {"markup": False, "emoji": False, "highlight": False, **options}
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        """A string as plain text: no markup, no emoji codes, control characters escaped."""
        options["markup"] = False
        options["emoji"] = False
        return super().render_str(printable(text, newlines=True), **options)
