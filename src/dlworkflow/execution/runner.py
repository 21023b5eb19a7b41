"""One run, from a prepared dataset to a recorded result: the stages in order, and what happens on failure.

Nothing is half-written: artifacts go to a staging folder that is renamed only once the run
has finished; a run that fails while training is recorded as ``failed`` with its error and
no artifacts; a run interrupted by Ctrl-C keeps its folder and checkpoint and is recorded as
``interrupted`` (``dlw resume`` goes on). What differs between a plain run, a trial, a
resumed run and a study's final run is the :class:`~dlworkflow.execution.policy.RunPolicy`.

Example:
    >>> result = execute(spec, dataset, "jax", registry, RunPolicy.plain())  # doctest: +SKIP
    >>> result.record.status  # doctest: +SKIP
    'finished'
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlworkflow.errors import TrainingError, WorkflowError
from dlworkflow.execution import stages
from dlworkflow.execution.policy import RunPolicy
from dlworkflow.execution.result import Run
from dlworkflow.registry import artifacts
from dlworkflow.registry.recovery import interrupted_record, write_owner
from dlworkflow.registry.record import utc_now

if TYPE_CHECKING:
    from rich.console import Console

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.execution.trainer import BuiltModel, Trainer
    from dlworkflow.registry import Registry, RunFolder
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.spec import Spec


@dataclass(frozen=True)
class _Started:
    """A run past its build stage: its folder, its header record and the built model."""

    folder: RunFolder
    header: RunRecord
    built: BuiltModel
    metric: str


def execute(
    spec: Spec,
    dataset: Dataset,
    backend: str,
    registry: Registry,
    policy: RunPolicy | None = None,
    *,
    trainer: Trainer | None = None,
    quiet: bool = True,
    console: Console | None = None,
    timings: dict[str, float] | None = None,
) -> Run:
    """Build, train, score, save and record one run.

    Args:
        spec: The validated spec.
        dataset: The prepared, split dataset.
        backend: The active Keras backend.
        registry: An open registry.
        policy: Plain run (default), tuning trial, resumed run or a study's final run.
        trainer: The framework; default :class:`~dlworkflow.execution.trainer.KerasTrainer`.
        quiet: Hide the progress bar.
        console: Where the progress bar is drawn.
        timings: Seconds already spent per stage (e.g. ``prepare``).

    Returns:
        The finished run.

    Raises:
        SpecError: for a layer, loss, optimizer or metric Keras rejects (nothing recorded).
        TrainingError: when training fails (recorded as ``failed``).
    """
    from dlworkflow.execution.trainer import KerasTrainer

    policy = policy or RunPolicy.plain()
    trainer = trainer or KerasTrainer()
    timings = dict(timings or {})
    started = _start(spec, dataset, backend, registry, policy, trainer, timings)
    try:
        clock = time.perf_counter()
        training = stages.train(started.built, spec, dataset, policy, started.folder, trainer,
                                console=console, quiet=quiet)
        timings["train"] = time.perf_counter() - clock
        clock = time.perf_counter()
        scores = stages.score(started.built, spec, dataset, policy, training, trainer, started.metric)
        timings["evaluate"] = time.perf_counter() - clock
        stages.save(started.folder, started.built.model, spec, dataset, training, scores, policy, trainer)
    except BaseException as err:
        _record_stop(registry, started, policy, err)
        raise
    record = stages.finished_record(started.header, training, scores, timings)
    stored = _commit(registry, started.folder, record, dataset, policy)
    warnings = [] if not policy.scores_test else registry.warnings_for_test_set(
        dataset.test_fingerprint, stages.test_set_name(spec, dataset)
    )
    return Run(record=stored, model=started.built.model, history=training.history, dataset=dataset,
               warnings=warnings)


def _start(
    spec: Spec, dataset: Dataset, backend: str, registry: Registry, policy: RunPolicy, trainer: Trainer,
    timings: dict[str, float],
) -> _Started:
    """Check the evaluation settings, build the model, open the run's folder and write its header."""
    clock = time.perf_counter()
    metric = stages.primary_metric_checked(spec, dataset)  # a bad setting fails before training
    built = trainer.build(spec, dataset)
    timings["build"] = time.perf_counter() - clock
    if policy.resume is None:
        run_id, created_at = registry.new_run_id(), utc_now()
        folder = registry.stage(run_id)
    else:
        run_id, created_at = policy.resume.run_id, policy.resume.created_at
        folder = artifacts.RunFolder.resume(registry.home, run_id)
    header = stages.run_header(spec, dataset, backend, run_id, created_at, built.parameters, policy)
    if policy.checkpoints:
        write_owner(folder, header)
    return _Started(folder, header, built, metric)


def _record_stop(registry: Registry, started: _Started, policy: RunPolicy, err: BaseException) -> None:
    """Record a run that stopped: interrupted (its folder kept, to resume), failed, or not at all."""
    if isinstance(err, KeyboardInterrupt) and policy.checkpoints:
        record = interrupted_record(
            started.header, started.folder.path(artifacts.CHECKPOINT_DIR), utc_now()
        )
        kept = started.folder.interrupt()
        _store_quietly(registry, record.replace(artifacts={"dir": str(kept), "files": []}),
                       replace=policy.resume is not None)
        return
    started.folder.discard()
    if isinstance(err, WorkflowError) and not isinstance(err, TrainingError):
        return  # A spec or data problem found while training: nothing to record.
    status = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
    failed = started.header.replace(status=status, finished_at=utc_now(), error=f"{type(err).__name__}: {err}")
    _store_quietly(registry, failed, replace=False)


def _store_quietly(registry: Registry, record: RunRecord, *, replace: bool) -> None:
    """Record a stopped run; the stop is what the user sees, a registry problem shows on the next command."""
    try:
        _store(registry, record, replace=replace, looked_at_test=False)
    except WorkflowError:
        pass


def _store(registry: Registry, record: RunRecord, *, replace: bool, looked_at_test: bool) -> RunRecord:
    store = registry.replace_interrupted if replace else registry.record
    return store(record, looked_at_test=looked_at_test, test_set_name=record.test_set.name or "")


def _commit(registry: Registry, folder: RunFolder, record: RunRecord, dataset: Dataset, policy: RunPolicy) -> RunRecord:
    """Write the model card, rename the staging folder into place and record the run (else remove the folder)."""
    try:
        stages.write_model_card(folder, record, dataset)
    except BaseException:
        folder.discard()
        raise
    run_dir = folder.commit()
    try:
        return _store(registry, stages.with_artifacts(record, run_dir), replace=policy.resume is not None,
                      looked_at_test=policy.scores_test)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
