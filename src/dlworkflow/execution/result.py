"""What a run and a summary return: :class:`Run` and :class:`ModelSummary`.

A leaf of the upper layers: it imports nothing of the runner, the tuner or the API, so each
of them (and the command line) can hand these types around.

Example:
    >>> from dlworkflow.execution.result import Run
    >>> Run.__dataclass_fields__.keys() >= {"record", "model", "history", "dataset"}
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.models.parameters import ParameterReport
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.spec import Spec


@dataclass
class Run:
    """A finished run: its record, the trained model and its history.

    Attributes:
        record: The run's record as stored in the registry (a typed
            :class:`~dlworkflow.registry.record.RunRecord`; ``record["split"]["train"]`` reads
            it as the JSON of ``dlw show --json``, ``record.to_dict()`` gives all of it).
        model: The trained Keras model (the evaluated weights).
        history: One row per epoch: ``epoch``, ``loss``, ``val_loss`` and the metrics.
        dataset: The prepared and split data the run used.
        warnings: Things the user should know (e.g. a test-set name reused for other data).

    Example:
        >>> result = dlworkflow.run("examples/penguins.toml")  # doctest: +SKIP
        >>> result.record.split.train, result.primary["baseline"]  # doctest: +SKIP
        (273, 'logistic_regression')
    """

    record: RunRecord
    model: Any
    history: pd.DataFrame
    dataset: Dataset
    warnings: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The run id in the registry."""
        return self.record.id

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Part (train/validation/test) → metric → value."""
        return self.record.metrics

    @property
    def baselines(self) -> dict[str, dict[str, dict[str, float]]]:
        """Baseline name → part → metric → value."""
        return self.record.baselines

    @property
    def primary(self) -> dict[str, Any]:
        """The headline metric on the test set beside the best baseline, with the skill score."""
        return self.record.primary.to_dict()

    def __repr__(self) -> str:
        from dlworkflow.formatting import format_number

        headline = self.record.primary
        return f"Run(id={self.id!r}, name={self.record.name!r}, test {headline.metric}={format_number(headline.value)})"

    @property
    def folder(self) -> Path | None:
        """The run folder with its artifacts (model, history, plots), or None."""
        directory = self.record.artifacts.dir
        return Path(directory) if directory else None

    def _repr_html_(self) -> str:
        """Jupyter shows a run as its warnings, its headline beside the baseline, its diagnosis and its curves."""
        from dlworkflow.reporting.html_report import render_summary
        from dlworkflow.reporting.notebook_html import warnings_html

        return warnings_html(self.warnings) + render_summary(self.record.to_dict(), self.folder)

    def plot(self) -> Any:
        """The training curves (loss and each metric, training against validation, best epoch marked).

        Returns:
            A matplotlib Figure; a notebook shows it, ``figure.savefig(path)`` saves it.

        Example:
            >>> result.plot()  # doctest: +SKIP
            <Figure size 960x330 with 2 Axes>
        """
        from dlworkflow.evaluation.training_plots import history_figure

        training = self.record.training
        return history_figure(
            self.history, best_epoch=training.best_epoch, evaluated_epoch=training.evaluated_epoch,
            stopped_early=bool(training.stopped_early), stages=training.stages,
        )

    def explain(self, rows: int | None = None, part: str = "validation", *, repeats: int = 5,
                registry: str | None = None) -> Any:
        """Rank the run's input columns by permutation importance (as ``dlw explain``), into its folder.

        Args:
            rows: At most this many rows of the part, or all.
            part: ``validation``, or ``test`` (counts a look at the test set).
            repeats: Shuffles per column.
            registry: The registry the run is in (a SQLAlchemy URL; default: the default one).

        Returns:
            An :class:`~dlworkflow.execution.explanation.Explanation`.

        Example:
            >>> result.explain(rows=200).importance.columns[0].column  # doctest: +SKIP
            'BASEL_sunshine'
        """
        from dlworkflow.execution.explanation import explain_run
        from dlworkflow.registry import Registry

        with Registry.open(registry) as store:
            return explain_run(store, store.get(self.id), rows=rows, part=part, repeats=repeats)

    def report(self, output: str | Path | None = None) -> Path:
        """Write the run's self-contained HTML page (as ``dlw report``).

        Args:
            output: The HTML file; default ``report.html`` in the run folder.

        Returns:
            The written file.

        Example:
            >>> result.report("weather.html")  # doctest: +SKIP
            PosixPath('weather.html')
        """
        from dlworkflow.reporting.html_report import REPORT_FILE, write_report

        folder = self.folder
        target = Path(output) if output is not None else (folder or Path(".")) / REPORT_FILE
        return write_report(self.record.to_dict(), folder, target)


@dataclass(frozen=True)
class ModelSummary:
    """What ``dlw summary`` shows: the model's layers and parameter counts, explained.

    Attributes:
        spec: The validated spec.
        backend: The Keras backend the model was built with.
        parameters: Per-layer output shapes, counts and formulas, and the totals.
        sizes: Rows per split, or None when the spec's ``model.input_shape`` made loading
            the data unnecessary.
        warning: Notes on the data (e.g. test rows repeated in training) and when parameters
            greatly outnumber training rows, one per line; else None.

    Example:
        >>> dlworkflow.summary("examples/weather.toml").parameters.total  # doctest: +SKIP
        14101
    """

    spec: Spec
    backend: str
    parameters: ParameterReport
    sizes: dict[str, int] | None
    warning: str | None

    def __repr__(self) -> str:
        from dlworkflow.formatting import format_number

        rows = "not loaded" if self.sizes is None else format_number(self.sizes["train"])
        return (f"ModelSummary(name={self.spec.name!r}, backend={self.backend!r}, "
                f"parameters={format_number(self.parameters.total)}, training_rows={rows})")

    def _repr_html_(self) -> str:
        """Jupyter shows a summary as the table ``dlw summary`` prints, its warnings above it."""
        from dlworkflow.reporting.notebook_html import model_summary_html

        return model_summary_html(self.spec.name, self.backend, self.parameters, self.sizes, self.warning)
