"""What ``dlw explain`` found, attached to the run's record after the run.

A run is recorded once, when it ends; an explanation comes later and may be redone (other
rows, the test part). :class:`RunExplanations` stores the latest one in the record's
``explanation`` entry and lists its files among the record's artifacts, in the registry and in
the run folder's ``run.json`` (written whole or not at all), so ``dlw show --json``, the report,
the web page and a registry rebuilt by ``dlw recover`` all hold it. :class:`RunExplanations` is
part of :class:`~dlworkflow.registry.Registry`.

Example:
    >>> with Registry.open("sqlite:///.dlw/registry.db") as registry:  # doctest: +SKIP
    ...     record = registry.attach_explanation("20250101", {"importance": {...}}, ["explanation.json"])
    >>> record.explanation["importance"]["columns"][0]["column"]  # doctest: +SKIP
    'BASEL_sunshine'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import SQLAlchemyError

from dlworkflow.errors import RegistryError
from dlworkflow.registry import artifacts
from dlworkflow.registry.database import run_records
from dlworkflow.registry.record import RunRecord


class RunExplanations:
    """Attaching an explanation to a recorded run; mixed into the registry.

    The registry provides ``_where`` (how messages name it), ``_write()`` (a transaction),
    ``resolve_id()`` (a run id from a unique prefix) and ``run_dir()`` (the run's folder).
    """

    _where: str

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - the registry's own
        raise NotImplementedError

    def resolve_id(self, run_id: str) -> str:  # pragma: no cover - the registry's own
        raise NotImplementedError

    def run_dir(self, run_id: str) -> Path:  # pragma: no cover - the registry's own
        raise NotImplementedError

    def attach_explanation(self, run_id: str, explanation: dict[str, Any], files: Sequence[str]) -> RunRecord:
        """Store ``explanation`` as the run's latest and add ``files`` to its artifacts.

        Args:
            run_id: The run's id or a unique prefix of it.
            explanation: What was found, as plain JSON data (``explanation.json``'s content).
            files: The names of the files written into the run folder.

        Returns:
            The updated record.

        Raises:
            RegistryError: If no single run matches or the registry cannot be written.

        Example:
            >>> registry.attach_explanation("2025", {"run_id": "..."}, ["explanation.json"]).explanation  # doctest: +SKIP
            {'run_id': '...'}
        """
        full_id = self.resolve_id(run_id)
        try:
            with self._write() as connection:
                stored = connection.execute(
                    select(run_records.c.record_json).where(run_records.c.run_id == full_id)
                ).scalar_one_or_none()
                if stored is None:
                    raise RegistryError.single(
                        self._where, f"run {full_id!r}", "has no stored record to attach the explanation to",
                        hint="Record the run first (`dlw recover`), then explain it.",
                    )
                record = _with_explanation(RunRecord.from_json(stored), explanation, files)
                connection.execute(
                    update(run_records).where(run_records.c.run_id == full_id).values(record_json=record.to_json())
                )
        except SQLAlchemyError as err:
            raise RegistryError.single(
                self._where, f"run {full_id!r}", f"cannot store the explanation ({getattr(err, 'orig', None) or err})",
                hint="Check that the registry is writable.",
            ) from err
        _rewrite_run_file(self.run_dir(full_id) / artifacts.RECORD, explanation, files)
        return record


def _with_explanation(record: RunRecord, explanation: dict[str, Any], files: Sequence[str]) -> RunRecord:
    names = list(record.artifacts.files)
    names += [name for name in files if name not in names]
    return record.replace(explanation=explanation, artifacts={"dir": record.artifacts.dir, "files": names})


def _rewrite_run_file(path: Path, explanation: dict[str, Any], files: Sequence[str]) -> None:
    """The run folder's copy of the record, with the explanation too (replaced whole; absent: left so)."""
    if not path.is_file():
        return
    record = _with_explanation(RunRecord.from_json(path.read_text(encoding="utf-8")), explanation, files)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(json.loads(record.to_json()), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
