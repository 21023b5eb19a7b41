"""What the results page reads from the registry, through one registry kept open while it serves.

Every page is a thin reader: the results table a page at a time
(:func:`~dlworkflow.registry.run_pages.read_run_pages`), one run's record, the comparison of
``dlw compare``, a study's runs, runs in progress. Nothing here computes a metric: values come
from the records as ``dlw runs``, ``dlw show`` and ``dlw compare`` show them.

Example:
    >>> with ResultsReader("sqlite:///.dlw/registry.db") as reader:  # doctest: +SKIP
    ...     pages = reader.pages(RunFilter(per_page=20))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dlworkflow.errors import RegistryError
from dlworkflow.registry.database import URL_HINT, open_database
from dlworkflow.registry.record import RunRecord
from dlworkflow.registry.registry import Registry
from dlworkflow.registry.run_comparison import RunComparison, compare_runs
from dlworkflow.registry.run_pages import RunFilter, RunPage, read_run_pages
from dlworkflow.ui.curves import Curves
from dlworkflow.ui.live import RunningRun, running_run, running_runs

MAX_COMPARED = 20
"""The most runs one comparison page overlays."""


@dataclass(frozen=True)
class StudyTrials:
    """A tuning study's recorded runs: its trials (scored on validation) and its final run.

    Attributes:
        name: The study's name.
        objective: What the trials were scored by (e.g. ``val_loss``).
        parameters: The tuned spec paths, in first-seen order.
        trials: The trial records, by trial number.
        finals: The study's final runs (trained once more and scored on test).

    Example:
        >>> StudyTrials("weather_tune", "val_loss").parameters
        []
    """

    name: str
    objective: str | None
    parameters: list[str] = field(default_factory=list)
    trials: list[RunRecord] = field(default_factory=list)
    finals: list[RunRecord] = field(default_factory=list)


class ResultsReader:
    """The registry as the results page reads (and, for comments, writes) it.

    Args:
        url: The registry's SQLAlchemy URL (None: ``DLW_REGISTRY`` or ``./.dlw/registry.db``).

    Raises:
        RegistryError: When the registry cannot be opened (the message names it and the fix).

    Example:
        >>> reader = ResultsReader("sqlite:///results/registry.db")  # doctest: +SKIP
        >>> reader.registry.home  # doctest: +SKIP
        PosixPath('results')
    """

    def __init__(self, url: str | None = None) -> None:
        engine, masked, home = open_database(url)
        self._engine = engine
        self.registry = Registry(engine, masked, home)

    def close(self) -> None:
        """Close the registry's connections."""
        self.registry.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def pages(self, run_filter: RunFilter) -> list[RunPage]:
        """One page of every leaderboard (see :func:`~dlworkflow.registry.run_pages.read_run_pages`)."""
        try:
            with self._engine.connect() as connection:
                def execute(sql: str, parameters: dict[str, Any]) -> list[Any]:
                    return list(connection.execute(text(sql), parameters).all())

                return read_run_pages(execute, run_filter)
        except SQLAlchemyError as err:
            raise RegistryError.single(
                f"registry {self.registry.url}", "", f"cannot be read ({getattr(err, 'orig', None) or err})",
                hint="Check that the database is reachable. " + URL_HINT,
            ) from err

    def test_set_names(self) -> list[str]:
        """The registered test sets' names, for the page's filter."""
        with self._engine.connect() as connection:
            return list(connection.execute(text("SELECT DISTINCT name FROM test_sets ORDER BY name")).scalars())

    def record(self, run_id: str) -> RunRecord:
        """One run's record with its comments (``dlw show``); ``run_id`` may be a unique prefix."""
        return self.registry.get(run_id)

    def run_folder(self, record: RunRecord) -> Path:
        """The run's artifact folder (as recorded, else where the registry keeps it)."""
        return Path(record.artifacts.dir) if record.artifacts.dir else self.registry.run_dir(record.id)

    def curves(self, run_id: str) -> Curves:
        """A run's curves: the history so far while it runs, else its ``history.csv``."""
        running = running_run(self.registry.home, run_id)
        if running is not None:
            return running.curves
        return Curves.of_run_folder(self.run_folder(self.record(run_id)))

    def running(self) -> list[RunningRun]:
        """The runs in progress, newest first."""
        return running_runs(self.registry.home)

    def running_run(self, run_id: str) -> RunningRun | None:
        """The run in progress with this id, or None."""
        return running_run(self.registry.home, run_id)

    def comparison(self, run_ids: Sequence[str]) -> tuple[list[RunRecord], RunComparison]:
        """The records of the runs and their comparison as ``dlw compare`` ranks it.

        Raises:
            RegistryError: With fewer than two or more than :data:`MAX_COMPARED` runs, an unknown id,
                or runs of different test sets (``dlw compare``'s message).
        """
        if len(run_ids) > MAX_COMPARED:
            raise RegistryError.single(
                "compare page", "runs", f"at most {MAX_COMPARED} runs can be compared at once",
                got=len(run_ids), hint="Choose fewer runs.",
            )
        records = [self.record(run_id) for run_id in run_ids]
        return records, compare_runs(records, where=f"registry {self.registry.url}")

    def study(self, name: str) -> StudyTrials:
        """A tuning study's recorded runs.

        Raises:
            RegistryError: When no recorded run belongs to a study of this name.
        """
        pattern = "%" + json.dumps(name)[1:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._engine.connect() as connection:
            texts = connection.execute(
                text("SELECT record_json FROM run_records WHERE record_json LIKE :pattern ESCAPE '\\'"),
                {"pattern": pattern},
            ).scalars().all()
        records = [RunRecord.from_json(raw) for raw in texts]
        mine = [record for record in records if record.study is not None and record.study.name == name]
        if not mine:
            raise RegistryError.single(
                f"registry {self.registry.url}", "study", "no recorded run belongs to a study of this name",
                got=name, hint="Studies are made by `dlw tune SPEC`; their names are on the results page.",
            )
        trials = sorted((r for r in mine if r.study.role == "trial"), key=lambda r: r.study.trial or 0)
        parameters: list[str] = []
        for record in trials:
            parameters += [path for path in record.study.params if path not in parameters]
        return StudyTrials(name, mine[0].study.objective, parameters, trials,
                           [r for r in mine if r.study.role != "trial"])
