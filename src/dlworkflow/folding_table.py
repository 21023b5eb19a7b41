"""Tables that keep every column at any terminal width and never split a word.

A :class:`rich.table.Table` squeezed into a narrow terminal shrinks its columns below their
longest word: headers break (``DESCRIPTIO`` / ``N``) and cells fold mid-word, or a column is
left out. :class:`FoldingTable` wraps such a table and decides at render time, from the
width it is given:

- when every column fits at the width of its longest word (header or cell), the table is
  printed as a table, each column at least that wide, so values wrap only at spaces;
- otherwise each row is printed as ``FIELD: value`` lines (rows separated by a blank line),
  so no column is ever dropped.

The cells are rendered by the console they are printed on: with
:class:`~dlworkflow.plain_text.PlainConsole` user text stays plain (no markup, control
characters escaped) in both forms.

Example:
    >>> from rich.table import Table
    >>> from dlworkflow.plain_text import PlainConsole
    >>> table = Table("ID", "DESCRIPTION", title="runs", title_justify="left")
    >>> table.add_row("a1", "two dense layers")
    >>> console = PlainConsole(width=16, force_terminal=False)
    >>> with console.capture() as captured:
    ...     console.print(FoldingTable(table))
    >>> print(captured.get().rstrip())
    runs
    ID: a1
    DESCRIPTION: two
    dense layers
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from dlworkflow.plain_text import printable

UNBOUNDED = 1_000_000
"""A width no table reaches: its minimum is measured at this width, before Rich clamps it."""


def longest_word(value: RenderableType) -> int:
    """The width in terminal cells of the longest space-separated word of a cell (0 for no text).

    A string is measured as it is printed (:func:`~dlworkflow.plain_text.printable`: ``\\x1b``
    takes four cells).

    Example:
        >>> longest_word("dense 64 units"), longest_word(Text("validation")), longest_word("")
        (5, 10, 0)
    """
    text = value.plain if isinstance(value, Text) else printable(value, newlines=True) if isinstance(value, str) else ""
    return max((cell_len(word) for word in text.split()), default=0)


def longest_line(value: RenderableType) -> int:
    """The width in terminal cells of the longest line of a cell (0 for no text).

    Example:
        >>> longest_line("dense 64 units"), longest_line("a\\nbcd")
        (14, 3)
    """
    text = value.plain if isinstance(value, Text) else printable(value, newlines=True) if isinstance(value, str) else ""
    return max((cell_len(line) for line in text.splitlines()), default=0)


class FoldingTable:
    """A Rich table printed whole when its words fit the width, else folded into ``FIELD: value`` lines.

    Each column's minimum width becomes its longest word (of the header and of every cell;
    its longest line for a ``no_wrap`` column), so a word is never split; when those minimums do not fit the width, the rows are
    printed one field per line instead, every column kept.

    Args:
        table: The table, with its columns and rows added (its title is kept in both forms).

    Example:
        >>> from rich.table import Table
        >>> table = Table("metric", "test")
        >>> table.add_row("rmse", "3.877")
        >>> console = Console(width=80, force_terminal=False)
        >>> with console.capture() as captured:
        ...     console.print(FoldingTable(table))
        >>> "rmse" in captured.get() and "│" in captured.get()
        True
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._widest: list[int] = []
        for column in table.columns:
            cells = [column.header, *column.cells]
            measure = longest_line if column.no_wrap else longest_word  # a no_wrap column keeps whole lines
            column.min_width = max([column.min_width or 0, *(measure(cell) for cell in cells)])
            self._widest.append(max(column.min_width, *(longest_line(cell) for cell in cells)))

    def fits(self, console: Console, width: int) -> bool:
        """Whether the table fits ``width`` cells with every column at least its longest word."""
        return self._minimum(console) <= width

    def _minimum(self, console: Console) -> int:
        # measured unbounded: Rich clamps a table's measurement to the width it is offered
        unbounded = console.options.update_width(UNBOUNDED)
        return Measurement.get(console, unbounded, self.table).minimum

    def column_widths(self, console: Console, width: int) -> list[int]:
        """Each column's text width within ``width``: its longest word, and the room left shared by need.

        Rich alone narrows the widest columns first, below their longest word, and then
        crops the table; here no column goes below its longest word, and the room beyond the
        minimums goes to the columns whose longest line needs it, in proportion.
        """
        minimums = [column.min_width or 0 for column in self.table.columns]
        padding = self._minimum(console) - sum(minimums)
        spare = max(width - padding - sum(minimums), 0)
        wants = [widest - least for widest, least in zip(self._widest, minimums, strict=True)]
        if sum(wants) <= spare:
            return list(self._widest)
        shares = [spare * want // sum(wants) for want in wants]
        for index in sorted(range(len(wants)), key=lambda index: -wants[index])[: spare - sum(shares)]:
            shares[index] += 1
        return [least + share for least, share in zip(minimums, shares, strict=True)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if not self.fits(console, width):
            yield from self._folded(console)
            return
        for column, size in zip(self.table.columns, self.column_widths(console, width), strict=True):
            column.width = size
        yield self.table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def _folded(self, console: Console) -> Iterable[RenderableType]:
        table = self.table
        if table.title:
            yield table.title
        for index, row in enumerate(table.rows):
            if index:
                yield Text("")
            for column in table.columns:
                cell = next((cell for number, cell in enumerate(column.cells) if number == index), "")
                header = console.render_str(column.header) if isinstance(column.header, str) else column.header
                value = console.render_str(cell) if isinstance(cell, str) else cell
                if isinstance(value, Text) and isinstance(header, Text):
                    yield Text.assemble(header, ": ", value, style=row.style or "")
                else:
                    yield header
                    yield value
