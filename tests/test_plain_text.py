"""User text is printed as text: never Rich markup, never a control character a terminal acts on."""

from __future__ import annotations

import pytest
from rich.table import Table

from dlworkflow.plain_text import PlainConsole, plain, printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),            # clear the screen
        ("a\rb", "a\\x0db"),                 # overwrite the line
        ("bell\x07", "bell\\x07"),
        ("tab\there", "tab\\x09here"),
        ("\x9b31m", "\\x9b31m"),             # the one-byte C1 control sequence introducer
        ("\x7f", "\\x7f"),
        ("txt\u202egpj.exe", "txt\\u202egpj.exe"),  # right-to-left override
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        ("Zürich · 3.9 °C – ok", "Zürich · 3.9 °C – ok"),   # ordinary text untouched
        ("[/scratch/data] [red]x[/]", "[/scratch/data] [red]x[/]"),
    ],
)
def test_printable_escapes_only_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_line_breaks_are_escaped_unless_kept() -> None:
    assert printable("a\nb") == "a\\x0ab"
    assert printable("a\nb", newlines=True) == "a\nb"


def render(*items: object, width: int = 80) -> str:
    console = PlainConsole(width=width, force_terminal=True, color_system="truecolor")
    with console.capture() as captured:
        console.print(*items)
    return captured.get()


def test_the_console_prints_markup_and_emoji_codes_as_written() -> None:
    shown = render("trained on [/scratch/data] [link=http://evil]x[/link] [red]r[/] :smile:")
    assert "trained on [/scratch/data] [link=http://evil]x[/link] [red]r[/] :smile:" in shown
    assert "\x1b]8;" not in shown  # no hyperlink escape
    assert "\x1b[31m" not in shown  # no red


def test_the_console_escapes_control_characters_in_table_cells_and_titles() -> None:
    table = Table(title="set \x1b[2J [bold]x[/]")
    table.add_column("name [dim]")
    table.add_row("a\x1b]0;title\x07b")
    shown = render(table, width=60)
    assert "set \\x1b[2J [bold]x[/]" in shown
    assert "name [dim]" in shown
    assert "a\\x1b]0;title\\x07b" in shown
    assert "\x07" not in shown and "\x1b]0;" not in shown


def test_styles_come_only_from_text_dlworkflow_builds() -> None:
    shown = render(plain("[x] \x1b", "red"))
    assert "[x] \\x1b" in shown
    assert "\x1b[31m" in shown  # the style asked for by the caller
