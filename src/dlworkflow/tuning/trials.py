"""One tuning trial: the spec with the trial's values, trained and recorded as a run scored on validation.

:class:`TrialObjective` is what ``study.optimize`` calls. Each trial is a run in the
registry (its record says which study and trial it is, and its parameters); it is scored
on the validation part only and never looks at the test set. With pruning on, the trial's
objective is reported to Optuna after every epoch, and a hopeless trial stops training,
is recorded as the run it was (its epochs so far) and counts as pruned.

Example:
    >>> objective = TrialObjective(spec, dataset, "jax", registry_url)  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=1)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlworkflow.errors import TrainingError
from dlworkflow.tuning.search_space import apply_trial, suggest

if TYPE_CHECKING:
    import optuna
    from rich.console import Console

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec

RUN_ID_ATTRIBUTE = "run_id"
"""The trial's user attribute holding the id of its run in the registry."""

DATA_SECTIONS = ("data.", "split.")
"""Tuned paths under these need the data prepared again for each trial."""


def pruning_report(trial: optuna.trial.Trial, monitor: str) -> Any:
    """A Keras callback that reports ``monitor`` to Optuna each epoch and stops a hopeless trial.

    Args:
        trial: The running trial.
        monitor: The history key reported (e.g. ``val_loss``).

    Returns:
        The callback; its ``pruned_at`` is the 1-based epoch pruning stopped at, or None.

    Example:
        >>> callback = pruning_report(trial, "val_loss")  # doctest: +SKIP
    """
    import keras

    class PruningReport(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.pruned_at: int | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            value = (logs or {}).get(monitor)
            if value is None:
                return
            trial.report(float(value), epoch)
            if trial.should_prune():
                self.pruned_at = epoch + 1
                self.model.stop_training = True

    return PruningReport()


class TrialObjective:
    """Optuna's objective: train the spec with a trial's values and return its validation score.

    Args:
        spec: The study's validated spec (with ``[tune]``).
        dataset: The prepared data (reused by every trial unless a ``data.``/``split.``
            path is tuned).
        backend: The Keras backend in use.
        registry: The registry URL the trials are recorded in.
        quiet: Hide the per-epoch progress bar.
        console: Where the progress bar is drawn.

    Example:
        >>> study.optimize(TrialObjective(spec, dataset, "jax", None), n_trials=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        spec: Spec,
        dataset: Dataset,
        backend: str,
        registry: str | None,
        *,
        quiet: bool = True,
        console: Console | None = None,
    ):
        assert spec.tune is not None
        self.spec = spec
        self.dataset = dataset
        self.backend = backend
        self.registry = registry
        self.quiet = quiet
        self.console = console
        self.tuned_data = any(path.startswith(DATA_SECTIONS) for path in spec.tune.parameters)

    def __call__(self, trial: optuna.trial.Trial) -> float:
        import optuna

        from dlworkflow.execution.policy import RunPolicy
        from dlworkflow.execution.preparation import prepare
        from dlworkflow.execution.runner import execute
        from dlworkflow.registry import Registry
        from dlworkflow.registry.record_sections import StudyRole
        from dlworkflow.tuning.study import study_name

        tune = self.spec.tune
        assert tune is not None
        settings = suggest(trial, tune.parameters)
        trial_spec = apply_trial(self.spec, settings)
        dataset = self.dataset
        if self.tuned_data:
            dataset = prepare(trial_spec).dataset
        callbacks = []
        report = None
        if tune.pruning and tune.objective.startswith("val_"):
            report = pruning_report(trial, tune.objective)
            callbacks.append(report)
        study = StudyRole(name=study_name(self.spec), trial=trial.number, params=dict(settings),
                          objective=tune.objective, role="trial")
        with Registry.open(self.registry) as store:
            run = execute(trial_spec, dataset, self.backend, store, RunPolicy.trial(study, callbacks=tuple(callbacks)),
                          quiet=self.quiet, console=self.console)
        trial.set_user_attr(RUN_ID_ATTRIBUTE, run.id)
        value = run.record.primary.value
        if report is not None and report.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at epoch {report.pruned_at} (run {run.id})")
        if value is None:
            raise TrainingError.single(
                self.spec.source, "tune.objective", f"the trial's run {run.id} has no validation value of this name",
                got=tune.objective,
                hint="Use 'val_loss', an evaluation metric such as 'rmse' or 'accuracy', or a val_ value "
                "in the run's history (dlw show RUN).",
            )
        return value
