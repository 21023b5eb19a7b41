"""Evaluate and predict with a trained model on one split, in memory or streamed from image files.

Example:
    >>> evaluate_model(model, dataset.test)  # doctest: +SKIP
    {'loss': 10.3, 'root_mean_squared_error': 3.21}
    >>> predict(model, dataset.test).shape  # doctest: +SKIP
    (165,)
    >>> predictions, values = predict_and_evaluate(model, dataset.test)  # one pass over the rows  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.training.streams import (
    image_stream,
    stream_errors,
    unreadable_file_error,
)

if TYPE_CHECKING:
    import keras

    from dlworkflow.data.dataset import Part


def _part_inputs(part: Part, image: Mapping[str, Any] | None, batch_size: int | None, *, targets: bool) -> Any:
    return image_stream(part, image, batch_size=batch_size or DEFAULT_BATCH_SIZE, targets=targets)


DEFAULT_BATCH_SIZE = 32
"""Keras' default batch size, also used to stream a part when no batch size is given."""


def evaluate_model(
    model: keras.Model,
    part: Part,
    *,
    batch_size: int | None = None,
    image: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Keras' loss and compiled metrics on one split.

    Args:
        model: A compiled model.
        part: The split, e.g. ``dataset.test``; in memory or streamed.
        batch_size: Rows per step (Keras' default of 32 when None).
        image: ``dataset.image``, how to decode a streamed part's files (needed only for a
            streamed part).

    Returns:
        ``{"loss": ..., <metric>: ...}`` as Python floats.

    Raises:
        DataError: for a streamed part without ``image``, or a file that cannot be read.

    Example:
        >>> evaluate_model(model, dataset.test)  # doctest: +SKIP
        {'loss': 10.3, 'root_mean_squared_error': 3.21}
        >>> evaluate_model(model, dataset.test, image=dataset.image)  # a streamed part  # doctest: +SKIP
    """
    if part.streamed:
        stream = _part_inputs(part, image, batch_size, targets=True)
        try:
            values = model.evaluate(stream, verbose=0, return_dict=True)
        except stream_errors() as err:
            raise unreadable_file_error("<data>", f"parts.{part.name}", err) from err
    else:
        values = model.evaluate(part.x, part.y, batch_size=batch_size, verbose=0, return_dict=True)
    return {str(key): float(value) for key, value in values.items()}


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def predict(
    model: keras.Model,
    part: Part,
    *,
    batch_size: int | None = None,
    image: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """The model's predictions for one split, as float64.

    A single output per row (regression) becomes a 1-D array. Several outputs
    (classification) become an ``(rows, classes)`` array of probabilities: when the rows do
    not already sum to 1 (within 1e-3) or hold negative values, the outputs are taken as
    logits and softmax is applied. Layers that act in training only (Dropout, data
    augmentation) are inactive, so predictions are deterministic.

    Args:
        model: A trained model.
        part: The split, e.g. ``dataset.test``; in memory or streamed (read in file order).
        batch_size: Rows per step (Keras' default when None).
        image: ``dataset.image``, how to decode a streamed part's files (needed only for a
            streamed part).

    Returns:
        ``(rows,)`` predictions or ``(rows, classes)`` probabilities.

    Raises:
        DataError: for a streamed part without ``image``, or a file that cannot be read.

    Example:
        >>> predict(model, dataset.test).shape  # doctest: +SKIP
        (69, 3)
    """
    return _as_predictions(_outputs(model, part, batch_size, image))


def _outputs(model: keras.Model, part: Part, batch_size: int | None, image: Mapping[str, Any] | None) -> Any:
    """The model's raw outputs for a part (logits stay logits), batch by batch."""
    if part.streamed:
        stream = _part_inputs(part, image, batch_size, targets=False)
        try:
            return model.predict(stream, verbose=0)
        except stream_errors() as err:
            raise unreadable_file_error("<data>", f"parts.{part.name}", err) from err
    return model.predict(part.x, batch_size=batch_size, verbose=0)


def _as_predictions(raw: Any) -> np.ndarray:
    """Raw outputs as :func:`predict` returns them: 1-D for one output, else probabilities."""
    output = np.asarray(raw, dtype=np.float64)
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        return output.reshape(-1)
    output = output.reshape(output.shape[0], -1)
    if output.size and ((output < -1e-6).any() or not np.allclose(output.sum(axis=1), 1.0, atol=1e-3)):
        output = _softmax(output)
    return output


def predict_and_evaluate(
    model: keras.Model,
    part: Part,
    *,
    batch_size: int | None = None,
    image: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """A part's predictions and Keras' loss and compiled metrics, from one pass of the model over its rows.

    Keras' values are computed from the raw outputs of :func:`predict`'s pass with the model's own
    compiled loss and metric objects, over all the part's rows at once, instead of a second pass
    of ``model.evaluate`` (on a convolutional network that pass costs as much as the prediction).
    They agree with ``evaluate``'s to float32 rounding (``evaluate`` averages batch means; here the
    mean is taken once). On JAX, whose eager operations compile for every new array shape, the
    values come from one compiled function of one block shape
    (:func:`~dlworkflow.training.jax_scoring.keras_values_on_jax`), so scoring compiles nothing
    per part. For a model that defines its own ``test_step``, ``compute_loss`` or
    ``compute_metrics`` (or, on JAX, one :func:`~dlworkflow.training.jax_scoring.can_score`
    refuses), ``model.evaluate`` runs as before.

    Args:
        model: A compiled, trained model.
        part: The split; in memory or streamed.
        batch_size: Rows per step (Keras' default when None).
        image: ``dataset.image`` for a streamed part.

    Returns:
        ``(predictions, values)``: what :func:`predict` and :func:`evaluate_model` return.

    Raises:
        DataError: for a streamed part without ``image``, or a file that cannot be read.

    Example:
        >>> predictions, values = predict_and_evaluate(model, dataset.test)  # doctest: +SKIP
        >>> predictions.shape, sorted(values)  # doctest: +SKIP
        ((1000, 10), ['accuracy', 'loss'])
    """
    if not _scores_from_outputs(model):
        return (predict(model, part, batch_size=batch_size, image=image),
                evaluate_model(model, part, batch_size=batch_size, image=image))
    raw = _outputs(model, part, batch_size, image)
    if not _scores_on_jax(model, part.y, raw):
        return _as_predictions(raw), evaluate_model(model, part, batch_size=batch_size, image=image)
    return _as_predictions(raw), keras_values(model, part.y, raw)


def _scores_from_outputs(model: keras.Model) -> bool:
    """Whether Keras' values can come from the outputs: Keras' own loss and metric steps."""
    import keras

    if getattr(model, "_loss_tracker", None) is None:
        return False
    kind = type(model)
    return all(getattr(kind, name) is getattr(keras.Model, name)
               for name in ("test_step", "compute_loss", "compute_metrics"))


def _scores_on_jax(model: keras.Model, y: np.ndarray, outputs: Any) -> bool:
    """Off JAX True; on JAX whether the jitted scoring gives evaluate's values (building what it needs)."""
    import keras

    if keras.backend.backend() != "jax":
        return True
    from dlworkflow.training.jax_scoring import can_score

    return can_score(model, y, np.asarray(outputs))


def keras_values(model: keras.Model, y: np.ndarray, outputs: Any) -> dict[str, float]:
    """Keras' loss and compiled metrics of outputs against targets, with the model's own loss and metric objects.

    The loss includes the model's regularization losses, as in ``model.evaluate``. The model's
    metric states are reset before and after. On JAX the values come from
    :func:`~dlworkflow.training.jax_scoring.keras_values_on_jax` (for a model it can score).

    Args:
        model: A compiled model.
        y: The network's targets (``part.y``).
        outputs: The model's raw outputs for the same rows.

    Returns:
        ``{"loss": ..., <metric>: ...}`` as Python floats.

    Example:
        >>> keras_values(model, dataset.test.y, model.predict(dataset.test.x))  # doctest: +SKIP
        {'loss': 10.3, 'root_mean_squared_error': 3.21}
    """
    import keras

    if keras.backend.backend() == "jax":
        from dlworkflow.training.jax_scoring import can_score, keras_values_on_jax

        if can_score(model):
            try:
                return keras_values_on_jax(model, y, outputs)
            finally:
                model.reset_metrics()
    model.reset_metrics()
    try:
        loss = model.compute_loss(x=None, y=y, y_pred=outputs, sample_weight=None, training=False)
        model._loss_tracker.update_state(loss, sample_weight=int(np.shape(y)[0]))
        values = model.compute_metrics(None, y, outputs, None)
        return {str(key): float(value) for key, value in values.items()}
    finally:
        model.reset_metrics()
