"""One run, from a prepared dataset to a recorded result: the body of :func:`dlworkflow.api.run`.

Part of the API layer (it wires models, training, evaluation and the registry); kept apart
from ``api.py`` so that module stays a thin list of entry points. Nothing is half-written:
artifacts go to a staging folder that is renamed only once the run has finished, and a run
that fails while training is recorded as ``failed`` with its error and no artifacts.

Example:
    >>> result = execute(spec, dataset, "jax", registry, quiet=True)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import TrainingError, WorkflowError

if TYPE_CHECKING:
    from rich.console import Console

    from dlworkflow.api import Run
    from dlworkflow.data.dataset import Dataset, Part
    from dlworkflow.registry import Registry, RunFolder
    from dlworkflow.spec import Spec


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def test_set_name(spec: Spec, dataset: Dataset) -> str:
    """The test set's name in the results table: the spec's, else source + fingerprint.

    Args:
        spec: The run's spec.
        dataset: The prepared dataset.

    Returns:
        e.g. ``weather_3_years_v1`` or ``weather-1f3a9c02``.
    """
    return spec.evaluate.test_set or f"{dataset.name}-{dataset.test_fingerprint[:8]}"


@dataclass(frozen=True)
class TrialContext:
    """What makes a run a tuning trial: scored on validation only, never on the test set.

    Attributes:
        study: The study's name.
        number: The trial's number in the study (0-based, as Optuna counts).
        params: The spec paths the trial set, and their values.
        objective: What the trial is scored by: ``val_loss``, an evaluation metric
            (``rmse``), or another ``val_`` value Keras reports.
        callbacks: Keras callbacks for the trial's training (e.g. the pruning report).

    Example:
        >>> TrialContext("weather_tune", 3, {"model.layers[0].units": 50}, "val_loss")  # doctest: +SKIP
    """

    study: str
    number: int
    params: dict[str, Any]
    objective: str
    callbacks: tuple[Any, ...] = ()

    def objective_value(self, metrics: dict[str, dict[str, float]]) -> float | None:
        """The trial's score from the run's validation metrics (``val_loss`` → Keras' loss).

        Args:
            metrics: The run's ``{part: {metric: value}}``.

        Returns:
            The value, or None when the run has no validation score of that name.
        """
        validation = metrics.get("validation") or {}
        name = self.objective.removeprefix("val_")
        value = validation.get(name, validation.get(self.objective))
        return None if value is None else float(value)


@dataclass(frozen=True)
class ResumeState:
    """An interrupted run to go on with (``dlw resume``): its id, start time and last checkpoint.

    Attributes:
        run_id: The interrupted run's id (the finished run keeps it).
        created_at: When the run started.
        checkpoint: Its last epoch checkpoint (:class:`~dlworkflow.training.checkpoint.Checkpoint`).

    Example:
        >>> ResumeState(record["id"], record["created_at"], read_checkpoint(folder))  # doctest: +SKIP
    """

    run_id: str
    created_at: str
    checkpoint: Any


def execute(
    spec: Spec,
    dataset: Dataset,
    backend: str,
    registry: Registry,
    *,
    quiet: bool = True,
    console: Console | None = None,
    timings: dict[str, float] | None = None,
    trial: TrialContext | None = None,
    study: dict[str, Any] | None = None,
    resume: ResumeState | None = None,
) -> Run:
    """Build, train, evaluate, save and record one run.

    A tuning trial (``trial`` given) is scored on the training and validation parts only:
    the test set is not predicted, not looked at and not named in its record; its headline
    is the trial's objective on validation, and its record says which study and trial it is.

    Args:
        spec: The validated spec.
        dataset: The prepared, split dataset.
        backend: The active Keras backend.
        registry: An open registry.
        quiet: Hide the progress bar.
        console: Where the progress bar is drawn.
        timings: Seconds already spent per stage (e.g. data preparation).
        trial: Set for a tuning trial (see :class:`TrialContext`).
        study: For the final run of a study, its ``{name, trial, params, objective, role}``
            (kept in the record; the run is evaluated on test as any run).
        resume: Go on with an interrupted run from its last checkpoint; the run keeps its id
            and its record replaces the interrupted one.

    A run (not a tuning trial) writes a checkpoint after every epoch. When it is
    interrupted (Ctrl-C, or its process killed: see :func:`recover_killed_runs`) its folder
    and checkpoint are kept and it is recorded as ``interrupted``; ``dlw resume`` goes on.

    Returns:
        The finished run.

    Raises:
        SpecError: for a layer, loss, optimizer or metric Keras rejects (nothing recorded).
        TrainingError: when training fails (recorded as ``failed``).
    """
    from dlworkflow.api import Run
    from dlworkflow.evaluation import baselines_for, evaluate_baselines, primary_metric, skipped_baselines
    from dlworkflow.evaluation.classes import class_report
    from dlworkflow.evaluation.diagnosis import RunSettings, diagnose
    from dlworkflow.models import build_model, explain_parameters
    from dlworkflow.training import compile_model, fit_model, seed_everything

    timings = dict(timings or {})
    created_at = _now()
    started = time.perf_counter()
    primary = primary_metric(dataset.task, spec.evaluate, source=spec.source)
    baselines_for(dataset, spec.evaluate, source=spec.source)  # a bad persistence column fails before training
    seed_everything(spec.train.seed)
    model = build_model(spec, dataset)
    compile_model(model, spec, dataset)
    parameters = explain_parameters(model)
    timings["build"] = time.perf_counter() - started

    from dlworkflow.registry import artifacts

    if resume is None:
        run_id = registry.new_run_id()
        folder = registry.stage(run_id)
    else:
        run_id, created_at = resume.run_id, resume.created_at
        folder = artifacts.RunFolder.resume(registry.home, run_id)
    base = _base_record(spec, dataset, backend, run_id, created_at, parameters)
    scored = dataset
    if study is not None:
        base["study"] = dict(study)
    if trial is not None:
        scored = dataclasses.replace(dataset, parts={k: v for k, v in dataset.parts.items() if k != "test"})
        base["test_set"] = {"name": None, "fingerprint": None, "looks": None, "look": None}
        base["study"] = {"name": trial.study, "trial": trial.number, "params": dict(trial.params),
                         "objective": trial.objective, "role": "trial"}
        values = ", ".join(f"{path}={value!r}" for path, value in trial.params.items())
        base["description"] = f"trial {trial.number} of study {trial.study}: {values}"
    checkpoints = None if trial is not None else folder.path(artifacts.CHECKPOINT_DIR)
    if checkpoints is not None:
        _write_owner(folder, base)
    try:
        started = time.perf_counter()
        extra = list(trial.callbacks) if trial is not None else []
        if spec.train.tensorboard is not None:
            from dlworkflow.training.callbacks import tensorboard_callback

            extra.append(tensorboard_callback(spec.train.tensorboard, folder.path(artifacts.TENSORBOARD)))
        training = fit_model(
            model, spec, dataset, console=console, quiet=quiet, callbacks=extra, checkpoint_dir=checkpoints,
            resume_from=resume.checkpoint if resume is not None else None,
        )
        timings["train"] = time.perf_counter() - started

        started = time.perf_counter()
        metrics, predictions = _score_model(model, scored)
        baselines = evaluate_baselines(scored, spec.evaluate, source=spec.source)
        classes = class_report(scored, predictions)
        settings = RunSettings.from_spec(
            spec, images=dataset.image is not None, parameters=parameters.trainable,
            training_rows=dataset.sizes()["train"],
        )
        findings = diagnose(
            training.history, metric=primary, scores=metrics, baselines=baselines,
            evaluated_epoch=training.evaluated_epoch, settings=settings,
        )
        timings["evaluate"] = time.perf_counter() - started

        _save_artifacts(folder, model, spec, scored, training.history, predictions)
        _save_history_plot(folder, training)
        if trial is None:
            _save_class_plots(folder, dataset, predictions, classes, metrics)
            _save_regression_plots(folder, spec, dataset, predictions, _primary(primary, metrics, baselines))
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt) and checkpoints is not None:
            _record_interrupted(registry, folder, base, spec, dataset, replace=resume is not None)
            raise
        folder.discard()
        if isinstance(err, WorkflowError) and not isinstance(err, TrainingError):
            raise  # A spec or data problem found while training: nothing to record.
        status = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        failed = {**base, "status": status, "finished_at": _now(), "error": f"{type(err).__name__}: {err}"}
        _record_failure(registry, failed, spec, dataset)
        raise

    record = {
        **base,
        "status": "finished",
        "finished_at": _now(),
        "metrics": metrics,
        "baselines": baselines,
        "baselines_skipped": skipped_baselines(dataset, spec.evaluate, source=spec.source),
        "classes": classes,
        "diagnosis": [finding.to_dict() for finding in findings],
        "primary": _primary(primary, metrics, baselines) if trial is None else _trial_primary(trial, metrics),
        "training": {
            "epochs_run": training.epochs_run,
            "evaluated_epoch": training.evaluated_epoch,
            "best_epoch": training.best_epoch,
            "stopped_early": training.stopped_early,
            "stages": dict(training.stages),
            "trainable_parameters": dict(training.trainable_parameters),
            "steps_per_execution": training.steps_per_execution,
        },
        "timings": {**timings, "total": sum(timings.values())},
    }
    try:
        from dlworkflow.sharing.model_card import model_card

        if checkpoints is not None:  # a finished run needs neither its checkpoint nor its owner note
            import shutil

            shutil.rmtree(checkpoints, ignore_errors=True)
            folder.path(artifacts.OWNER).unlink(missing_ok=True)

        folder.path(artifacts.MODEL_CARD).write_text(model_card(record, dataset.preprocessing), encoding="utf-8")
    except BaseException:
        folder.discard()
        raise
    run_dir = folder.commit()
    record["artifacts"] = {"dir": str(run_dir), "files": sorted(p.name for p in run_dir.iterdir())}
    try:
        stored = _store(registry, record, spec, dataset, looked_at_test=trial is None, replace=resume is not None)
    except BaseException:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    warnings = [] if trial is not None else registry.warnings_for_test_set(
        dataset.test_fingerprint, test_set_name(spec, dataset)
    )
    return Run(record=stored, model=model, history=training.history, dataset=dataset, warnings=warnings)


def _base_record(spec: Spec, dataset: Dataset, backend: str, run_id: str, created_at: str, parameters: Any) -> dict:
    from dlworkflow.provenance import git_state, package_versions

    sizes = dataset.sizes()
    return {
        "id": run_id,
        "name": spec.name,
        "description": spec.description,
        "status": "running",
        "created_at": created_at,
        "finished_at": None,
        "spec": spec.resolved(),
        "spec_hash": spec.fingerprint(),
        "spec_file": spec.source,
        "data": {
            "name": dataset.name,
            "fingerprint": dataset.fingerprint,
            "task": dataset.task,
            "target": dataset.target,
            "features": list(dataset.feature_names),
            "class_names": list(dataset.class_names) if dataset.class_names else None,
        },
        "split": {"type": spec.split.type, "seed": spec.split.seed, **sizes},
        "test_set": {
            "name": test_set_name(spec, dataset),
            "fingerprint": dataset.test_fingerprint,
            "looks": None,
            "look": None,
        },
        "params": {
            "total": parameters.total,
            "trainable": parameters.trainable,
            "non_trainable": parameters.non_trainable,
            "layers": [
                {"name": layer.name, "type": layer.type, "output_shape": str(layer.output_shape),
                 "parameters": layer.total, "formula": layer.formula, "note": layer.note}
                for layer in parameters.layers
            ],
        },
        "metrics": {},
        "baselines": {},
        "primary": {},
        "training": {},
        "git": git_state(),
        "backend": backend,
        "versions": package_versions(),
        "seed": spec.train.seed,
        "timings": {},
        "artifacts": {"dir": None, "files": []},
        "comments": [],
        "error": None,
        "warnings": list(getattr(dataset, "warnings", ()) or ()),
    }


def _score_model(model: Any, dataset: Dataset) -> tuple[dict, dict]:
    """Keras' own loss/metrics plus the standard metrics, per part; and the predictions."""
    from dlworkflow.evaluation import score
    from dlworkflow.training import evaluate_model, predict

    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, np.ndarray] = {}
    for name, part in dataset.parts.items():
        predicted = predict(model, part, image=dataset.image)
        predictions[name] = predicted
        metrics[name] = {
            **evaluate_model(model, part, image=dataset.image),
            **score(dataset.task, part.labels, predicted, num_classes=dataset.output_units),
        }
    return metrics, predictions


def _trial_primary(trial: TrialContext, metrics: dict) -> dict[str, Any]:
    """A trial's headline: its objective on validation (no baseline: the objective may be Keras' loss)."""
    return {"metric": trial.objective, "value": trial.objective_value(metrics), "baseline": None,
            "baseline_value": None, "skill": None}


def _primary(metric: str, metrics: dict, baselines: dict) -> dict[str, Any]:
    from dlworkflow.evaluation import compare_to_baselines

    comparison = compare_to_baselines(metrics, baselines, metric).get("test", {})
    return {
        "metric": metric,
        "value": metrics["test"][metric],
        "baseline": comparison.get("baseline"),
        "baseline_value": comparison.get("baseline_value"),
        "skill": comparison.get("skill"),
    }


def _save_artifacts(folder: RunFolder, model: Any, spec: Spec, dataset: Dataset, history: Any, predictions: dict) -> None:
    import tomli_w

    from dlworkflow.registry import artifacts
    from dlworkflow.training import save_model

    save_model(model, str(folder.path(artifacts.MODEL)))
    folder.path(artifacts.PREPROCESSING).write_text(json.dumps(dataset.preprocessing, indent=2))
    folder.path(artifacts.SPEC).write_text(tomli_w.dumps(spec.resolved()))
    history.to_csv(folder.path(artifacts.HISTORY), index=False)
    for name, predicted in predictions.items():
        _predictions_frame(dataset, dataset.parts[name], predicted).to_csv(
            folder.path(artifacts.predictions_file(name)), index=False
        )


def _save_history_plot(folder: RunFolder, training: Any) -> None:
    """Training against validation curves per quantity, the best epoch and an early stop marked."""
    from dlworkflow.evaluation.training_plots import history_plot
    from dlworkflow.registry import artifacts

    history_plot(
        training.history, folder.path(artifacts.HISTORY_PLOT), best_epoch=training.best_epoch,
        evaluated_epoch=training.evaluated_epoch, stopped_early=training.stopped_early, stages=training.stages,
    )


def _save_regression_plots(folder: RunFolder, spec: Spec, dataset: Dataset, predictions: dict, primary: dict) -> None:
    """Predicted against true (training and test) and test residuals in time order, beside the best baseline."""
    if dataset.task != "regression":
        return
    from dlworkflow.evaluation import baselines_for
    from dlworkflow.evaluation.regression_plots import predicted_vs_true_plot, residuals_plot
    from dlworkflow.registry import artifacts

    chosen = [b for b in baselines_for(dataset, spec.evaluate, source=spec.source) if b.name == primary.get("baseline")]
    baseline = chosen[0].fit(dataset.train) if chosen else None
    parts = [name for name in ("train", "test") if name in predictions]
    predicted_vs_true_plot(
        {name: dataset.parts[name].labels for name in parts},
        {name: predictions[name] for name in parts},
        folder.path(artifacts.PREDICTED_VS_TRUE_PLOT),
        baseline_by_part={name: baseline.predict(dataset.parts[name]) for name in parts} if baseline else None,
        baseline_name=baseline.name if baseline else None,
        target_name=dataset.target,
    )
    test = dataset.test
    # Table rows keep their source row number, so residuals come out in time order whatever the split.
    residuals_plot(
        test.labels, predictions["test"], folder.path(artifacts.RESIDUALS_PLOT), order=test.frame.index.to_numpy(),
        baseline=baseline.predict(test) if baseline else None, baseline_name=baseline.name if baseline else None,
    )


def _save_class_plots(
    folder: RunFolder, dataset: Dataset, predictions: dict, classes: dict | None, metrics: dict
) -> None:
    """The test set's confusion matrix and accuracy per class, and for images a grid of test images."""
    if classes is None:
        return
    from dlworkflow.evaluation.plots import (
        class_accuracy_plot,
        confusion_matrix_plot,
        image_grid,
        test_images_for_grid,
    )
    from dlworkflow.registry import artifacts

    names = classes["names"]
    confusion_matrix_plot(
        classes["confusion"]["test"], names, folder.path(artifacts.CONFUSION_PLOT), title="confusion matrix (test set)"
    )
    class_accuracy_plot(
        classes["per_class_accuracy"]["test"], folder.path(artifacts.CLASS_ACCURACY_PLOT),
        overall_accuracy=(metrics.get("test") or {}).get("accuracy"),
    )
    if dataset.image is None:
        return
    images = test_images_for_grid(dataset, "test", count=20)
    predicted = np.argmax(predictions["test"][: len(images)], axis=1)
    true_names = [names[label] for label in dataset.test.labels[: len(images)]]
    image_grid(images, true_names, [names[index] for index in predicted], folder.path(artifacts.IMAGE_GRID))


def _predictions_frame(dataset: Dataset, part: Part, predicted: np.ndarray) -> Any:
    import pandas as pd

    frame = pd.DataFrame({"row": part.frame.index})
    if "file" in part.frame.columns:
        frame["file"] = part.frame["file"].to_numpy()
    if dataset.class_names is None:
        frame[dataset.target] = part.labels
        frame["prediction"] = predicted
        return frame
    names = np.asarray(dataset.class_names)
    frame[dataset.target] = names[part.labels]
    frame["prediction"] = names[np.argmax(predicted, axis=1)]
    for index, name in enumerate(dataset.class_names):
        frame[f"probability_{name}"] = predicted[:, index]
    return frame


def _store(
    registry: Registry, record: dict, spec: Spec, dataset: Dataset, *, looked_at_test: bool, replace: bool = False
) -> dict:
    from dlworkflow.registry import RunRecord

    store = registry.replace_interrupted if replace else registry.record
    stored = store(
        RunRecord.from_dict(record), looked_at_test=looked_at_test, test_set_name=test_set_name(spec, dataset)
    )
    return stored.to_dict()


def _write_owner(folder: RunFolder, base: dict) -> None:
    """Note in the staging folder which process writes it, and the run's record so far."""
    import os
    import socket

    from dlworkflow.registry import artifacts

    owner = {"host": socket.gethostname(), "pid": os.getpid(), "record": base}
    folder.path(artifacts.OWNER).write_text(json.dumps(owner, default=str))


def _interrupted_record(base: dict, checkpoint_folder: Any) -> dict:
    from dlworkflow.training.checkpoint_files import checkpoint_epoch

    epochs = checkpoint_epoch(checkpoint_folder) or 0
    total = (base.get("spec") or {}).get("train", {}).get("epochs")
    how = (f"after epoch {epochs} of {total}; `dlw resume {base['id']}` goes on from there" if epochs
           else "before its first epoch ended; start it again with dlw run")
    return {
        **base, "status": "interrupted", "finished_at": _now(), "error": f"interrupted {how}",
        "training": {**(base.get("training") or {}), "epochs_run": epochs},
    }


def _record_interrupted(
    registry: Registry, folder: RunFolder, base: dict, spec: Spec, dataset: Dataset, *, replace: bool
) -> None:
    """Keep the folder and its checkpoint, and record the run as interrupted (Ctrl-C)."""
    from dlworkflow.registry import artifacts

    record = _interrupted_record(base, folder.path(artifacts.CHECKPOINT_DIR))
    kept = folder.interrupt()
    record["artifacts"] = {"dir": str(kept), "files": []}
    try:
        _store(registry, record, spec, dataset, looked_at_test=False, replace=replace)
    except WorkflowError:
        pass  # The interruption is what the user sees; the registry's own problem shows on the next command.


def recover_killed_runs(registry: Registry) -> list[str]:
    """Record as interrupted the runs whose process was killed (SIGKILL, power loss) mid-training.

    A run writes, in its staging folder, which process (host and pid) writes it. A staging
    folder on this host whose process is gone is kept as the run's interrupted folder, with
    its last checkpoint, and the run is recorded as ``interrupted`` so ``dlw resume`` can go
    on. Folders of other hosts are left alone (their processes cannot be checked from here).

    Args:
        registry: An open registry.

    Returns:
        The ids of the runs now recorded as interrupted.

    Example:
        >>> recover_killed_runs(registry)  # doctest: +SKIP
        ['20261123-231502-4be1c9']
    """
    from dlworkflow.registry import RunRecord, artifacts

    recovered = []
    for owner_file in artifacts.runs_dir(registry.home).glob(f"{artifacts.STAGING_PREFIX}*/{artifacts.OWNER}"):
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if not _process_gone(owner):
            continue
        base = owner["record"]
        folder = artifacts.RunFolder.adopt(registry.home, base["id"])
        record = _interrupted_record(base, owner_file.parent / artifacts.CHECKPOINT_DIR)
        record["artifacts"] = {"dir": str(folder.interrupt()), "files": []}
        try:
            registry.record(RunRecord.from_dict(record), looked_at_test=False,
                            test_set_name=(base.get("test_set") or {}).get("name") or "")
        except WorkflowError:
            continue  # recorded by another process meanwhile, or the registry is unreachable
        recovered.append(base["id"])
    return recovered


def _process_gone(owner: dict) -> bool:
    import os
    import socket

    if owner.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, KeyError, ValueError, TypeError):
        return False
    return False


def _record_failure(registry: Registry, record: dict, spec: Spec, dataset: Dataset) -> None:
    try:
        _store(registry, record, spec, dataset, looked_at_test=False)
    except WorkflowError:
        pass  # The training error is the one to report; the registry's own problem shows on the next command.
