"""Compile and fit, as the lesson does it, with spec-aware errors (evaluate and predict: :mod:`~dlworkflow.training.prediction`).

``compile_model`` turns ``[train]`` into an optimizer, a loss and metrics (``loss =
"auto"`` picks mean squared error or the cross-entropy that matches the target's
encoding; a loss with arguments such as ``from_logits`` becomes its Keras class, see
:mod:`dlworkflow.training.losses`); ``fit_model`` runs ``model.fit`` with the spec's
settings, the callbacks of :mod:`dlworkflow.training.callbacks` and a progress bar, and
returns a :class:`TrainingResult`. With ``[train.fine_tune]`` it trains in two stages: the
frozen pretrained base first, then the unfrozen base at a small learning rate. Streamed
parts (image files read batch by batch, :mod:`dlworkflow.training.streams`) are accepted
wherever a part is. Mistakes in the spec are reported as
:class:`~dlworkflow.errors.SpecError` at their spec path; a run whose loss becomes NaN
ends with a :class:`~dlworkflow.errors.TrainingError` naming likely causes.

Keras is imported inside the functions, so importing this module does not fix the backend.

Example:
    >>> seed_everything(spec.train.seed)  # doctest: +SKIP
    >>> model = compile_model(build_model(spec, dataset), spec, dataset)  # doctest: +SKIP
    >>> result = fit_model(model, spec, dataset)  # doctest: +SKIP
    >>> result.epochs_run, evaluate_model(model, dataset.test)  # doctest: +SKIP
    (200, {'loss': 10.3, 'root_mean_squared_error': 3.2})
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dlworkflow.errors import Problem, SpecError, TrainingError, WorkflowError, suggestion
from dlworkflow.models.arguments import argument_error, keras_message
from dlworkflow.spec.keras_names import OPTIMIZER_TYPES
from dlworkflow.training.fit_problems import nan_error, raise_for_stopping_problems
from dlworkflow.training.fused_epoch import one_batch_per_call, use_fused_epoch
from dlworkflow.training.keras_compat import is_compiled, registered_metric_names, steps_per_execution_of
from dlworkflow.training.losses import make_loss

if TYPE_CHECKING:
    import keras
    from rich.console import Console

    from dlworkflow.training.checkpoint import Checkpoint
    from dlworkflow.training.class_weights import ClassWeights
    from dlworkflow.training.distribution import DistributionPlan

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import OptimizerSpec, Spec

METRIC_ABBREVIATIONS = {
    "rmse": "root_mean_squared_error",
    "r2": "r2_score",
    "f1": "f1_score",
    "acc": "accuracy",
}
"""Common short names Keras does not know, and what to write instead (used in hints)."""

STAGE_TRAIN = "train"
"""The name of the one stage of a run without ``[train.fine_tune]``."""

STAGE_FROZEN = "frozen"
"""The first stage of a fine-tuned run: the pretrained base as ``[model.base]`` sets it (frozen)."""

STAGE_FINE_TUNE = "fine_tune"
"""The second stage of a fine-tuned run: the base unfrozen, at ``fine_tune.learning_rate``."""


@dataclass(frozen=True)
class TrainingResult:
    """What one ``fit`` did (both stages, with ``[train.fine_tune]``).

    Attributes:
        history: One row per epoch: an ``epoch`` column (1-based, continuous over the
            stages), with ``[train.fine_tune]`` a ``stage`` column (``frozen`` /
            ``fine_tune``), then Keras' history keys (``loss``, metrics, ``val_`` versions).
        epochs_run: Epochs actually run, all stages together (fewer than asked after
            early stopping).
        evaluated_epoch: The 1-based epoch whose weights are in the model now: the best
            epoch (of the last stage) when early stopping restored its weights, else the
            last one.
        best_epoch: The 1-based epoch with the best monitored value in the last stage when
            early stopping is on, else None.
        stopped_early: Whether early stopping ended a stage before its last epoch.
        seconds: Wall-clock time of ``fit`` (all stages).
        stages: Epochs run per stage, in order: ``{"train": n}``, or ``{"frozen": n,
            "fine_tune": m}`` with ``[train.fine_tune]``.
        trainable_parameters: Trainable parameters per stage, in the same order (the
            fine-tune stage's count is the one after unfreezing the base).
        steps_per_execution: Batches per call into the backend (see :func:`steps_per_execution`).
        trained_on_logits: Whether the gradient steps took the logits behind the last softmax or
            sigmoid (:mod:`dlworkflow.training.logits`); the model still outputs probabilities.
        class_weight: The weight of each class's rows in the training loss, by class label
            (``train.class_weight``, :mod:`dlworkflow.training.class_weights`); None without one.
        fused_epoch: Whether each execution of batches ran as one compiled scan
            (:mod:`dlworkflow.training.fused_epoch`, JAX) instead of Keras' call per batch.

    Example:
        >>> result = fit_model(model, spec, dataset, quiet=True)  # doctest: +SKIP
        >>> result.epochs_run, result.best_epoch, result.evaluated_epoch, result.stopped_early  # doctest: +SKIP
        (52, 42, 42, True)
        >>> result.stages  # with [train.fine_tune]  # doctest: +SKIP
        {'frozen': 5, 'fine_tune': 2}
    """

    history: pd.DataFrame
    epochs_run: int
    evaluated_epoch: int
    best_epoch: int | None
    stopped_early: bool
    seconds: float
    stages: dict[str, int] = field(default_factory=dict)
    trainable_parameters: dict[str, int] = field(default_factory=dict)
    steps_per_execution: int = 1
    trained_on_logits: bool = False
    class_weight: dict[str, float] | None = None
    distribution: DistributionPlan | None = None
    fused_epoch: bool = False


def make_optimizer(optimizer: OptimizerSpec, *, source: str = "<spec>") -> keras.optimizers.Optimizer:
    """Build the Keras optimizer of ``[train.optimizer]``.

    Args:
        optimizer: The optimizer section (``type`` plus Keras arguments).
        source: The spec file, for error messages.

    Returns:
        A new optimizer.

    Raises:
        SpecError: at ``train.optimizer.<argument>`` for an unknown or rejected argument.

    Example:
        >>> make_optimizer(spec.train.optimizer).name  # doctest: +SKIP
        'adam'
    """
    import keras

    names = {name.lower(): name for name in OPTIMIZER_TYPES}
    class_name = names.get(optimizer.type.lower())
    optimizer_class = getattr(keras.optimizers, class_name, None) if class_name else None
    if optimizer_class is None:
        raise SpecError.single(
            source, "train.optimizer.type", "unknown Keras optimizer", got=optimizer.type,
            hint=suggestion(optimizer.type, [n.lower() for n in OPTIMIZER_TYPES]),
        )
    arguments = optimizer.arguments
    try:
        return optimizer_class(**arguments)
    except (TypeError, ValueError) as err:
        raise argument_error(
            source, "train.optimizer", f"keras.optimizers.{class_name}", optimizer_class, keras.optimizers.Optimizer,
            arguments, err,
        ) from err


def _public_names(module: Any) -> list[str]:
    skip = {"get", "serialize", "deserialize"}
    return [n for n in dir(module) if n[:1].islower() and n not in skip]


def _metric_names(keras: Any) -> list[str]:
    registered = registered_metric_names()
    if registered is None:
        names = set(_public_names(keras.metrics))
    else:
        names = {n for n in registered if n[:1].islower() and n not in {"metric", "mean_metric_wrapper"}}
    return sorted(names | {"accuracy"})


def make_metrics(metrics: Sequence[str], *, source: str = "<spec>") -> list[Any]:
    """Turn ``train.metrics`` into what ``model.compile(metrics=...)`` takes.

    A class name (``"RootMeanSquaredError"``) becomes an instance named as Keras names it
    by default, in snake_case (``root_mean_squared_error``), as in the lesson's
    ``keras.metrics.RootMeanSquaredError()``; a lower-case name (``"mae"``, ``"accuracy"``)
    is passed on as it is, and Keras reports it under that name. Either way the history has
    the name and its ``val_`` twin, whatever was built before in the same process.

    Args:
        metrics: The metric names of the spec.
        source: The spec file, for error messages.

    Returns:
        Metric names and instances, in order.

    Raises:
        SpecError: listing every unknown or unusable metric at ``train.metrics[i]``.

    Example:
        >>> [getattr(m, "name", m) for m in make_metrics(["RootMeanSquaredError", "mae"])]
        ['root_mean_squared_error', 'mae']
    """
    import keras

    from dlworkflow.models.builder import snake_case

    built: list[Any] = []
    problems = []
    for index, name in enumerate(metrics):
        path = f"train.metrics[{index}]"
        if name.lower() in ("accuracy", "acc"):
            built.append(name)
            continue
        metric_class = getattr(keras.metrics, name, None) if name[:1].isupper() else None
        if isinstance(metric_class, type) and issubclass(metric_class, keras.metrics.Metric):
            try:
                built.append(metric_class(name=snake_case(name)))
            except (TypeError, ValueError) as err:
                problems.append(
                    Problem(source, path, f"keras.metrics.{name} cannot be built from its name alone "
                            f"({keras_message(err)})", name, "Use a metric that needs no arguments.")
                )
            continue
        try:
            keras.metrics.get(name)
        except (TypeError, ValueError):
            instead = METRIC_ABBREVIATIONS.get(name.lower())
            hint = f"Did you mean {instead!r}?" if instead else suggestion(name, _metric_names(keras), show_options=0)
            problems.append(
                Problem(source, path, "unknown Keras metric", name, hint or "See the names in keras.metrics.")
            )
            continue
        built.append(name)
    if problems:
        raise SpecError(problems)
    return built


def compile_model(
    model: keras.Model, spec: Spec, dataset: Dataset, *, learning_rate: float | None = None,
    from_logits: bool = False,
) -> keras.Model:
    """Compile a model with the optimizer, loss and metrics of ``[train]``.

    ``loss = "auto"`` means ``mse`` for regression,
    ``categorical_crossentropy`` for one-hot classes and
    ``sparse_categorical_crossentropy`` for integer classes; a loss class name or a loss
    with arguments (``{ type = "SparseCategoricalCrossentropy", from_logits = true }``)
    becomes an instance of its Keras class (:func:`~dlworkflow.training.losses.make_loss`).

    Args:
        model: The built model.
        spec: The validated spec.
        dataset: The data (task and target encoding).
        learning_rate: Use this learning rate instead of ``train.optimizer.learning_rate``
            (the fine-tune stage passes ``fine_tune.learning_rate``); the optimizer's type
            and other arguments stay.
        from_logits: Compile the loss for a model that outputs logits (:mod:`~dlworkflow.training.logits`).

    Returns:
        The same model, compiled.

    Raises:
        SpecError: at ``train.optimizer.<arg>``, ``train.loss.type``, ``train.loss.<arg>`` or
            ``train.metrics[i]`` (every bad metric at once).

    Example:
        >>> compile_model(model, spec, dataset).loss  # doctest: +SKIP
        'mse'
    """
    import keras

    source = spec.source
    optimizer_spec = spec.train.optimizer
    if learning_rate is not None:
        optimizer_spec = optimizer_spec.model_copy(update={"learning_rate": learning_rate})
    optimizer = make_optimizer(optimizer_spec, source=source)
    loss = make_loss(spec, dataset, from_logits=from_logits)
    metrics = make_metrics(spec.train.metrics, source=source)
    steps = steps_per_execution(spec, dataset, keras.backend.backend())
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, steps_per_execution=steps)
    return model


def steps_per_execution(spec: Spec, dataset: Dataset, backend: str) -> int:
    """How many batches Keras runs per call into the backend (``train.steps_per_execution``).

    ``auto`` gives a whole epoch's batches when the training part is in memory and the
    backend is JAX or TensorFlow: Keras then calls into the backend, and runs its batch-level
    callback machinery, once per epoch instead of once per batch, which on small models is
    most of the time an epoch takes (the lesson's weather model trains about twice as fast).
    The batches, their order and the per-epoch metrics stay exactly the same, and so does
    early stopping, which acts at the end of an epoch. Streamed parts, the PyTorch backend and
    TensorFlow's ``data_parallel`` get 1. A number in the spec is used as it is. On JAX each execution then runs as one
    compiled scan over its batches (:mod:`dlworkflow.training.fused_epoch`).

    Args:
        spec: The validated spec.
        dataset: The prepared data (its training part's size and whether it is streamed).
        backend: The Keras backend in use.

    Returns:
        The ``steps_per_execution`` for ``model.compile``.

    Example:
        >>> steps_per_execution(weather_spec, weather_dataset, "jax")  # 767 rows, batch 32  # doctest: +SKIP
        24
    """
    if backend == "tensorflow" and spec.train.distribution == "data_parallel":
        return 1  # Keras' multi-step loop fails under tf.distribute.MirroredStrategy (an unfed placeholder)
    setting = spec.train.steps_per_execution
    if setting != "auto":
        return int(setting)
    if dataset.train.streamed or backend not in ("jax", "tensorflow"):
        return 1
    return max(1, math.ceil(dataset.train.size / spec.train.batch_size))


def fit_model(
    model: keras.Model,
    spec: Spec,
    dataset: Dataset,
    *,
    console: Console | None = None,
    quiet: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    checkpoint_dir: str | Path | None = None,
    resume_from: Checkpoint | None = None,
) -> TrainingResult:
    """Train a model on a dataset's training split with the spec's ``[train]`` settings.

    Runs ``model.fit`` with ``batch_size``, ``epochs`` and ``shuffle`` from the spec, the
    validation split as ``validation_data`` when there is one, Keras' printing off and a
    progress bar instead. The model is compiled first if it is not yet. Seed with
    :func:`~dlworkflow.training.seeding.seed_everything` before building the model for a
    repeatable run. A streamed part is read batch by batch
    (:func:`~dlworkflow.training.streams.image_stream`; the training files reshuffled each
    epoch with ``train.seed`` when ``train.shuffle``).

    With ``[train.fine_tune]`` training has two stages. ``frozen``: ``train.epochs`` epochs
    with the base as ``[model.base]`` sets it. ``fine_tune``: the base is unfrozen (all of
    it, or its top ``fine_tune.layers`` layers; :func:`~dlworkflow.models.unfreeze_base`),
    the model is compiled again with the same optimizer type, loss and metrics at
    ``fine_tune.learning_rate``, and trained ``fine_tune.epochs`` more epochs, the epoch
    count going on (``initial_epoch``). Early stopping, when configured, acts within each
    stage; the NaN guard too.

    On JAX and PyTorch a classifier ending in softmax or sigmoid trains on its logits through
    a model sharing its layers (:mod:`dlworkflow.training.logits`); ``model`` keeps its activation.
    ``train.class_weight`` weighs each training row's loss by its class
    (:mod:`dlworkflow.training.class_weights`); the validation loss is not weighted.

    Args:
        model: The built (and normally compiled) model.
        spec: The validated spec.
        dataset: The prepared data.
        console: Where the progress bar is drawn (standard error when None).
        quiet: No progress bar.
        callbacks: Extra Keras callbacks, run after the built-in ones (in both stages).
        checkpoint_dir: Write a checkpoint there after every epoch
            (:mod:`dlworkflow.training.checkpoint`), so that an interrupted run can go on.
        resume_from: Go on from this checkpoint: the model (built and compiled from the same
            spec) is put back in its state and trains the remaining epochs; the history
            holds the checkpoint's epochs first. Not for ``[train.fine_tune]`` runs.

    Returns:
        The :class:`TrainingResult`.

    Raises:
        TrainingError: when the loss became NaN or infinite, or Keras could not train.
        SpecError: at ``train.early_stopping.monitor`` when the monitored value does not
            exist, or ``train.early_stopping.mode`` when its direction cannot be guessed.
        DataError: when a streamed image file cannot be read.

    Example:
        >>> result = fit_model(model, spec, dataset, quiet=True)  # doctest: +SKIP
        >>> result.history.columns.tolist()  # doctest: +SKIP
        ['epoch', 'loss', 'val_loss']
    """
    from dlworkflow.training.distribution import distributed

    with distributed(spec, dataset) as plan:  # batches split across devices with train.distribution
        return _fit_all(model, spec, dataset, plan, console, quiet, callbacks, checkpoint_dir, resume_from)


def _fit_all(model: Any, spec: Spec, dataset: Dataset, plan: DistributionPlan | None, console: Any, quiet: bool,
             callbacks: Any, checkpoint_dir: Any, resume_from: Any) -> TrainingResult:
    from dlworkflow.models.base import trainable_parameter_count, unfreeze_base
    from dlworkflow.training.logits import logits_training_model
    from dlworkflow.training.progress import EpochProgress

    if not is_compiled(model):
        compile_model(model, spec, dataset)
    trained = logits_training_model(model, spec, dataset) or model
    fine_tune = spec.train.fine_tune
    if resume_from is not None and fine_tune is not None:
        raise TrainingError.single(
            spec.source, "train.fine_tune", "a run with a fine-tune stage cannot go on from a checkpoint yet",
            hint="Start the spec again with dlw run.",
        )
    prior = _Prior(resume_from, checkpoint_dir)
    progress = None if quiet else EpochProgress(console, label=spec.name)
    inputs = _training_inputs(spec, dataset, plan)
    started = time.perf_counter()
    try:
        first_name = STAGE_TRAIN if fine_tune is None else STAGE_FROZEN
        trainable = {first_name: trainable_parameter_count(model)}
        first = _fit_stage(trained, spec, inputs, prior.epochs, spec.train.epochs - prior.epochs, progress, callbacks,
                           prior)
        stages = [(first_name, first)]
        if fine_tune is not None:
            trainable[STAGE_FINE_TUNE] = unfreeze_base(model, fine_tune)
            compile_model(model, spec, dataset, learning_rate=fine_tune.learning_rate)
            trained = logits_training_model(model, spec, dataset, learning_rate=fine_tune.learning_rate) or model
            if progress is not None:
                progress.label = f"{spec.name} (fine-tune)"
            second = _fit_stage(trained, spec, inputs, first.epochs_run, fine_tune.epochs, progress, callbacks,
                                _Prior(None, checkpoint_dir))
            stages.append((STAGE_FINE_TUNE, second))
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - started
    steps = steps_per_execution_of(trained)
    one_batch_per_call(model)

    frames = [] if resume_from is None else [pd.DataFrame(resume_from.history)]
    for name, stage in stages:
        frame = stage.frame
        if fine_tune is not None:
            frame.insert(0, "stage", name)
        frames.append(frame)
    history = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    history.insert(0, "epoch", range(1, len(history) + 1))
    last = stages[-1][1]
    epochs_run = prior.epochs + sum(stage.epochs_run for _, stage in stages)
    stopping = last.stopping
    return TrainingResult(
        history=history,
        epochs_run=epochs_run,
        evaluated_epoch=stopping.evaluated_epoch if stopping is not None else epochs_run,
        best_epoch=stopping.best_epoch_number if stopping is not None else None,
        stopped_early=any(stage.stopping is not None and stage.stopping.stopped_early for _, stage in stages),
        seconds=seconds,
        stages={name: stage.epochs_run + (prior.epochs if index == 0 else 0)
                for index, (name, stage) in enumerate(stages)},
        trainable_parameters={name: trainable[name] for name, _ in stages},
        steps_per_execution=steps,
        trained_on_logits=trained is not model,
        class_weight=inputs.class_weight.by_name() if inputs.class_weight is not None else None,
        distribution=plan,
        fused_epoch=all(stage.fused for _, stage in stages),
    )


@dataclass
class _Inputs:
    """What ``model.fit`` gets for the data: arrays or a tf.data stream, and the validation data."""

    x: Any
    y: Any
    batch_size: int | None
    shuffle: bool
    validation_data: Any
    class_weight: ClassWeights | None = None


def _training_inputs(spec: Spec, dataset: Dataset, plan: DistributionPlan | None = None) -> _Inputs:
    """Arrays for in-memory parts (as before streaming existed), tf.data streams for streamed ones."""
    from dlworkflow.training.class_weights import class_weights
    from dlworkflow.training.distribution import even_rows, streamed_refusal

    if plan is not None and (dataset.train.streamed or (dataset.validation is not None and dataset.validation.streamed)):
        raise streamed_refusal(spec)

    weights = class_weights(spec, dataset)
    train = spec.train
    validation = dataset.validation
    validation_data = None
    if validation is not None and validation.size > 0:
        if validation.streamed:
            from dlworkflow.training.streams import image_stream

            validation_data = image_stream(validation, dataset.image, batch_size=train.batch_size)
        else:
            validation_data = even_rows((validation.x, validation.y), plan)
    if dataset.train.streamed:
        from dlworkflow.training.streams import image_stream

        stream = image_stream(
            dataset.train, dataset.image, batch_size=train.batch_size, shuffle=train.shuffle, seed=train.seed
        )
        return _Inputs(stream, None, None, False, validation_data, weights)
    x, y = even_rows((dataset.train.x, dataset.train.y), plan)
    return _Inputs(x, y, train.batch_size, train.shuffle, validation_data, weights)


@dataclass
class _Prior:
    """Where a ``fit`` starts: a checkpoint to go on from (or none), and where to write new ones."""

    checkpoint: Any
    folder: Any

    @property
    def epochs(self) -> int:
        return 0 if self.checkpoint is None else int(self.checkpoint.epoch)


@dataclass
class _Stage:
    """One ``model.fit`` call's history, epochs run and early-stopping callback (or None)."""

    frame: pd.DataFrame
    epochs_run: int
    stopping: Any
    fused: bool = False


def _fit_stage(
    model: Any,
    spec: Spec,
    inputs: _Inputs,
    initial_epoch: int,
    epochs: int,
    progress: Any,
    extra: Sequence[Any],
    prior: _Prior,
) -> _Stage:
    """Run one ``model.fit`` of ``epochs`` epochs after ``initial_epoch``, with fresh built-in callbacks."""
    from dlworkflow.training.callbacks import StopOnNaN, TrackedEarlyStopping, make_callbacks
    from dlworkflow.training.interrupts import StopOnCtrlC
    from dlworkflow.training.streams import stream_errors, unreadable_file_error

    if progress is not None:
        progress.initial_epoch = initial_epoch
    callback_list = make_callbacks(spec.train, progress=progress, extra=extra)
    stopping = next((c for c in callback_list if isinstance(c, TrackedEarlyStopping)), None)
    if stopping is not None:
        stopping.start_from_epoch += initial_epoch  # Keras counts epochs across stages; the wait is per stage
    if prior.checkpoint is not None:
        from dlworkflow.training.checkpoint import restore_checkpoint

        restore_checkpoint(model, prior.checkpoint, early_stopping=stopping)
        if stopping is not None:
            stopping.start_from_epoch -= initial_epoch  # the same run going on: its wait counts from epoch 1
    checkpoint = None
    if prior.folder is not None:
        from dlworkflow.training.checkpoint import EpochCheckpoint

        history = prior.checkpoint.history if prior.checkpoint is not None else []
        checkpoint = EpochCheckpoint(prior.folder, initial_epoch=initial_epoch, history=history,
                                     early_stopping=stopping)
        callback_list.insert(-1 if progress is not None else len(callback_list), checkpoint)
    # A stream is shuffled by tf.data itself (training part only): Keras' shuffle stays off for it.
    arguments: dict[str, Any] = {"shuffle": inputs.shuffle}
    if inputs.batch_size is not None:
        arguments["batch_size"] = inputs.batch_size
    if inputs.class_weight is not None:  # the training rows' loss only: validation stays unweighted
        arguments["class_weight"] = inputs.class_weight.for_keras()
    fused = use_fused_epoch(model, streamed=inputs.batch_size is None)  # a stream has no batch_size here
    try:
        history = model.fit(
            inputs.x,
            inputs.y,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            validation_data=inputs.validation_data,
            verbose=0,
            callbacks=callback_list,
            **arguments,
        )
    except WorkflowError:
        raise
    except ValueError as err:
        raise TrainingError.single(
            spec.source, "train", f"Keras could not train the model: {keras_message(err)}",
            hint="Check that the loss fits the target (train.loss, data.target_encoding) and the model's output.",
        ) from err
    except stream_errors() as err:
        raise unreadable_file_error(spec.source, "data.path", err) from err
    finally:  # Keras calls on_train_end only when fit returns: the Ctrl-C handler goes back however it ends
        for callback in callback_list:
            if isinstance(callback, StopOnCtrlC):
                callback.on_train_end()
        if checkpoint is not None:  # the last epoch's checkpoint on disk before a stop is recorded
            checkpoint.flush()

    guard = next(c for c in callback_list if isinstance(c, StopOnNaN))
    if stopping is not None:
        raise_for_stopping_problems(stopping, spec)
    if guard.bad_epoch is not None:
        raise nan_error(spec, guard.bad_epoch, guard.bad_value)
    frame = pd.DataFrame({key: [float(v) for v in values] for key, values in history.history.items()})
    epochs_run = len(history.epoch) if history.epoch else len(frame)
    return _Stage(frame, epochs_run, stopping, fused)

