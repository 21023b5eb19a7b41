"""Long tables as plain, aligned lines written straight to a stream: ``dlw runs --all`` over many runs.

Rich lays out a whole table before it prints a line, which over 100,000 rows takes more than a
minute; a table longer than a screen is read with a pager or ``grep`` anyway, where boxes and
folding add nothing. :class:`PlainTable` measures each column once, caps the free-text columns
at :data:`MAX_COLUMN_WIDTH` characters (a longer cell overflows its column on its own line, and
nothing is cut), and writes the rows in chunks: one line per row, every value kept, control
characters escaped (:func:`~dlworkflow.plain_text.printable`).

Example:
    >>> import io
    >>> stream = io.StringIO()
    >>> table = PlainTable(["ID", "rmse"], right_aligned={"rmse"})
    >>> table.write(stream, [("run-a", "3.81"), ("run-b", "12.5")], title="test set weather")
    >>> print(stream.getvalue(), end="")
    test set weather
    ID     rmse
    run-a  3.81
    run-b  12.5
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from dlworkflow.plain_text import printable

MAX_COLUMN_WIDTH = 48
"""The widest a column is padded to; a longer value overflows it on its own row."""

CHUNK_ROWS = 2_000
"""Rows joined into one write."""

GAP = "  "
"""Between two columns."""


@dataclass(frozen=True)
class PlainTable:
    """A header and rows written as aligned plain text lines.

    Args:
        columns: The column headers, in order.
        right_aligned: Headers of columns whose values are aligned right (numbers).

    Example:
        >>> import io
        >>> stream = io.StringIO()
        >>> PlainTable(["name"]).write(stream, [("a\\x1b[2J",)])
        >>> stream.getvalue().splitlines()[1]
        'a\\\\x1b[2J'
    """

    columns: Sequence[str]
    right_aligned: frozenset[str] | set[str] = field(default_factory=frozenset)

    def widths(self, rows: Sequence[Sequence[str]]) -> list[int]:
        """Each column's width: its longest value or header, at most :data:`MAX_COLUMN_WIDTH`.

        Args:
            rows: The cells, already printable.

        Returns:
            One width per column.

        Example:
            >>> PlainTable(["ID", "note"]).widths([("a", "x" * 100)])
            [2, 48]
        """
        longest = [max(map(len, column), default=0) for column in zip(*rows, strict=True)] or [0] * len(self.columns)
        return [min(max(len(header), width), MAX_COLUMN_WIDTH) for header, width in zip(self.columns, longest, strict=True)]

    def lines(self, rows: Iterable[Sequence[object]]) -> Iterable[str]:
        """The header line and one line per row, without trailing blanks.

        Args:
            rows: The values of each row, one per column (printed with :func:`str`).

        Yields:
            The lines, each ending in a newline.

        Example:
            >>> list(PlainTable(["a", "b"]).lines([("1", "2")]))
            ['a  b\\n', '1  2\\n']
        """
        cells = [tuple(printable(value) for value in row) for row in rows]
        widths = self.widths(cells)
        right = [header in self.right_aligned for header in self.columns]
        for row in [tuple(self.columns), *cells]:
            padded = [cell.rjust(width) if align else cell.ljust(width)
                      for cell, width, align in zip(row, widths, right, strict=True)]
            yield GAP.join(padded).rstrip() + "\n"

    def write(self, stream: TextIO, rows: Iterable[Sequence[object]], *, title: str | None = None) -> None:
        """Write the title (if any), the header and the rows to ``stream``, :data:`CHUNK_ROWS` at a time.

        Args:
            stream: Where to write (standard output for ``dlw runs``).
            rows: The values of each row.
            title: A line above the header.

        Example:
            >>> import sys
            >>> PlainTable(["x"]).write(sys.stdout, [("1",)], title="numbers")
            numbers
            x
            1
        """
        if title is not None:
            stream.write(printable(title) + "\n")
        chunk: list[str] = []
        for line in self.lines(rows):
            chunk.append(line)
            if len(chunk) >= CHUNK_ROWS:
                stream.write("".join(chunk))
                chunk.clear()
        stream.write("".join(chunk))
        stream.flush()
