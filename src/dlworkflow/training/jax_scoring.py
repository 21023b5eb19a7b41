"""Keras' loss and metrics on JAX from a part's outputs, through one compiled function of one shape.

On JAX, ``model.evaluate`` compiles the model's ``test_step`` once for every batch shape it
meets (the full batch, then each part's shorter last batch), and Keras' metric objects used
eagerly on a whole part compile each of their operations for the part's shape. Here the
values come from the outputs a prediction pass already gave: the rows go in blocks of
:data:`BLOCK_ROWS` (a last, shorter block padded with copies of its last row, weighted 0)
through one jitted function that updates the loss tracker and the compiled metrics
statelessly, as Keras' ``test_step`` does. Every part of every run with the same output
shape uses the same compiled program, which JAX's persistent cache then keeps.

The values are ``evaluate``'s to float32 rounding: a block is a batch of ``evaluate`` (the
same sums, averaged in the same order); a padded block's rows of weight 0 add exact zeros.

Keras internals relied on (Keras 3.15), beside ``Trainer._loss_tracker`` that
:mod:`dlworkflow.training.prediction` already uses: ``Trainer._compile_loss`` and its
``_flat_losses`` (``(path, loss, loss_weight, name)``), ``Trainer._compile_metrics`` with its
``built``, ``_flat_metrics``, ``_flat_weighted_metrics`` and ``_flatten_y`` (it gives plain metrics
no sample weights, so the padding is weighted through them one by one), and
``keras.src.losses.loss.squeeze_or_expand_to_same_rank``. :func:`can_score` answers False
when any is missing, and the caller evaluates with ``model.evaluate`` instead.

Example:
    >>> outputs = model.predict(dataset.test.x, verbose=0)  # doctest: +SKIP
    >>> keras_values_on_jax(model, dataset.test.y, outputs)  # doctest: +SKIP
    {'loss': 10.3, 'root_mean_squared_error': 3.21}
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

BLOCK_ROWS = 32
"""Rows per call of the compiled function: Keras' default batch size, so a block is one of evaluate's batches."""

_COMPILED: weakref.WeakKeyDictionary[Any, Callable[..., Any]] = weakref.WeakKeyDictionary()


def can_score(model: Any, y: Any = None, outputs: Any = None) -> bool:
    """Whether :func:`keras_values_on_jax` gives ``model.evaluate``'s values for this model.

    A model compiled but never trained or evaluated itself (the spec's model when
    :func:`~dlworkflow.training.logits.logits_training_model` trained another over its layers)
    has its compiled loss and metrics built first for ``y`` and ``outputs``, when given, as
    Keras builds them on its first step.

    Args:
        model: A compiled Keras model on the JAX backend.
        y: Targets of the rows to score, to build the compiled loss and metrics (optional).
        outputs: The model's raw outputs for them (optional).

    Returns:
        True for one loss reduced over the batch (``sum_over_batch_size``), Keras' own loss
        tracker and compiled metrics as the model's only metrics, no activity regularizer
        and no ``keras.distribution``; weight regularizers are allowed.

    Example:
        >>> can_score(model)  # the weather model  # doctest: +SKIP
        True
    """
    import keras

    compile_loss = getattr(model, "_compile_loss", None)
    if y is not None and outputs is not None:
        for compiled in (compile_loss, getattr(model, "_compile_metrics", None)):
            if compiled is not None and not getattr(compiled, "built", True):
                compiled.build(y, outputs)
    flat = getattr(compile_loss, "_flat_losses", None)
    tracker = getattr(model, "_loss_tracker", None)
    if keras.distribution.distribution() is not None or tracker is None or not flat or len(flat) != 1:
        return False
    if getattr(flat[0][1], "reduction", None) != "sum_over_batch_size":
        return False
    compiled = getattr(model, "_compile_metrics", None)
    if any(metric is not tracker and metric is not compiled for metric in model.metrics):
        return False
    if compiled is not None and not (getattr(compiled, "built", False) and len(compiled._flat_metrics) <= 1
                                     and len(compiled._flat_weighted_metrics) <= 1):
        return False  # not yet used, or several outputs
    return not any(getattr(layer, "activity_regularizer", None) is not None for layer in model._flatten_layers())


def keras_values_on_jax(model: Any, y: np.ndarray, outputs: Any) -> dict[str, float]:
    """Keras' loss and compiled metrics of outputs against targets, on JAX, without compiling per shape.

    Args:
        model: A compiled, trained model for which :func:`can_score` is True.
        y: The network's targets (``part.y``).
        outputs: The model's raw outputs for the same rows.

    Returns:
        ``{"loss": ..., <metric>: ...}`` as Python floats, as ``model.evaluate`` returns them.

    Example:
        >>> keras_values_on_jax(model, part.y, model.predict(part.x, verbose=0))  # doctest: +SKIP
        {'loss': 0.52, 'accuracy': 0.8}
    """
    y = np.asarray(y)
    outputs = np.asarray(outputs)
    function = _COMPILED.get(model)
    if function is None:
        function = _COMPILED[model] = _block_function(model)
    model.reset_metrics()  # the metrics' initial values, as evaluate starts from them
    state = [variable.value for variable in model.metrics_variables]
    regularized = [v.value for v in model.trainable_variables if v.regularizer is not None]
    results: Any = None
    for start in range(0, max(len(y), 1), BLOCK_ROWS):
        rows = min(BLOCK_ROWS, len(y) - start)
        weight = np.zeros(BLOCK_ROWS, np.float32)
        weight[:rows] = 1.0
        state, results = function(state, regularized, _block(y, start), _block(outputs, start), weight,
                                  np.float32(rows))
    return {str(key): float(value) for key, value in results.items()}


def _block(values: np.ndarray, start: int) -> np.ndarray:
    """BLOCK_ROWS rows from ``start``; a short block filled up with copies of its last row."""
    block = values[start:start + BLOCK_ROWS]
    if len(block) < BLOCK_ROWS:
        block = np.concatenate([block, np.repeat(block[-1:], BLOCK_ROWS - len(block), axis=0)])
    return block


def _block_function(model: Any) -> Callable[..., Any]:
    """The jitted ``(metric values, regularized weights, y, outputs, weight, rows) -> (metric values, results)``."""
    import jax
    import keras
    from keras.src.losses.loss import squeeze_or_expand_to_same_rank

    compile_loss = model._compile_loss
    _, loss, loss_weight, _ = compile_loss._flat_losses[0]
    regularized = [v for v in model.trainable_variables if v.regularizer is not None]

    def batch_loss(y: Any, outputs: Any, weight: Any, rows: Any) -> Any:
        """Keras' loss of the block's real rows: the loss object's values averaged, plus the penalties."""
        values = loss.call(keras.ops.convert_to_tensor(y, dtype=loss.dtype),
                           keras.ops.convert_to_tensor(outputs, dtype=loss.dtype))
        values, weights = squeeze_or_expand_to_same_rank(values, keras.ops.cast(weight, values.dtype))
        per_row = int(np.prod(values.shape[1:], dtype=np.int64))
        value = keras.ops.cast(keras.ops.sum(values * weights) / (rows * per_row), compile_loss.dtype)
        if loss_weight is not None:
            value = value * loss_weight
        penalties = [keras.ops.sum(keras.ops.cast(term, keras.backend.floatx())) for term in model.losses]
        return keras.ops.sum([value, *penalties]) if penalties else value

    def block(state: Any, weights: Any, y: Any, outputs: Any, weight: Any, rows: Any) -> Any:
        mapping = [*zip(model.metrics_variables, state), *zip(regularized, weights)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            model._loss_tracker.update_state(batch_loss(y, outputs, weight, rows), sample_weight=rows)
            _update_compiled_metrics(model._compile_metrics, y, outputs, weight)
        state = [scope.get_current_value(v) if scope.get_current_value(v) is not None else value
                 for v, value in zip(model.metrics_variables, state)]
        with keras.StatelessScope(state_mapping=list(zip(model.metrics_variables, state))):
            results = model.get_metrics_result()
        return state, results

    return jax.jit(block)


def _update_compiled_metrics(compiled: Any, y: Any, outputs: Any, weight: Any) -> None:
    """``CompileMetrics.update_state`` with the padding weighted 0 (it passes no weights to plain metrics)."""
    if compiled is None:
        return
    for metric, y_true, y_pred in zip(compiled._flat_metrics + compiled._flat_weighted_metrics,
                                      compiled._flatten_y(y) * 2, compiled._flatten_y(outputs) * 2):
        if metric:
            metric.update_state(y_true, y_pred, sample_weight=weight)
