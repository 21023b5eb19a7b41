"""The results registry: the workshop's one central results table, in a database.

A :class:`Registry` records runs (model name, description, metric, test set, git commit,
comments, and the full record), counts how often each test set has been looked at, lists
the results table, and owns the folder where run artifacts live.

Where the registry lives, first match wins:

1. the ``url`` argument (the command line's ``--registry``);
2. the ``DLW_REGISTRY`` environment variable;
3. ``sqlite:///<home>/registry.db``, where ``home`` defaults to the nearest ``.dlw/`` upward, else ``./.dlw``
   (:func:`dlworkflow.registry.location.default_home`).

The artifacts root (``home``) is the SQLite file's folder for a SQLite file URL, else the
given ``home`` or that default. Run folders are ``<home>/runs/<run_id>/``.

Example:
    >>> with Registry.open("sqlite:///.dlw/registry.db") as registry:   # doctest: +SKIP
    ...     for run in registry.list_runs():
    ...         print(run.id, run.name, run.primary_metric, run.primary_value)
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dlworkflow.errors import RegistryError, suggestion
from dlworkflow.registry import artifacts
from dlworkflow.registry.artifacts import RunFolder
from dlworkflow.registry.database import URL_HINT, WRITE, comments, open_database, run_records, runs, test_sets
from dlworkflow.registry.jobs import JobTable
from dlworkflow.registry.record import STATUSES, RunRecord
from dlworkflow.registry.record_sections import RecordedComment, TestSetLook
from dlworkflow.registry.run_comments import RunComments
from dlworkflow.registry.run_explanations import RunExplanations
from dlworkflow.registry.run_rows import insert_run
from dlworkflow.registry.run_summary import Leaderboard, RunSummary, read_leaderboards

_RECORD_RETRIES = 3
_RECENT_IDS = 200
_RUN_ID_PATTERN = "%Y%m%d-%H%M%S"


class Registry(RunComments, RunExplanations):
    """The results registry: a database of runs plus the folder of their artifacts.

    Open one with :meth:`open`; it is a context manager that closes its connections.

    Attributes:
        url: The database URL with its password masked (safe to print).
        home: The artifacts root; run folders are ``home/runs/<run_id>/``.

    Example:
        >>> with Registry.open() as registry:              # doctest: +SKIP
        ...     run_id = registry.new_run_id()
        ...     with registry.stage(run_id) as folder:
        ...         ...                                      # write artifacts
        ...         folder.commit()
        ...     registry.record(record, looked_at_test=True, test_set_name="weather-2000s")
    """

    def __init__(self, engine: Engine, url: str, home: Path):
        """Wrap an engine whose schema is in place; use :meth:`open` instead."""
        self._engine = engine
        self.url = url
        self.home = home
        self._where = f"registry {url}"  # how error messages name this registry
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._file = Path(database) if database and Path(database).is_file() else None
        self._inode = self._file.stat().st_ino if self._file is not None else None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, url: str | None = None, home: Path | None = None) -> Registry:
        """Open (and on first use create) a registry.

        Args:
            url: An SQLAlchemy database URL; default: ``$DLW_REGISTRY``, else
                ``sqlite:///<home>/registry.db``.
            home: The artifacts root for non-file URLs, and the folder of the default SQLite
                file; default the nearest ``.dlw/`` upward, else ``./.dlw``. For a SQLite file URL the file's folder is the home.

        Returns:
            The open registry; its tables and folders exist.

        Raises:
            RegistryError: If the URL is malformed, names an unknown database or a missing
                driver, the database cannot be reached or created, or it was written by a
                newer dlworkflow. The message names the URL (password masked) and the fix.

        Example:
            >>> registry = Registry.open("sqlite:///results/registry.db")  # doctest: +SKIP
            >>> registry.home                                              # doctest: +SKIP
            PosixPath('/home/ann/project/results')
        """
        return cls(*open_database(url, home))

    def close(self) -> None:
        """Close the registry's database connections.

        Example:
            >>> registry.close()  # doctest: +SKIP
        """
        self._engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry({self.url!r}, home={str(self.home)!r})"

    # ------------------------------------------------------------------ runs and folders

    def new_run_id(self) -> str:
        """Return a new run id: ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC start time, 6 random hex digits).

        Ids sort by start time and read as a date. An id already in the database or on disk
        is never returned, and the random part makes a clash between runs started in the
        same second negligible (one in 16 million per pair). Any unique prefix (e.g. the
        date and time) names a run in :meth:`get`.

        Returns:
            The id, e.g. ``20250101-120000-3f2a9c``.

        Example:
            >>> registry.new_run_id()  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        stamp = datetime.now(timezone.utc).strftime(_RUN_ID_PATTERN)
        while True:
            run_id = f"{stamp}-{secrets.token_hex(3)}"
            folder = artifacts.run_dir(self.home, run_id)
            staging = folder.with_name(artifacts.STAGING_PREFIX + run_id)
            if folder.exists() or staging.exists():
                continue
            with self._read() as connection:
                taken = connection.execute(select(runs.c.id).where(runs.c.id == run_id)).first()
            if taken is None:
                return run_id

    def stage(self, run_id: str) -> RunFolder:
        """Create the staging folder of a run's artifacts (see :class:`RunFolder`).

        Args:
            run_id: The run's id (from :meth:`new_run_id`).

        Returns:
            The staged folder; ``commit()`` moves it to ``home/runs/<run_id>/``.

        Raises:
            RegistryError: If the folder exists already or cannot be created.

        Example:
            >>> folder = registry.stage(registry.new_run_id())  # doctest: +SKIP
        """
        return RunFolder.stage(self.home, run_id)

    def run_dir(self, run_id: str) -> Path:
        """Return the artifact folder of a run (``home/runs/<run_id>``; it may not exist).

        Args:
            run_id: The full run id.

        Returns:
            The folder's path.

        Example:
            >>> registry.run_dir("20250101-120000-3f2a9c").name  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        return artifacts.run_dir(self.home, run_id)

    # ------------------------------------------------------------------ writing

    def record(self, record: RunRecord, *, looked_at_test: bool, test_set_name: str) -> RunRecord:
        """Store a run, counting its look at the test set, in one transaction.

        The test set is registered by fingerprint (``record.test_set.fingerprint``) the
        first time it is seen, under ``test_set_name``; later names for the same fingerprint
        do not rename it. If ``looked_at_test``, the test set's ``looks`` goes up by one and
        the run's ``test_set.look`` is the new count. Comments in ``record`` are not stored
        (add them with :meth:`add_comment`).

        Args:
            record: The run's record; ``status`` must be ``finished`` or ``failed``.
            looked_at_test: Whether the run was evaluated on the test set.
            test_set_name: The name the spec gives the test set.

        Returns:
            The stored record: ``test_set`` has the registered ``name``, the current ``looks``
            and this run's ``look`` (None when it did not look).

        Raises:
            RegistryError: If the status is invalid, a run with this id exists, the run
                looked at a test set without a fingerprint, or the database write fails.

        Example:
            >>> stored = registry.record(record, looked_at_test=True, test_set_name="weather")  # doctest: +SKIP
            >>> stored.test_set.look, stored.test_set.looks                                    # doctest: +SKIP
            (3, 3)
        """
        if record.status not in STATUSES:
            raise RegistryError.single(
                self._where,
                f"run {record.id!r}: status",
                f"must be one of {', '.join(map(repr, STATUSES))}",
                got=record.status,
            )
        fingerprint = record.test_set.fingerprint or None
        if looked_at_test and not fingerprint:
            raise RegistryError.single(
                self._where,
                f"run {record.id!r}: test_set.fingerprint",
                "a run that looked at the test set must record the test set's fingerprint",
                got=fingerprint,
                hint="Set record.test_set.fingerprint (Dataset.test_fingerprint).",
            )
        name = test_set_name or record.test_set.name or (fingerprint or "")[:12]
        for attempt in range(_RECORD_RETRIES):
            try:
                with self._write() as connection:
                    return insert_run(connection, record, fingerprint, name, looked_at_test, where=self._where)
            except IntegrityError as err:
                # Another process registered the same new test set first: count again.
                if attempt + 1 == _RECORD_RETRIES:
                    raise RegistryError.single(
                        self._where, f"run {record.id!r}", f"cannot be recorded ({err.orig})", hint=URL_HINT
                    ) from err
            except SQLAlchemyError as err:
                raise RegistryError.single(
                    self._where,
                    f"run {record.id!r}",
                    f"cannot be recorded ({getattr(err, 'orig', None) or err})",
                    hint="Check that the registry is reachable and writable. " + URL_HINT,
                ) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def replace_interrupted(self, record: RunRecord, *, looked_at_test: bool, test_set_name: str) -> RunRecord:
        """Record the end of an interrupted run that went on (``dlw resume``), in one transaction.

        The interrupted row is replaced by ``record`` under the same id; its comments stay.

        Args:
            record: The run's final record (same id as the interrupted one).
            looked_at_test: Whether the run was evaluated on the test set.
            test_set_name: The name the spec gives the test set.

        Returns:
            The stored record.

        Raises:
            RegistryError: If no interrupted run has this id, or the write fails.

        Example:
            >>> registry.replace_interrupted(record, looked_at_test=True, test_set_name="weather")  # doctest: +SKIP
        """
        fingerprint = record.test_set.fingerprint or None
        name = test_set_name or record.test_set.name or (fingerprint or "")[:12]
        try:
            with self._write() as connection:
                status = connection.execute(select(runs.c.status).where(runs.c.id == record.id)).scalar()
                if status != "interrupted":
                    raise RegistryError.single(
                        self._where, f"run {record.id!r}", "is not an interrupted run", got=status,
                        hint="Only a run recorded as interrupted can go on (dlw runs shows the status).",
                    )
                notes = connection.execute(
                    select(comments.c.text, comments.c.created_at).where(comments.c.run_id == record.id)
                    .order_by(comments.c.id)
                ).all()
                connection.execute(comments.delete().where(comments.c.run_id == record.id))
                connection.execute(run_records.delete().where(run_records.c.run_id == record.id))
                connection.execute(runs.delete().where(runs.c.id == record.id))
                stored = insert_run(connection, record, fingerprint, name, looked_at_test, where=self._where)
                for text, created_at in notes:
                    connection.execute(insert(comments).values(run_id=record.id, text=text, created_at=created_at))
                return stored
        except SQLAlchemyError as err:
            raise RegistryError.single(
                self._where, f"run {record.id!r}", f"cannot be recorded ({getattr(err, 'orig', None) or err})",
                hint="Check that the registry is reachable and writable. " + URL_HINT,
            ) from err

    def count_look(self, fingerprint: str) -> TestSetLook | None:
        """Count one more look at a registered test set: a model scored on its rows outside a run.

        ``dlw predict`` on rows whose fingerprint is a registered test set's (the target
        column included, so a score can be computed) is a look at it like a run's.

        Args:
            fingerprint: The fingerprint of the rows.

        Returns:
            The test set with its registered name, the new total ``looks`` and this ``look``;
            None when no registered test set has these rows (nothing is written).

        Raises:
            RegistryError: when the database write fails.

        Example:
            >>> registry.count_look(dataset.test_fingerprint).look  # doctest: +SKIP
            12
        """
        try:
            with self._write() as connection:
                counted = connection.execute(
                    update(test_sets).where(test_sets.c.fingerprint == fingerprint).values(looks=test_sets.c.looks + 1)
                ).rowcount
                if not counted:
                    return None
                row = connection.execute(
                    select(test_sets.c.name, test_sets.c.looks).where(test_sets.c.fingerprint == fingerprint)
                ).one()
        except SQLAlchemyError as err:
            raise RegistryError.single(
                self._where, "test set", f"its look cannot be counted ({getattr(err, 'orig', None) or err})",
                hint="Check that the registry is reachable and writable. " + URL_HINT,
            ) from err
        return TestSetLook(name=row.name, fingerprint=fingerprint, looks=int(row.looks), look=int(row.looks))

    # ------------------------------------------------------------------ reading

    def warnings_for_test_set(self, fingerprint: str, name: str) -> list[str]:
        """Return warnings about a test set's name before a run is recorded on it.

        Two situations make results hard to compare: the name is already used for a
        different test set (other rows, so the numbers are not comparable), or these exact
        rows are already registered under another name.

        Args:
            fingerprint: The test set's fingerprint.
            name: The name the spec gives it.

        Returns:
            The warnings (empty when the name and fingerprint agree with the registry).

        Example:
            >>> registry.warnings_for_test_set(dataset.test_fingerprint, "weather")  # doctest: +SKIP
            []
        """
        messages: list[str] = []
        with self._read() as connection:
            same_name = connection.execute(
                select(test_sets.c.fingerprint, test_sets.c.looks)
                .where(test_sets.c.name == name, test_sets.c.fingerprint != fingerprint)
                .order_by(test_sets.c.created_at)
            ).all()
            same_rows = connection.execute(
                select(test_sets.c.name, test_sets.c.looks).where(test_sets.c.fingerprint == fingerprint)
            ).first()
        for other, looks in same_name:
            messages.append(
                f"Test set name {name!r} already names a different test set (fingerprint {other[:12]}, "
                f"{looks} looks): results on the two are not comparable. "
                "Give this test set its own name with evaluate.test_set."
            )
        if same_rows is not None and same_rows.name != name:
            messages.append(
                f"This test set (fingerprint {fingerprint[:12]}) is already registered as {same_rows.name!r} "
                f"({same_rows.looks} looks); its runs are listed under {same_rows.name!r}, not {name!r}."
            )
        return messages

    def resolve_id(self, run_id: str) -> str:
        """Return the full id of the one run whose id is ``run_id`` or starts with it.

        Args:
            run_id: A full run id or a unique prefix.

        Returns:
            The full run id.

        Raises:
            RegistryError: If no run matches (with a did-you-mean among recent ids), or the
                prefix matches several runs (listing them).

        Example:
            >>> registry.resolve_id("20250101-12")  # doctest: +SKIP
            '20250101-120000-3f2a9c'
        """
        run_id = run_id.strip() if isinstance(run_id, str) else run_id
        if not isinstance(run_id, str) or not run_id:
            raise RegistryError.single(self._where, "run id", "must be a run id or a prefix of one", got=run_id)
        with self._read() as connection:
            exact = connection.execute(select(runs.c.id).where(runs.c.id == run_id)).first()
            if exact is not None:
                return exact.id
            prefixed = select(runs.c.id).where(runs.c.id.startswith(run_id, autoescape=True))
            matches = connection.execute(prefixed.order_by(runs.c.id).limit(11)).scalars().all()
            if not matches:
                newest = select(runs.c.id).order_by(runs.c.created_at.desc(), runs.c.id.desc())
                recent = connection.execute(newest.limit(_RECENT_IDS)).scalars().all()
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(repr(match) for match in matches[:10]) + (", ..." if len(matches) > 10 else "")
            raise RegistryError.single(
                self._where,
                "run id",
                f"the prefix matches several runs: {shown}",
                got=run_id,
                hint="Type more of the id.",
            )
        hint = suggestion(run_id, recent, show_options=5) if recent else "The registry has no runs yet."
        raise RegistryError.single(
            self._where,
            "run id",
            "no run has this id or an id starting with it",
            got=run_id,
            hint=(hint + " List the runs with `dlw runs`.").strip(),
        )

    def get(self, run_id: str) -> RunRecord:
        """Return the record of one run, with its comments and the test set's current looks.

        Args:
            run_id: The run's id or a unique prefix of it.

        Returns:
            The record; ``test_set.looks`` is the current total for the test set (it grows as
            later runs look), ``test_set.look`` this run's own look; ``comments`` oldest first.

        Raises:
            RegistryError: If no single run matches, or its stored record is unreadable.

        Example:
            >>> registry.get("20250101").primary.value  # doctest: +SKIP
            2.31
        """
        full_id = self.resolve_id(run_id)
        with self._read() as connection:
            row = connection.execute(
                select(run_records.c.record_json, test_sets.c.name, test_sets.c.looks)
                .select_from(
                    runs.join(run_records, run_records.c.run_id == runs.c.id).outerjoin(
                        test_sets, runs.c.test_set_fingerprint == test_sets.c.fingerprint
                    )
                )
                .where(runs.c.id == full_id)
            ).one()
            notes = connection.execute(
                select(comments.c.text, comments.c.created_at)
                .where(comments.c.run_id == full_id)
                .order_by(comments.c.id)
            ).all()
        try:
            record = RunRecord.from_dict(json.loads(row.record_json))
        except (json.JSONDecodeError, RegistryError) as err:
            raise RegistryError.single(
                self._where,
                f"run {full_id!r}",
                "its stored record is not a readable run record",
                hint="The database row was changed outside dlworkflow; record the run again.",
            ) from err
        test_set = record.test_set
        if row.looks is not None:
            test_set = dataclasses.replace(test_set, name=row.name, looks=int(row.looks))
        return record.replace(
            test_set=test_set,
            comments=[RecordedComment(text=note.text, created_at=note.created_at) for note in notes],
        )

    def list_runs(self, test_set: str | None = None) -> list[RunSummary]:
        """Return the results table: one summary per run, best first within each test set.

        The runs of :meth:`leaderboards`, one after the other. Only the table's columns are
        read, never the stored records.

        Args:
            test_set: Only runs on this test set: its registered name, fingerprint, or a
                fingerprint prefix.

        Returns:
            The summaries.

        Raises:
            RegistryError: If ``test_set`` names no registered test set (with a did-you-mean).

        Example:
            >>> [run.id for run in registry.list_runs(test_set="weather")]  # doctest: +SKIP
            ['20250101-120000-3f2a9c', '20250101-130502-91bc07']
        """
        return [run for board in self.leaderboards(test_set) for run in board.runs]

    def leaderboards(self, test_set: str | None = None, *, limit: int | None = None) -> list[Leaderboard]:
        """Return the results table as one leaderboard per test set and headline metric.

        Leaderboards are ordered by test set (registered name, then fingerprint; runs
        without a test set last), then by metric; each holds its runs best value first
        (lower first for rmse/mae, higher first for accuracy/r2/balanced_accuracy/f1_macro;
        ties by id, i.e. by start time), runs without a value last.

        Args:
            test_set: Only runs on this test set: its registered name, fingerprint, or a
                fingerprint prefix.
            limit: At most this many runs per leaderboard (the best); None for all.

        Returns:
            The leaderboards (see :class:`~dlworkflow.registry.run_summary.Leaderboard`).

        Raises:
            RegistryError: If ``test_set`` names no registered test set (with a did-you-mean).

        Example:
            >>> board = registry.leaderboards(limit=10)[0]  # doctest: +SKIP
            >>> board.metric, board.total, len(board.runs)  # doctest: +SKIP
            ('rmse', 120, 10)
        """
        with self._read() as connection:
            fingerprints = None if test_set is None else self._test_set_fingerprints(connection, test_set)

            def execute(sql: str, parameters: dict[str, Any]) -> list[Any]:
                return connection.execute(text(sql), parameters).all()

            return read_leaderboards(execute, fingerprints=fingerprints, limit=limit)

    def _test_set_fingerprints(self, connection: Connection, test_set: str) -> list[str]:
        named = connection.execute(
            select(test_sets.c.fingerprint).where(
                (test_sets.c.name == test_set) | test_sets.c.fingerprint.startswith(test_set, autoescape=True)
            )
        ).scalars().all()
        if named:
            return list(named)
        names = connection.execute(select(test_sets.c.name).order_by(test_sets.c.name).distinct()).scalars().all()
        raise RegistryError.single(
            self._where,
            "test set",
            "no test set has this name or fingerprint",
            got=test_set,
            hint=suggestion(test_set, names) if names else "No test set is registered yet.",
        )

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error) as err:
            raise RegistryError.single(
                self._where,
                "",
                f"cannot be read ({getattr(err, 'orig', None) or err})",
                hint="Check that the database is reachable. " + URL_HINT,
            ) from err

    @property
    def jobs(self) -> JobTable:
        """The jobs started or submitted with this registry (:mod:`dlworkflow.registry.jobs`)."""
        return JobTable(self._read, self._write)

    def statuses(self) -> dict[str, str]:
        """Every recorded run's id and status (``dlw recover`` looks for run folders missing from it).

        Example:
            >>> registry.statuses()  # doctest: +SKIP
            {'20250101-120000-3f2a9c': 'finished'}
        """
        with self._read() as connection:
            return dict(connection.execute(select(runs.c.id, runs.c.status)).all())

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._file is not None and (not self._file.is_file() or self._file.stat().st_ino != self._inode):
            raise RegistryError.single(  # SQLite would write on into the removed file's ghost, lost at the end
                self._where, "", f"the file {str(self._file)!r} was removed or replaced while dlw was using it",
                hint="Put the registry file back (or choose another with --registry); then run `dlw recover`.",
            )
        with self._engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield connection

