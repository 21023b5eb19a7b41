"""The stages of one run after the data is prepared: build → train → score → save → record.

Each stage is a function of typed inputs and outputs; :func:`dlworkflow.execution.runner.execute`
calls them in order, and so can a cluster job, a resumed run or a live dashboard. What
differs between a plain run, a tuning trial, a resumed run and a study's final run comes in
as a :class:`~dlworkflow.execution.policy.RunPolicy`; the framework work goes through a
:class:`~dlworkflow.execution.trainer.Trainer`.

Example:
    >>> header = run_header(spec, dataset, "jax", "20261207-130826-e616b5", "2026-12-07T13:08:26+00:00",
    ...                     built.parameters, RunPolicy.plain())  # doctest: +SKIP
    >>> header.status, header.split.train  # doctest: +SKIP
    ('running', 767)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.execution.policy import RunPolicy
from dlworkflow.registry.record import RunRecord, utc_now
from dlworkflow.registry.record_sections import (
    ArtifactList,
    DataSection,
    Headline,
    LayerParameters,
    ParameterSection,
    RecordedFinding,
    SplitSection,
    TestSetLook,
    TrainingSummary,
)
from dlworkflow.stage_clock import stage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from dlworkflow.data.dataset import Dataset, Part
    from dlworkflow.execution.trainer import BuiltModel, Trainer
    from dlworkflow.models.parameters import ParameterReport
    from dlworkflow.registry import RunFolder
    from dlworkflow.spec import Spec
    from dlworkflow.training.trainer import TrainingResult


def test_set_name(spec: Spec, dataset: Dataset) -> str:
    """The test set's name in the results table: the spec's, else source + fingerprint.

    Args:
        spec: The run's spec.
        dataset: The prepared dataset.

    Returns:
        e.g. ``weather_3_years_v1`` or ``weather-1f3a9c02``.

    Example:
        >>> test_set_name(spec, dataset)  # doctest: +SKIP
        'weather-1f3a9c02'
    """
    return spec.evaluate.test_set or f"{dataset.name}-{dataset.test_fingerprint[:8]}"


test_set_name.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


@dataclass(frozen=True)
class Scores:
    """The outcome of the score stage.

    Attributes:
        metrics: ``{part: {metric: value}}``: Keras' loss and metrics plus the standard ones.
        predictions: ``{part: predictions}`` of the scored parts.
        baselines: ``{baseline: {part: {metric: value}}}``.
        baselines_skipped: ``{baseline: reason}`` for the task's baselines that could not run.
        classes: The per-class report (classification), else None.
        findings: The diagnosis.
        headline: The run's headline (see :meth:`RunPolicy.objective_headline` for a trial's).
    """

    metrics: dict[str, dict[str, float]]
    predictions: dict[str, np.ndarray]
    baselines: dict[str, Any]
    baselines_skipped: dict[str, str]
    classes: dict[str, Any] | None
    findings: list[Any]
    headline: Headline


def primary_metric_checked(spec: Spec, dataset: Dataset) -> str:
    """The headline metric, with the baselines and class weights checked: a bad setting fails before training.

    Args:
        spec: The run's spec.
        dataset: The prepared dataset.

    Returns:
        The primary metric's name (``rmse``, ``accuracy``, ...).

    Raises:
        SpecError: for a metric that does not fit the task, a persistence column that is not there, or a
            ``train.class_weight`` class the data lacks.
    """
    from dlworkflow.evaluation import baselines_for, primary_metric
    from dlworkflow.training.class_weights import class_weights

    metric = primary_metric(dataset.task, spec.evaluate, source=spec.source)
    baselines_for(dataset, spec.evaluate, source=spec.source)
    class_weights(spec, dataset)  # a class the data lacks fails here, not after the model is built
    return metric


def _window_keys(dataset: Dataset) -> dict[str, Any]:
    """The split record's window keys: size, stride and the time-order check (none without a window)."""
    windowed = getattr(dataset, "window", None)
    if windowed is None:
        return {}
    return {"window": windowed.windows.size, "window_stride": windowed.windows.stride,
            "time_ordered": windowed.time_ordered}


def run_header(
    spec: Spec, dataset: Dataset, backend: str, run_id: str, created_at: str, parameters: ParameterReport,
    policy: RunPolicy,
) -> RunRecord:
    """The record of a run that has started: who, what data, which split and model, where from.

    Args:
        spec: The run's spec.
        dataset: The prepared dataset.
        backend: The active Keras backend.
        run_id: The run's id.
        created_at: When it started.
        parameters: The built model's parameter report.
        policy: How the run is carried out (a trial names no test set).

    Returns:
        The record with status ``running`` and nothing scored.
    """
    from dlworkflow.models.base import base_warning
    from dlworkflow.provenance import package_versions, spec_git_state
    from dlworkflow.training.backend import choose_backend
    from dlworkflow.training.devices import visible_devices

    looked = policy.scores_test
    return RunRecord(
        id=run_id, name=spec.name, description=policy.description or spec.description, status="running",
        created_at=created_at, spec=spec.resolved(), spec_hash=spec.fingerprint(), spec_file=spec.source,
        data=DataSection(
            name=dataset.name, fingerprint=dataset.fingerprint, task=dataset.task, target=dataset.target,
            features=list(dataset.feature_names),
            class_names=list(dataset.class_names) if dataset.class_names else None,
        ),
        split=SplitSection(type=spec.split.type, seed=spec.split.seed, **dataset.sizes(), **_window_keys(dataset)),
        test_set=TestSetLook(
            name=test_set_name(spec, dataset) if looked else None,
            fingerprint=dataset.test_fingerprint if looked else None,
        ),
        params=parameter_section(parameters),
        metrics={}, git=spec_git_state(spec.source), backend=backend, backend_requested=choose_backend(spec),
        versions=package_versions(), seed=spec.train.seed, devices=[dataclasses.asdict(d) for d in visible_devices(backend)],
        study=policy.study, warnings=[*(getattr(dataset, "warnings", ()) or ()), *filter(None, [base_warning(spec)])],
    )


def parameter_section(parameters: ParameterReport) -> ParameterSection:
    """The record's ``params`` section from a parameter report.

    Args:
        parameters: :func:`~dlworkflow.models.explain_parameters`' report.

    Returns:
        The section: totals and one entry per layer with its formula.
    """
    return ParameterSection(
        total=parameters.total, trainable=parameters.trainable, non_trainable=parameters.non_trainable,
        layers=[
            LayerParameters(name=layer.name, type=layer.type, output_shape=str(layer.output_shape),
                            parameters=layer.total, formula=layer.formula, note=layer.note)
            for layer in parameters.layers
        ],
    )


def train(
    built: BuiltModel, spec: Spec, dataset: Dataset, policy: RunPolicy, folder: RunFolder, trainer: Trainer,
    *, console: Console | None = None, quiet: bool = True,
) -> TrainingResult:
    """The train stage: fit the model, with checkpoints and TensorBoard logs as the policy and spec ask.

    Args:
        built: The built model.
        spec: The run's spec.
        dataset: The prepared dataset.
        policy: Checkpoints, extra callbacks and the checkpoint to resume from.
        folder: The run's staging folder (checkpoints and logs go there).
        trainer: The framework.
        console: Where the progress bar is drawn.
        quiet: Hide the progress bar.

    Returns:
        What training did.
    """
    from dlworkflow.registry import artifacts

    callbacks = list(policy.callbacks)
    if spec.train.tensorboard is not None:
        callbacks.append(trainer.tensorboard_callback(spec.train.tensorboard, folder.path(artifacts.TENSORBOARD)))
    training = trainer.fit(
        built.model, spec, dataset, callbacks=callbacks,
        checkpoint_dir=folder.path(artifacts.CHECKPOINT_DIR) if policy.checkpoints else None,
        resume_from=policy.resume.checkpoint if policy.resume is not None else None,
        console=console, quiet=quiet,
    )
    target = dataset.preprocessing.target_scaling
    if target.is_identity:
        return training
    from dlworkflow.training.losses import resolve_loss

    # Keras saw the standardized target; the curves, history.csv and diagnosis read the target's units.
    return dataclasses.replace(training, history=target.history_in_units(training.history, resolve_loss(spec, dataset)))


def scored_parts(dataset: Dataset, policy: RunPolicy) -> Dataset:
    """The dataset with only the parts the policy scores (a trial's has no test part).

    Example:
        >>> sorted(scored_parts(dataset, RunPolicy(scores_test=False)).parts)  # doctest: +SKIP
        ['train', 'validation']
    """
    return dataclasses.replace(dataset, parts={k: v for k, v in dataset.parts.items() if k in policy.parts})


def score(
    built: BuiltModel, spec: Spec, dataset: Dataset, policy: RunPolicy, training: TrainingResult,
    trainer: Trainer, metric: str,
) -> Scores:
    """The score stage: predict and score the policy's parts beside the baselines, diagnose, choose the headline.

    Args:
        built: The model, trained, and its parameter report (the trainable count feeds the diagnosis).
        spec: The run's spec.
        dataset: The prepared dataset (all parts; the policy says which are scored).
        policy: Which parts, and how the headline is chosen.
        training: What training did (history, evaluated epoch).
        trainer: The framework.
        metric: The primary metric (:func:`primary_metric_checked`).

    Returns:
        Metrics, predictions, baselines, class report, diagnosis and headline.
    """
    from dlworkflow.evaluation import evaluate_baselines, skipped_baselines
    from dlworkflow.evaluation import score as standard_scores
    from dlworkflow.evaluation.classes import class_report
    from dlworkflow.evaluation.diagnosis import DataScales, RunSettings, diagnose
    from dlworkflow.training.losses import resolve_loss

    scored = scored_parts(dataset, policy)
    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, np.ndarray] = {}
    target = dataset.preprocessing.target_scaling  # the network's outputs back into the target's units
    loss = "" if target.is_identity else resolve_loss(spec, dataset)
    for name, part in scored.parts.items():
        predicted, keras_values = trainer.predict_and_evaluate(built.model, part, dataset.image)
        predictions[name] = target.inverse(predicted)
        metrics[name] = {
            **target.keras_values(keras_values, loss),
            **standard_scores(dataset.task, part.labels, predictions[name], num_classes=dataset.output_units),
        }
    with stage("baselines"):
        baselines = evaluate_baselines(scored, spec.evaluate, source=spec.source)
    settings = RunSettings.from_spec(
        spec, images=dataset.image is not None, parameters=built.parameters.trainable,
        training_rows=dataset.sizes()["train"],
    )
    findings = diagnose(
        training.history, metric=metric, scores=metrics, baselines=baselines,
        evaluated_epoch=training.evaluated_epoch, settings=settings,
        scales=DataScales.from_dataset(dataset, feature_scaling=spec.data.scaling),
    )
    headline = (policy.objective_headline(metrics) if policy.headline_objective is not None
                else test_headline(metric, metrics, baselines))
    return Scores(
        metrics, predictions, baselines, skipped_baselines(dataset, spec.evaluate, source=spec.source),
        class_report(scored, predictions), findings, headline,
    )


def test_headline(metric: str, metrics: dict[str, dict[str, float]], baselines: dict[str, Any]) -> Headline:
    """A run's headline: the metric on test beside the best baseline (chosen on validation), with the skill.

    Example:
        >>> test_headline("rmse", {"validation": {"rmse": 2.0}, "test": {"rmse": 3.0}},
        ...               {"mean": {"validation": {"rmse": 4.0}, "test": {"rmse": 6.0}}}).skill
        0.5
    """
    from dlworkflow.evaluation import compare_to_baselines

    comparison = compare_to_baselines(metrics, baselines, metric).get("test", {})
    return Headline(
        metric=metric, value=metrics["test"][metric], baseline=comparison.get("baseline"),
        baseline_value=comparison.get("baseline_value"), skill=comparison.get("skill"),
    )


test_headline.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def finished_record(
    header: RunRecord, training: TrainingResult, scores: Scores, timings: dict[str, float], missing: Sequence[str] = (),
) -> RunRecord:
    """The record stage: the header completed with what training and scoring found.

    Args:
        header: The run's record so far (:func:`run_header`).
        training: What training did.
        scores: What scoring found.
        timings: Seconds per stage.
        missing: What the save stage could not write (plots on a full disk: :func:`save`), a warning each.

    Returns:
        The record with status ``finished`` (artifacts are added when the folder is sealed).
    """
    return header.replace(
        warnings=[*header.warnings, *missing],
        status="finished", finished_at=utc_now(), metrics=scores.metrics, baselines=scores.baselines,
        baselines_skipped=scores.baselines_skipped, classes=scores.classes,
        diagnosis=[RecordedFinding.from_dict(finding.to_dict()) for finding in scores.findings],
        primary=scores.headline,
        training=TrainingSummary(
            epochs_run=training.epochs_run, evaluated_epoch=training.evaluated_epoch,
            best_epoch=training.best_epoch, stopped_early=training.stopped_early, stages=dict(training.stages),
            trainable_parameters=dict(training.trainable_parameters),
            steps_per_execution=training.steps_per_execution,
            trained_on_logits=training.trained_on_logits or None,
            class_weight=training.class_weight,
            distribution=training.distribution.to_dict() if training.distribution is not None else None,
            fused_epoch=training.fused_epoch,
        ),
        timings={**timings, "total": sum(timings.values())},
    )


def save(
    folder: RunFolder, model: Any, spec: Spec, dataset: Dataset, training: TrainingResult, scores: Scores,
    policy: RunPolicy, trainer: Trainer,
) -> list[str]:
    """The save stage: model, preprocessing, spec, history, predictions and plots into the run folder.

    The plots are drawn from what is saved, so a plot that cannot be written (a full disk) is
    left out, not the run: ``dlw report`` draws it later.

    Args:
        folder: The run's staging folder.
        model: The trained model.
        spec: The run's spec.
        dataset: The prepared dataset.
        training: What training did.
        scores: What scoring found.
        policy: A trial draws no test-set plots.
        trainer: The framework (saves the model).

    Returns:
        A warning for the plots that could not be written (none when all were).

    Raises:
        OSError: when the model or its data files cannot be written (the runner reports it).
    """
    import tomli_w

    from dlworkflow.registry import artifacts

    trainer.save(model, folder.path(artifacts.MODEL))
    folder.path(artifacts.PREPROCESSING).write_text(json.dumps(dataset.preprocessing.to_dict(), indent=2))
    folder.path(artifacts.SPEC).write_text(tomli_w.dumps(spec.resolved()))
    training.history.to_csv(folder.path(artifacts.HISTORY), index=False)
    for name, predicted in scores.predictions.items():
        predictions_frame(dataset, dataset.parts[name], predicted).to_csv(
            folder.path(artifacts.predictions_file(name)), index=False
        )
    with stage("plots"):  # matplotlib's import counted with the drawing
        from dlworkflow.evaluation.training_plots import history_plot
        from dlworkflow.execution.run_plots import (
            PlotWriter,
            save_class_plots,
            save_regression_plots,
        )

        plots = PlotWriter(folder)
        with plots.drawing(artifacts.HISTORY_PLOT) as path:
            history_plot(
                training.history, path, best_epoch=training.best_epoch, evaluated_epoch=training.evaluated_epoch,
                stopped_early=training.stopped_early, stages=training.stages,
            )
        if policy.scores_test:
            save_class_plots(plots, dataset, scores.predictions, scores.classes, scores.metrics)
            save_regression_plots(plots, spec, dataset, scores.predictions, scores.headline)
    return plots.warnings()


def predictions_frame(dataset: Dataset, part: Part, predicted: np.ndarray) -> Any:
    """One part's predictions as the run folder keeps them: row, target, prediction (and class probabilities).

    Args:
        dataset: The prepared dataset.
        part: The part.
        predicted: Its predictions.

    Returns:
        A DataFrame: ``row`` (the source row), ``file`` for images from a folder, the target,
        ``prediction`` and for classes ``probability_<class>``.
    """
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


def seal(folder: RunFolder, record: RunRecord, dataset: Dataset) -> RunRecord:
    """The last writes into a finished run's folder: its model card, then its record as ``run.json``.

    The record lists the folder's files (its checkpoint and owner note aside: they go when the
    folder is in place) and names the folder it will have. A full disk leaves the model card
    out (a warning in the record); ``dlw export`` writes one into the bundle all the same.

    Args:
        folder: The run's staging folder.
        record: The finished record.
        dataset: The prepared dataset (its preprocessing goes into the card).

    Returns:
        The record with its artifacts.

    Example:
        >>> seal(folder, record, dataset).artifacts.files  # doctest: +SKIP
        ['history.csv', 'model.keras', 'model_card.md', 'run.json', ...]
    """
    from dlworkflow.execution.run_plots import without_partial_file
    from dlworkflow.registry import artifacts
    from dlworkflow.sharing.model_card import model_card

    card = folder.path(artifacts.MODEL_CARD)
    try:
        with without_partial_file(card):
            card.write_text(model_card(record, dataset.preprocessing), encoding="utf-8")
    except OSError as err:
        record = record.replace(warnings=[*record.warnings, f"model card not written ({err.strerror or err})"])
    leftovers = {artifacts.CHECKPOINT_DIR, artifacts.OWNER, artifacts.RECORD}
    files = sorted({path.name for path in folder.directory.iterdir() if path.name not in leftovers} | {artifacts.RECORD})
    record = record.replace(artifacts=ArtifactList(dir=str(folder.destination), files=files))
    try:
        with without_partial_file(folder.path(artifacts.RECORD)) as path:
            path.write_text(record.to_json(), encoding="utf-8")
    except OSError:
        pass  # the registry holds the record; only a lost registry needs this copy
    return record
