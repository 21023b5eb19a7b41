"""Comments on runs: add one, correct one, delete one (the results table's COMMENTS column).

A comment is numbered by its place among the run's comments, oldest first, as ``dlw show``
lists them: ``dlw comment RUN --edit 2 "new text"`` rewrites the second, ``--delete 2``
removes it. Any comment can be corrected or removed, so a wrong or unwanted one on a shared
registry never stays for good. :class:`RunComments` is part of
:class:`~dlworkflow.registry.Registry`.

Example:
    >>> with Registry.open("sqlite:///.dlw/registry.db") as registry:  # doctest: +SKIP
    ...     registry.add_comment("20250101", "trained on [/scratch/data]")
    ...     registry.edit_comment("20250101", 1, "trained on /scratch/data, 2024 copy")
    ...     registry.delete_comment("20250101", 1)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from dlworkflow.errors import RegistryError
from dlworkflow.registry.database import comments
from dlworkflow.registry.record import utc_now


class RunComments:
    """Adding, editing and deleting the comments of a run; mixed into the registry.

    The registry provides ``_where`` (how messages name it), ``_write()`` (a transaction)
    and ``resolve_id()`` (a run id from a unique prefix).
    """

    _where: str

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - the registry's own
        raise NotImplementedError

    def resolve_id(self, run_id: str) -> str:  # pragma: no cover - the registry's own
        raise NotImplementedError

    def add_comment(self, run_id: str, text: str) -> str:
        """Add a comment to a run.

        Args:
            run_id: The run's id or a unique prefix of it.
            text: The comment; must not be blank.

        Returns:
            The run's full id.

        Raises:
            RegistryError: If the text is blank or no single run matches ``run_id``.

        Example:
            >>> registry.add_comment("20250101-1200", "overfits after epoch 40")  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        checked = self._checked_text(text)
        full_id = self.resolve_id(run_id)
        with self._writing(full_id, "store the comment") as connection:
            connection.execute(insert(comments).values(run_id=full_id, text=checked, created_at=utc_now()))
        return full_id

    def edit_comment(self, run_id: str, number: int, text: str) -> str:
        """Replace the text of a run's comment ``number`` (1 = the oldest); its date stays.

        Raises:
            RegistryError: If the text is blank, no single run matches ``run_id`` or the run
                has no comment ``number``.

        Example:
            >>> registry.edit_comment("20250101-1200", 1, "overfits after epoch 30")  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        checked = self._checked_text(text)
        full_id = self.resolve_id(run_id)
        with self._writing(full_id, "edit the comment") as connection:
            row_id = self._comment_row(connection, full_id, number)
            connection.execute(update(comments).where(comments.c.id == row_id).values(text=checked))
        return full_id

    def delete_comment(self, run_id: str, number: int) -> str:
        """Delete a run's comment ``number`` (1 = the oldest); later comments move up one.

        Raises:
            RegistryError: If no single run matches ``run_id`` or the run has no comment ``number``.

        Example:
            >>> registry.delete_comment("20250101-1200", 1)  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        full_id = self.resolve_id(run_id)
        with self._writing(full_id, "delete the comment") as connection:
            row_id = self._comment_row(connection, full_id, number)
            connection.execute(delete(comments).where(comments.c.id == row_id))
        return full_id

    def _checked_text(self, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise RegistryError.single(
                self._where, "comment", "must be non-empty text", got=text, hint="Write what you noticed."
            )
        return text.strip()

    def _comment_row(self, connection: Connection, run_id: str, number: int) -> int:
        """The database id of the run's comment ``number``, counted from 1, oldest first."""
        row_ids = connection.execute(
            select(comments.c.id).where(comments.c.run_id == run_id).order_by(comments.c.id)
        ).scalars().all()
        if not 1 <= number <= len(row_ids):
            held = f"it has {len(row_ids)} comment(s)" if row_ids else "it has no comments"
            raise RegistryError.single(
                self._where, f"run {run_id!r}", f"no comment {number}: {held}",
                hint=f"Comments are numbered from 1, oldest first, as `dlw show {run_id}` lists them.",
            )
        return row_ids[number - 1]

    @contextmanager
    def _writing(self, run_id: str, action: str) -> Iterator[Connection]:
        """The registry's write transaction; a database error becomes one RegistryError saying what failed."""
        try:
            with self._write() as connection:
                yield connection
        except SQLAlchemyError as err:
            raise RegistryError.single(
                self._where, f"run {run_id!r}", f"cannot {action} ({getattr(err, 'orig', None) or err})",
                hint="Check that the registry is writable.",
            ) from err
