"""``dlw tune``: run a study's trials (in one or several worker processes), then the best configuration once more.

The flow: check ``[tune]`` against the spec (before any training) → open or continue the
study → run trials until the study has ``n_trials`` finished ones (every trial a run in the
registry, scored on validation only) → train the best trial's configuration once more as a
normal run, evaluated on the test set once, beside the baselines → keep the study's table
and Optuna's optimization-history and parameter-importance plots in
``<registry home>/studies/<study>/``.

Workers coordinate through the study's storage only: each one loops "is the study done? if
not, run one trial", so workers may join from other machines (``--storage``) and a study
whose tuner was killed is finished by the next ``dlw tune``: a trial whose worker died stops
sending heartbeats, is marked failed after :data:`~dlworkflow.tuning.study.GRACE_SECONDS`
and retried with the same values.

Example:
    >>> result = tune_spec(spec, registry=None, storage=None, workers=1)  # doctest: +SKIP
    >>> result.best_params, result.final.primary["value"]  # doctest: +SKIP
    ({'model.layers[0].units': 50}, 3.31)
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError, TrainingError, WorkflowError
from dlworkflow.execution.preparation import prepare
from dlworkflow.tuning.search_space import apply_trial, check_parameters, trial_count
from dlworkflow.tuning.study import default_storage, open_study, quiet_optuna, study_name
from dlworkflow.tuning.trials import RUN_ID_ATTRIBUTE, TrialObjective

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from rich.console import Console

    from dlworkflow.execution.result import Run
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.spec.schema import Spec

STUDIES_DIR = "studies"
"""The folder under the registry home with one folder per study (table and plots)."""

TRIALS_FILE = "trials.csv"
"""The study's table: trial, parameters, objective, state, run id."""

HISTORY_PLOT = "optimization_history.png"
"""Optuna's optimization history: each trial's objective and the best so far."""

IMPORTANCE_PLOT = "param_importances.png"
"""Optuna's parameter importances (fANOVA), when the study has enough finished trials."""

FINAL_RUN_ATTRIBUTE = "dlw_final_run"
"""The study's user attribute ``{trial, run_id}`` of the final run trained for its best trial."""

POLL_SECONDS = 2.0
"""How often a worker with nothing to do checks whether the last trials finished or died."""


@dataclass
class TuneResult:
    """What ``dlw tune`` did.

    Attributes:
        study: The study's name.
        storage: Where the study is stored (password masked).
        trials: The study's table, one row per trial: ``trial``, one column per tuned path,
            ``objective``, ``state``, ``run_id``.
        best_params: The best trial's values by spec path.
        best_value: The best trial's objective on validation.
        final: The record of the final run: the best configuration trained once more and
            evaluated on test (when the study was already finished with the same best trial,
            the final run recorded then: the test set is not looked at again).
        final_run: That run with its model, when it was trained by this call; else None.
        folder: Where the table and plots are kept.
        files: The files written there.
        notes: What could not be drawn, and why.

    Example:
        >>> result.trials[["trial", "objective", "state"]].head(2)  # doctest: +SKIP
    """

    study: str
    storage: str
    trials: pd.DataFrame
    best_params: dict[str, Any]
    best_value: float
    final: RunRecord
    final_run: Run | None
    folder: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def tune_spec(
    spec: Spec,
    *,
    registry: str | None = None,
    storage: str | None = None,
    workers: int = 1,
    quiet: bool = True,
    console: Console | None = None,
) -> TuneResult:
    """Run a spec's study to its ``n_trials`` finished trials, then the best configuration on test.

    Args:
        spec: The validated spec with ``[tune]``.
        registry: The registry URL (trials and the final run are recorded there).
        storage: The Optuna storage URL; default :func:`~dlworkflow.tuning.study.default_storage`.
        workers: Worker processes on this machine (1: in this process).
        quiet: Hide the per-epoch progress bars.
        console: Where progress is drawn.

    Returns:
        The :class:`TuneResult`.

    Raises:
        SpecError: for a missing ``[tune]``, a ``[tune]`` path or value that does not fit the spec (before any
            training), or a study name already used by another spec.
        TrainingError: when no trial finished, so there is no best configuration.

    Example:
        >>> tune_spec(spec, workers=2).best_params  # doctest: +SKIP
        {'model.layers[0].units': 100}
    """
    if spec.tune is None:
        raise SpecError.single(
            spec.source, "tune", "is missing: dlw tune needs a [tune] section",
            hint='Add [tune.parameters] with a spec path and its choices, e.g. "model.layers[0].units" = [10, 50].',
        )
    check_parameters(spec)
    storage_url = storage or default_storage(registry)
    study = open_study(spec, storage_url)  # refuses a name taken by another spec before any training
    if workers <= 1:
        prepared = prepare(spec)
        objective = TrialObjective(spec, prepared.dataset, prepared.backend, registry, quiet=quiet, console=console)
        run_until_done(study, objective, trial_count(spec.tune))
    else:
        _run_workers(spec, registry, storage_url, workers, quiet)
        study = open_study(spec, storage_url)
    finished = [t for t in study.trials if t.value is not None and t.state.name == "COMPLETE"]
    if not finished:
        raise TrainingError.single(
            spec.source, "tune", "no trial finished, so there is no best configuration",
            hint="Look at the trial runs (dlw runs) for their errors; try fewer epochs or other ranges.",
        )
    best = study.best_trial
    final_run = None
    final = _recorded_final(study, best.number, registry)
    if final is None:
        final_run = _final_run(spec, best, registry, quiet, console)
        final = final_run.record
        study.set_user_attr(FINAL_RUN_ATTRIBUTE, {"trial": best.number, "run_id": final_run.id})
    folder, files, notes = _keep_study(study, spec, registry)
    from dlworkflow.registry.database import mask_url

    return TuneResult(
        study=study.study_name, storage=mask_url(storage_url), trials=study_table(study),
        best_params=dict(best.params), best_value=float(best.value), final=final, final_run=final_run, folder=folder,
        files=files, notes=notes,
    )


def run_until_done(study: optuna.Study, objective: Callable[[Any], float], total: int) -> None:
    """Run trials one at a time until the study holds ``total`` finished trials.

    Finished means complete, pruned, or failed by an error in the trial itself; a trial
    whose worker died (no heartbeat) is failed and retried, so it does not count. While the
    last trials run in other workers this worker waits for them instead of starting more.

    Args:
        study: The study (its storage shared by all workers).
        objective: The trial objective.
        total: Finished trials the study should have.

    Example:
        >>> run_until_done(study, objective, 6)  # doctest: +SKIP
    """
    import optuna

    while True:
        with quiet_optuna():
            optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        done, running = _progress(trials)
        if done >= total or _grid_exhausted(study, trials):
            return
        if done + running >= total:
            time.sleep(POLL_SECONDS)
            continue
        with quiet_optuna():
            study.optimize(objective, n_trials=1, catch=(TrainingError,), gc_after_trial=False)


def _progress(trials: list[Any]) -> tuple[int, int]:
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    with quiet_optuna():
        retried = {RetryHeartbeatStaleTrialCallback.retried_trial_number(t) for t in trials} - {None}
    done = sum(
        1 for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        or (t.state == TrialState.FAIL and t.number not in retried and not _died(t))
    )
    running = sum(1 for t in trials if t.state == TrialState.RUNNING)  # a WAITING (retry) trial is run next
    return done, running


def _died(trial: Any) -> bool:
    """A trial failed because its worker stopped (it will be retried), not by its own error."""
    return "fail_reason" not in trial.system_attrs and RUN_ID_ATTRIBUTE not in trial.user_attrs


def _grid_exhausted(study: optuna.Study, trials: list[Any]) -> bool:
    import optuna

    sampler = study.sampler
    if not isinstance(sampler, optuna.samplers.GridSampler):
        return False
    from optuna.trial import TrialState

    done = {t.system_attrs.get("grid_id") for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    return len(done - {None}) >= sampler._n_min_trials  # every grid point finished


def study_table(study: optuna.Study) -> pd.DataFrame:
    """The study's table: trial, one column per tuned path, objective, state, run id.

    Example:
        >>> study_table(study).columns.tolist()  # doctest: +SKIP
        ['trial', 'model.layers[0].units', 'objective', 'state', 'run_id']
    """
    import pandas as pd

    rows = []
    for trial in study.get_trials(deepcopy=False):
        rows.append({
            "trial": trial.number,
            **trial.params,
            "objective": trial.value,
            "state": trial.state.name.lower(),
            "run_id": trial.user_attrs.get(RUN_ID_ATTRIBUTE),
        })
    return pd.DataFrame(rows)


def _recorded_final(study: optuna.Study, best_number: int, registry: str | None) -> RunRecord | None:
    """The final run already trained for this best trial, if the registry still has it."""
    from dlworkflow.errors import RegistryError
    from dlworkflow.registry import Registry

    recorded = study.user_attrs.get(FINAL_RUN_ATTRIBUTE) or {}
    if recorded.get("trial") != best_number:
        return None
    try:
        with Registry.open(registry) as store:
            return store.get(recorded["run_id"])
    except RegistryError:
        return None


def _final_run(spec: Spec, best: Any, registry: str | None, quiet: bool, console: Any) -> Run:
    from dlworkflow.execution.policy import RunPolicy
    from dlworkflow.execution.runner import execute
    from dlworkflow.registry import Registry
    from dlworkflow.registry.record_sections import StudyRole

    final_spec = apply_trial(spec, best.params)
    prepared = prepare(final_spec)
    study = StudyRole(name=study_name(spec), trial=best.number, params=dict(best.params),
                      objective=spec.tune.objective, role="final", objective_value=best.value)
    with Registry.open(registry) as store:
        return execute(final_spec, prepared.dataset, prepared.backend, store, RunPolicy.study_final(study),
                       quiet=quiet, console=console, timings=prepared.timings)


def _keep_study(study: optuna.Study, spec: Spec, registry: str | None) -> tuple[Path, list[str], list[str]]:
    """Write the study's table and Optuna's plots into ``<registry home>/studies/<study>/``."""
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        folder = store.home / STUDIES_DIR / study.study_name
    folder.mkdir(parents=True, exist_ok=True)
    study_table(study).to_csv(folder / TRIALS_FILE, index=False)
    files, notes = [TRIALS_FILE], []
    for name, draw in ((HISTORY_PLOT, "plot_optimization_history"), (IMPORTANCE_PLOT, "plot_param_importances")):
        reason = _save_optuna_plot(study, draw, folder / name)
        if reason is None:
            files.append(name)
        else:
            notes.append(f"{name} not drawn: {reason}")
    return folder, files, notes


def _save_optuna_plot(study: optuna.Study, function: str, path: Path) -> str | None:
    import matplotlib

    if "inline" not in matplotlib.get_backend():  # a notebook kernel keeps its inline backend for the user's plots
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    try:
        with quiet_optuna():
            axes = getattr(optuna_plots, function)(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as err:
        return str(err) or type(err).__name__
    figure = axes.figure if hasattr(axes, "figure") else axes
    figure.set_size_inches(8, 5)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None


def _run_workers(spec: Spec, registry: str | None, storage: str, workers: int, quiet: bool) -> None:
    """Start ``workers`` processes that run trials until the study is done, and wait for them."""
    context = multiprocessing.get_context("spawn")
    document = spec.resolved()
    processes = [
        context.Process(target=worker_main, args=(document, spec.source, registry, storage, worker), daemon=False)
        for worker in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        raise TrainingError.single(
            spec.source, "tune", f"{len(failed)} of {workers} tuning workers stopped with an error",
            hint="Run with --workers 1 to see the error, or look at the failed trial runs (dlw runs).",
        )


def worker_main(document: dict[str, Any], source: str, registry: str | None, storage: str, worker: int = 0) -> None:
    """One worker process: prepare the data, then run trials until the study is done.

    Args:
        document: The resolved spec.
        source: The spec's file (for messages).
        registry: The registry URL.
        storage: The study's storage URL.
        worker: The worker's index (its sampler's seed).

    Example:
        >>> worker_main(spec.resolved(), "weather_tune.toml", None, "sqlite:///.dlw/studies.db")  # doctest: +SKIP
    """
    import sys

    from dlworkflow.plain_text import printable

    try:
        worker_loop(document, source, registry, storage, worker=worker)
    except WorkflowError as error:
        print(f"error: {printable(error, newlines=True)}", file=sys.stderr)
        sys.exit(error.exit_code)


def worker_loop(document: dict[str, Any], source: str, registry: str | None, storage: str, *, worker: int = 0) -> int:
    """Prepare the data, then run trials until the study is done (a worker process, or a SLURM array task).

    Args:
        document: The resolved spec.
        source: The spec's file (for messages).
        registry: The registry URL.
        storage: The study's storage URL.
        worker: The worker's index: workers started together draw different values (its sampler's seed).

    Returns:
        How many trials the study holds at the end.

    Raises:
        WorkflowError: a spec, data or registry problem.

    Example:
        >>> worker_loop(spec.resolved(), "weather_tune.toml", None, "sqlite:///.dlw/studies.db")  # doctest: +SKIP
        2
    """
    from dlworkflow.spec import validate_spec

    spec = validate_spec(document, source=source)
    prepared = prepare(spec)
    objective = TrialObjective(spec, prepared.dataset, prepared.backend, registry)
    study = open_study(spec, storage, worker=worker)
    run_until_done(study, objective, trial_count(spec.tune))
    return len(study.trials)
