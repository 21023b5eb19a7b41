"""Evaluate and predict with a trained model on one split, in memory or streamed from image files.

Example:
    >>> evaluate_model(model, dataset.test)  # doctest: +SKIP
    {'loss': 10.3, 'root_mean_squared_error': 3.21}
    >>> predict(model, dataset.test).shape  # doctest: +SKIP
    (165,)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.training.streams import image_stream, stream_errors, unreadable_file_error

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
    if part.streamed:
        stream = _part_inputs(part, image, batch_size, targets=False)
        try:
            raw = model.predict(stream, verbose=0)
        except stream_errors() as err:
            raise unreadable_file_error("<data>", f"parts.{part.name}", err) from err
    else:
        raw = model.predict(part.x, batch_size=batch_size, verbose=0)
    output = np.asarray(raw, dtype=np.float64)
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        return output.reshape(-1)
    output = output.reshape(output.shape[0], -1)
    if output.size and ((output < -1e-6).any() or not np.allclose(output.sum(axis=1), 1.0, atol=1e-3)):
        output = _softmax(output)
    return output
