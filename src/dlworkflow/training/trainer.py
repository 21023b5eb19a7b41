"""Compile, fit, evaluate and predict, as the lesson does it, with spec-aware errors.

``compile_model`` turns ``[train]`` into an optimizer, a loss and metrics (``loss =
"auto"`` picks mean squared error or the cross-entropy that matches the target's
encoding); ``fit_model`` runs ``model.fit`` with the spec's settings, the callbacks of
:mod:`dlworkflow.training.callbacks` and a progress bar, and returns a
:class:`TrainingResult`. Mistakes in the spec are reported as
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dlworkflow.errors import Problem, SpecError, TrainingError, WorkflowError, suggestion
from dlworkflow.models.arguments import accepted_keywords, argument_in_message, keras_message
from dlworkflow.spec.keras_names import OPTIMIZER_TYPES

if TYPE_CHECKING:
    import keras
    from rich.console import Console

    from dlworkflow.data.dataset import Dataset, Part
    from dlworkflow.spec.schema import OptimizerSpec, Spec

AUTO_LOSSES = {
    "regression": "mse",
    "onehot": "categorical_crossentropy",
    "integer": "sparse_categorical_crossentropy",
}
"""What ``loss = "auto"`` means, by task (regression) or target encoding (classification)."""

METRIC_ABBREVIATIONS = {
    "rmse": "root_mean_squared_error",
    "r2": "r2_score",
    "f1": "f1_score",
    "acc": "accuracy",
}
"""Common short names Keras does not know, and what to write instead (used in hints)."""

_ONEHOT_LOSSES = frozenset({"categorical_crossentropy", "CategoricalCrossentropy"})
_INTEGER_LOSSES = frozenset({"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"})


@dataclass(frozen=True)
class TrainingResult:
    """What one ``fit`` did.

    Attributes:
        history: One row per epoch: an ``epoch`` column (1-based) then Keras' history keys
            (``loss``, metrics, ``val_`` versions).
        epochs_run: Epochs actually run (fewer than ``train.epochs`` after early stopping).
        evaluated_epoch: The 1-based epoch whose weights are in the model now: the best
            epoch when early stopping restored its weights, else the last one.
        best_epoch: The 1-based epoch with the best monitored value when early stopping
            is on, else None.
        stopped_early: Whether early stopping ended training before ``train.epochs``.
        seconds: Wall-clock time of ``fit``.

    Example:
        >>> result = fit_model(model, spec, dataset, quiet=True)  # doctest: +SKIP
        >>> result.epochs_run, result.best_epoch, result.evaluated_epoch, result.stopped_early  # doctest: +SKIP
        (52, 42, 42, True)
    """

    history: pd.DataFrame
    epochs_run: int
    evaluated_epoch: int
    best_epoch: int | None
    stopped_early: bool
    seconds: float


def resolve_loss(spec: Spec, dataset: Dataset) -> str:
    """The Keras loss name a spec trains with (``train.loss``, or what ``auto`` stands for).

    Args:
        spec: The validated spec.
        dataset: The data (its task and target encoding decide ``auto``).

    Returns:
        A Keras loss identifier.

    Example:
        >>> resolve_loss(spec, dataset)  # regression, loss = "auto"  # doctest: +SKIP
        'mse'
    """
    if spec.train.loss.type != "auto":
        return spec.train.loss.type
    if dataset.task == "regression":
        return AUTO_LOSSES["regression"]
    return AUTO_LOSSES[dataset.target_encoding or "onehot"]


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
        >>> make_optimizer(spec.train.optimizer)  # doctest: +SKIP
        <keras.src.optimizers.adam.Adam object at ...>
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
        message = keras_message(err)
        label = f"keras.optimizers.{class_name}"
        accepted = accepted_keywords(optimizer_class, keras.optimizers.Optimizer)
        unknown = [name for name in arguments if name not in accepted]
        if unknown and accepted:
            raise SpecError.single(
                source, f"train.optimizer.{unknown[0]}", f"{label} has no argument {unknown[0]!r} (Keras: {message})",
                hint=suggestion(unknown[0], sorted(accepted)) or f"See the arguments of {label}.",
            ) from err
        name = argument_in_message(message, arguments)
        path = f"train.optimizer.{name}" if name else "train.optimizer"
        raise SpecError.single(
            source, path, f"{label} rejected its arguments: {message}",
            hint=f"Check the values against the documentation of {label}.",
        ) from err


def _check_loss(keras: Any, loss: str, spec: Spec, dataset: Dataset) -> None:
    source = spec.source
    try:
        keras.losses.get(loss)
    except (TypeError, ValueError) as err:
        raise SpecError.single(
            source, "train.loss", "unknown Keras loss", got=loss,
            hint=suggestion(loss, _public_names(keras.losses), show_options=0)
            + " Or leave train.loss = 'auto'.",
        ) from err
    if dataset.task != "classification":
        return
    if loss in _ONEHOT_LOSSES and dataset.target_encoding == "integer":
        raise SpecError.single(
            source, "train.loss", f"{loss!r} needs one-hot targets but data.target_encoding is 'integer'",
            hint="Use 'sparse_categorical_crossentropy', set data.target_encoding = 'onehot', or use 'auto'.",
        )
    if loss in _INTEGER_LOSSES and dataset.target_encoding == "onehot":
        raise SpecError.single(
            source, "train.loss", f"{loss!r} needs integer targets but data.target_encoding is 'onehot'",
            hint="Use 'categorical_crossentropy', set data.target_encoding = 'integer', or use 'auto'.",
        )


def _public_names(module: Any) -> list[str]:
    skip = {"get", "serialize", "deserialize"}
    return [n for n in dir(module) if n[:1].islower() and n not in skip]


def _metric_names(keras: Any) -> list[str]:
    try:
        from keras.src.metrics import ALL_OBJECTS_DICT
    except ImportError:
        names = set(_public_names(keras.metrics))
    else:
        names = {n for n in ALL_OBJECTS_DICT if n[:1].islower() and n not in {"metric", "mean_metric_wrapper"}}
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
        >>> [getattr(m, "name", m) for m in make_metrics(["RootMeanSquaredError", "mae"])]  # doctest: +SKIP
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


def compile_model(model: keras.Model, spec: Spec, dataset: Dataset) -> keras.Model:
    """Compile a model with the optimizer, loss and metrics of ``[train]``.

    ``loss = "auto"`` means ``mse`` for regression,
    ``categorical_crossentropy`` for one-hot classes and
    ``sparse_categorical_crossentropy`` for integer classes.

    Args:
        model: The built model.
        spec: The validated spec.
        dataset: The data (task and target encoding).

    Returns:
        The same model, compiled.

    Raises:
        SpecError: at ``train.optimizer.<arg>``, ``train.loss`` or ``train.metrics[i]``
            (every bad metric at once).

    Example:
        >>> compile_model(model, spec, dataset).loss  # doctest: +SKIP
        'mse'
    """
    import keras

    source = spec.source
    optimizer = make_optimizer(spec.train.optimizer, source=source)
    loss = resolve_loss(spec, dataset)
    _check_loss(keras, loss, spec, dataset)
    metrics = make_metrics(spec.train.metrics, source=source)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def fit_model(
    model: keras.Model,
    spec: Spec,
    dataset: Dataset,
    *,
    console: Console | None = None,
    quiet: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainingResult:
    """Train a model on a dataset's training split with the spec's ``[train]`` settings.

    Runs ``model.fit`` with ``batch_size``, ``epochs`` and ``shuffle`` from the spec, the
    validation split as ``validation_data`` when there is one, Keras' printing off and a
    progress bar instead. The model is compiled first if it is not yet. Seed with
    :func:`~dlworkflow.training.seeding.seed_everything` before building the model for a
    repeatable run.

    Args:
        model: The built (and normally compiled) model.
        spec: The validated spec.
        dataset: The prepared data.
        console: Where the progress bar is drawn (standard error when None).
        quiet: No progress bar.
        callbacks: Extra Keras callbacks, run after the built-in ones.

    Returns:
        The :class:`TrainingResult`.

    Raises:
        TrainingError: when the loss became NaN or infinite, or Keras could not train.
        SpecError: at ``train.early_stopping.monitor`` when the monitored value does not
            exist, or ``train.early_stopping.mode`` when its direction cannot be guessed.

    Example:
        >>> result = fit_model(model, spec, dataset, quiet=True)  # doctest: +SKIP
        >>> result.history.columns.tolist()  # doctest: +SKIP
        ['epoch', 'loss', 'val_loss']
    """
    from dlworkflow.training.callbacks import StopOnNaN, TrackedEarlyStopping, make_callbacks
    from dlworkflow.training.progress import EpochProgress

    if not getattr(model, "compiled", False):
        compile_model(model, spec, dataset)
    train = spec.train
    progress = None if quiet else EpochProgress(console, label=spec.name)
    callback_list = make_callbacks(train, progress=progress, extra=callbacks)
    validation = dataset.validation
    validation_data = (validation.x, validation.y) if validation is not None and validation.size > 0 else None
    started = time.perf_counter()
    try:
        history = model.fit(
            dataset.train.x,
            dataset.train.y,
            batch_size=train.batch_size,
            epochs=train.epochs,
            shuffle=train.shuffle,
            validation_data=validation_data,
            verbose=0,
            callbacks=callback_list,
        )
    except WorkflowError:
        raise
    except ValueError as err:
        raise TrainingError.single(
            spec.source, "train", f"Keras could not train the model: {keras_message(err)}",
            hint="Check that the loss fits the target (train.loss, data.target_encoding) and the model's output.",
        ) from err
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - started

    guard = next(c for c in callback_list if isinstance(c, StopOnNaN))
    stopping = next((c for c in callback_list if isinstance(c, TrackedEarlyStopping)), None)
    if stopping is not None:
        _raise_for_stopping_problems(stopping, spec)
    if guard.bad_epoch is not None:
        raise _nan_error(spec, guard.bad_epoch, guard.bad_value)

    frame = pd.DataFrame({key: [float(v) for v in values] for key, values in history.history.items()})
    epochs_run = len(history.epoch) if history.epoch else len(frame)
    frame.insert(0, "epoch", range(1, len(frame) + 1))
    return TrainingResult(
        history=frame,
        epochs_run=epochs_run,
        evaluated_epoch=stopping.evaluated_epoch if stopping is not None else epochs_run,
        best_epoch=stopping.best_epoch_number if stopping is not None else None,
        stopped_early=stopping.stopped_early if stopping is not None else False,
        seconds=seconds,
    )


def _raise_for_stopping_problems(stopping: Any, spec: Spec) -> None:
    if stopping.missing_monitor is not None:
        available = list(stopping.missing_monitor)
        raise SpecError.single(
            spec.source, "train.early_stopping.monitor",
            "is not a value Keras reports each epoch", got=stopping.monitor,
            hint=suggestion(stopping.monitor, available),
        )
    if stopping.mode_problem is not None:
        raise SpecError.single(
            spec.source, "train.early_stopping.mode",
            f"Keras cannot tell whether {stopping.monitor!r} should go up or down", got="auto",
            hint="Set train.early_stopping.mode = 'min' (lower is better) or 'max' (higher is better).",
        )


def _nan_error(spec: Spec, epoch: int, value: float | None) -> TrainingError:
    became = "NaN" if value is None or math.isnan(value) else "infinite"
    learning_rate = spec.train.optimizer.learning_rate
    if learning_rate is not None:
        rate = f"train.optimizer.learning_rate = {learning_rate:g}: try {learning_rate / 10:g}"
    else:
        rate = "set train.optimizer.learning_rate below the optimizer's default"
    causes = [f"a learning rate too high ({rate})"]
    if spec.data.scaling == "none":
        causes.append("unscaled inputs (set data.scaling = 'standardize')")
    causes.append("missing or infinite values in the data (set data.dropna = true)")
    return TrainingError.single(
        spec.source, "train", f"the loss became {became} at epoch {epoch}",
        hint="Likely causes: " + "; ".join(causes) + ".",
    )


def evaluate_model(model: keras.Model, part: Part, *, batch_size: int | None = None) -> dict[str, float]:
    """Keras' loss and compiled metrics on one split.

    Args:
        model: A compiled model.
        part: The split, e.g. ``dataset.test``.
        batch_size: Rows per step (Keras' default of 32 when None).

    Returns:
        ``{"loss": ..., <metric>: ...}`` as Python floats.

    Example:
        >>> evaluate_model(model, dataset.test)  # doctest: +SKIP
        {'loss': 10.3, 'root_mean_squared_error': 3.21}
    """
    values = model.evaluate(part.x, part.y, batch_size=batch_size, verbose=0, return_dict=True)
    return {str(key): float(value) for key, value in values.items()}


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def predict(model: keras.Model, part: Part, *, batch_size: int | None = None) -> np.ndarray:
    """The model's predictions for one split, as float64.

    A single output per row (regression) becomes a 1-D array. Several outputs
    (classification) become an ``(rows, classes)`` array of probabilities: when the rows do
    not already sum to 1 (within 1e-3) or hold negative values, the outputs are taken as
    logits and softmax is applied.

    Args:
        model: A trained model.
        part: The split, e.g. ``dataset.test``.
        batch_size: Rows per step (Keras' default when None).

    Returns:
        ``(rows,)`` predictions or ``(rows, classes)`` probabilities.

    Example:
        >>> predict(model, dataset.test).shape  # doctest: +SKIP
        (69, 3)
    """
    output = np.asarray(model.predict(part.x, batch_size=batch_size, verbose=0), dtype=np.float64)
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        return output.reshape(-1)
    output = output.reshape(output.shape[0], -1)
    if output.size and ((output < -1e-6).any() or not np.allclose(output.sum(axis=1), 1.0, atol=1e-3)):
        output = _softmax(output)
    return output
