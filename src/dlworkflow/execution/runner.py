"""One run, from a prepared dataset to a recorded result: the stages in order, and what happens on failure.

Nothing is half-written: artifacts go to a staging folder that is renamed only once the run
has finished; a run that fails while training is recorded as ``failed`` with its error and
no artifacts; a run interrupted by Ctrl-C keeps its folder and checkpoint and is recorded as
``interrupted`` (``dlw resume`` goes on). A full disk or a read-only folder while training or
saving is one RegistryError, the staging folder removed. A trained model is never lost: the
registry write is tried again on the schedule :data:`RECORD_RETRY_DELAYS`, and when it still
fails the run's folder stays, noted as not yet recorded (``dlw recover`` records it). What
differs between a plain run, a trial, a resumed run and a study's final run is the
:class:`~dlworkflow.execution.policy.RunPolicy`.

Example:
    >>> result = execute(spec, dataset, "jax", registry, RunPolicy.plain())  # doctest: +SKIP
    >>> result.record.status  # doctest: +SKIP
    'finished'
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dlworkflow.errors import RegistryError, TrainingError, WorkflowError
from dlworkflow.execution import stages
from dlworkflow.execution.policy import RunPolicy
from dlworkflow.execution.result import Run
from dlworkflow.registry import artifacts
from dlworkflow.registry.jobs import JobRecord
from dlworkflow.registry.record import utc_now
from dlworkflow.registry.recovery import Heartbeat, interrupted_record, write_owner
from dlworkflow.registry.unrecorded import forget_unrecorded, give_up, note_unrecorded
from dlworkflow.stage_clock import StageClock

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.execution.trainer import BuiltModel, Trainer
    from dlworkflow.registry import Registry, RunFolder
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.spec import Spec
    from dlworkflow.training.trainer import TrainingResult


RECORD_RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0)
"""Seconds to wait before each further try to record a finished run whose registry write failed (a lock
held longer than SQLite's busy timeout, a full disk, a server away): five tries, each waiting up to the
busy timeout, about three minutes in all. Then the run's folder is kept, noted as not yet recorded."""

STORAGE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                  errno.EPERM: "permission denied"}
"""Why a run's files cannot be written: the errors that become one RegistryError (what to do: free
space, or make the registry home writable), not a failed training."""


INTERRUPTIONS = (KeyboardInterrupt, SystemExit)
"""What stops a run as ``interrupted`` (its folder and checkpoint kept, to go on): Ctrl-C, and the exit
of a SLURM job at its time limit or preemption (submitit's signal handler requeues the job and exits)."""


@dataclass(frozen=True)
class _Started:
    """A run past its build stage: its folder, its header record, the built model and its heartbeat."""

    folder: RunFolder
    header: RunRecord
    built: BuiltModel
    metric: str
    heartbeat: Heartbeat | None
    job: str | None = None


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
    timings: Mapping[str, float] | None = None,
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
        timings: Seconds already spent per stage (:attr:`PreparedData.timings
            <dlworkflow.execution.preparation.PreparedData.timings>`); the run's own stages are added
            (``build``, ``record``, ``train``, ``evaluate``, ``baselines``, ``write``, ``plots``) and the
            record keeps them all with their ``total``.

    Returns:
        The finished run.

    Raises:
        SpecError: for a layer, loss, optimizer or metric Keras rejects (nothing recorded).
        TrainingError: when training fails (recorded as ``failed``).
        RegistryError: when the run's files cannot be written (a full disk: recorded ``failed``), or the
            finished run cannot be recorded after :data:`RECORD_RETRY_DELAYS` (kept for ``dlw recover``).
    """
    from dlworkflow.execution.trainer import KerasTrainer

    policy = policy or RunPolicy.plain()
    trainer = trainer or KerasTrainer()
    clock = StageClock(timings)
    with clock.active():
        started = _start(spec, dataset, backend, registry, policy, trainer, clock)
        try:
            training, scores, missing = _train_score_save(spec, dataset, policy, trainer, started, clock,
                                                          console=console, quiet=quiet)
        except BaseException as err:
            _stop(registry, started, policy, err)
            raise
        finally:
            if started.heartbeat is not None:
                started.heartbeat.stop()
    record = stages.finished_record(started.header, training, scores, clock.seconds, missing)
    stored = _commit(registry, started.folder, record, dataset, policy, started.job)
    warnings = [] if not policy.scores_test else registry.warnings_for_test_set(
        dataset.test_fingerprint, stages.test_set_name(spec, dataset))
    return Run(record=stored, model=started.built.model, history=training.history, dataset=dataset,
               warnings=[*warnings, *stored.warnings[len(getattr(dataset, 'warnings', ()) or ()):]])


def _train_score_save(
    spec: Spec, dataset: Dataset, policy: RunPolicy, trainer: Trainer, started: _Started, clock: StageClock,
    *, console: Console | None, quiet: bool,
) -> tuple[TrainingResult, stages.Scores, list[str]]:
    """The train, score and save stages, each timed on the run's clock."""
    with clock.measure("train"):
        training = stages.train(started.built, spec, dataset, policy, started.folder, trainer,
                                console=console, quiet=quiet)
    with clock.measure("evaluate"):  # its baselines counted apart
        scores = stages.score(started.built, spec, dataset, policy, training, trainer, started.metric)
    with clock.measure("write"):  # its plots counted apart
        missing = stages.save(started.folder, started.built.model, spec, dataset, training, scores, policy, trainer)
    return training, scores, missing


def _start(
    spec: Spec, dataset: Dataset, backend: str, registry: Registry, policy: RunPolicy, trainer: Trainer,
    clock: StageClock,
) -> _Started:
    """Check the evaluation settings, build the model, open the run's folder and write its header."""
    with clock.measure("build"):
        metric = stages.primary_metric_checked(spec, dataset)  # a bad setting fails before training
        built = trainer.build(spec, dataset)
    with clock.measure("record"):  # the header: versions, git state, devices, the run's folder
        if policy.resume is None:
            run_id, created_at = registry.new_run_id(), utc_now()
            folder = registry.stage(run_id)
        else:
            run_id, created_at = policy.resume.run_id, policy.resume.created_at
            folder = artifacts.RunFolder.resume(registry.home, run_id)
        header = stages.run_header(spec, dataset, backend, run_id, created_at, built.parameters, policy)
    heartbeat = None
    if policy.checkpoints:
        try:
            write_owner(folder, header)
        except OSError as err:
            folder.discard()
            stop = _storage_error(err, folder)
            if stop is None:
                raise
            raise stop from err
        job = _start_job(registry, policy, header)
        beat = None if job is None else partial(registry.jobs.beat, job)
        heartbeat = Heartbeat(folder.path(artifacts.OWNER), beat=beat).start()
        return _Started(folder, header, built, metric, heartbeat, job)
    return _Started(folder, header, built, metric, heartbeat)


def _start_job(registry: Registry, policy: RunPolicy, header: RunRecord) -> str | None:
    """Note the run's job as running, with its run id and host: the executor's job, else ``local-<run id>``.

    Returns None when the registry cannot take it now (the run goes on; its owner note still beats).
    """
    job = policy.job or f"local-{header.id}"
    try:
        if policy.job is None:
            registry.jobs.submit(JobRecord.new(job, "local", "run", header.name, spec_file=header.spec_file or None))
        registry.jobs.start(job, run_id=header.id, host=socket.gethostname(), name=header.name)
    except WorkflowError:
        return None
    return job


def _end_job(registry: Registry, job: str | None, state: str) -> None:
    """Note how the run's job ended (a registry away: its heartbeat stops, and recovery says so)."""
    if job is None:
        return
    try:
        registry.jobs.end(job, state)
    except WorkflowError:
        pass


def _storage_error(err: BaseException, folder: RunFolder) -> RegistryError | None:
    """A full disk or a read-only folder while writing the run's files, as one RegistryError; else None."""
    if not isinstance(err, OSError) or err.errno not in STORAGE_ERRORS:
        return None
    where = str(err.filename or folder.directory)
    if err.errno in (errno.EACCES, errno.EPERM) and not where.startswith(str(folder.root)):
        return None  # a file the run reads (data, images), not one it writes
    fix = ("Free space on that disk" if err.errno in (errno.ENOSPC, errno.EDQUOT)
           else "Make the registry home writable (or choose another with --registry / DLW_REGISTRY)")
    return RegistryError.single(
        where, "", f"cannot write the run's files: {STORAGE_ERRORS[err.errno]} ({err.strerror or err}); "
        "nothing of this run was kept", hint=f"{fix}, then start the run again.",
    )


def _stop(registry: Registry, started: _Started, policy: RunPolicy, err: BaseException) -> None:
    """Record a run that stopped; a full disk or a read-only folder is raised as one RegistryError."""
    stop = _storage_error(err, started.folder)
    _record_stop(registry, started, policy, stop or err)
    _end_job(registry, started.job, "interrupted" if isinstance(err, INTERRUPTIONS) else "failed")
    if stop is not None:
        raise stop from err


def _record_stop(registry: Registry, started: _Started, policy: RunPolicy, err: BaseException) -> None:
    """Record a run that stopped: interrupted (its folder kept, to resume), failed, or not at all."""
    if isinstance(err, INTERRUPTIONS) and policy.checkpoints:
        record = interrupted_record(
            started.header, started.folder.path(artifacts.CHECKPOINT_DIR), utc_now()
        )
        kept = started.folder.interrupt()
        _store_quietly(registry, record.replace(artifacts={"dir": str(kept), "files": []}),
                       replace=policy.resume is not None)
        return
    started.folder.discard()
    if isinstance(err, WorkflowError) and not isinstance(err, (TrainingError, RegistryError)):
        return  # A spec or data problem found while training: nothing to record.
    status = "interrupted" if isinstance(err, INTERRUPTIONS) else "failed"
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


def _commit(registry: Registry, folder: RunFolder, record: RunRecord, dataset: Dataset, policy: RunPolicy,
            job: str | None = None) -> RunRecord:
    """Seal the run's folder (model card, ``run.json``), move it into place and record the run.

    A note beside the folder says the run is not yet recorded until the registry holds it;
    when every try of :data:`RECORD_RETRY_DELAYS` fails, the folder and the note stay.
    """
    try:
        record = stages.seal(folder, record, dataset)
        noted = note_unrecorded(registry.home, record)
        run_dir = folder.commit()
    except BaseException as err:
        folder.discard()
        artifacts.unrecorded_file(registry.home, record.id).unlink(missing_ok=True)
        stop = _storage_error(err, folder)
        if stop is not None:
            raise stop from err
        raise
    for leftover in (artifacts.CHECKPOINT_DIR, artifacts.OWNER):
        artifacts.remove_tree(run_dir / leftover)  # only an unfinished run needs them
    try:
        stored = _store_with_retries(registry, record, policy)
    except RegistryError as err:
        kept = give_up(registry.home, record, str(err)) or noted
        raise _kept_error(registry, record, run_dir, kept, err) from err
    forget_unrecorded(registry.home, stored)
    _end_job(registry, job, "finished")
    return stored


def _store_with_retries(registry: Registry, record: RunRecord, policy: RunPolicy) -> RunRecord:
    """Record a finished run, trying again after each delay of :data:`RECORD_RETRY_DELAYS`."""
    replace = policy.resume is not None
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            return _store(registry, record, replace=replace, looked_at_test=policy.scores_test)
        except RegistryError:
            if _already_recorded(registry, record):
                return registry.get(record.id)  # another process (dlw recover) recorded it meanwhile
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _already_recorded(registry: Registry, record: RunRecord) -> bool:
    try:
        return registry.statuses().get(record.id) == record.status
    except WorkflowError:
        return False


def _kept_error(registry: Registry, record: RunRecord, run_dir: Path, note: Path | None,
                err: RegistryError) -> RegistryError:
    """The error of a finished run the registry cannot hold: where the run is kept, and how to record it later."""
    kept = f"its record in {str(note)!r}" if note is not None else "no record beside it (the disk is full)"
    tries = len(RECORD_RETRY_DELAYS) + 1
    why = "; ".join(problem.what.removeprefix("cannot be recorded (").removesuffix(")") for problem in err.problems)
    return RegistryError.single(
        f"registry {registry.url}", f"run {record.id}",
        f"the run finished but cannot be recorded after {tries} tries ({why}); nothing is lost: its model and "
        f"files are kept in {str(run_dir)!r}, {kept}",
        hint="Once the registry can be written again, run `dlw recover` to record it; `dlw runs` lists it "
        "meanwhile as not yet recorded.",
    )
