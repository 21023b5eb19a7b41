"""Predictions of a SavedModel bundle through TensorFlow's serving signature, without Keras.

A SavedModel bundle (``dlw export RUN DIR --format savedmodel``) holds the ``saved_model/``
folder Keras' ``model.export(path, format="tf_saved_model")`` writes, beside the same
``preprocessing.json`` as a Keras bundle. TensorFlow Serving, TensorFlow.js or LiteRT
converters read that folder as it is; ``dlw predict DIR`` prepares the input with the saved
preprocessing and calls the model's ``serve`` endpoint (the ``serving_default`` signature)
with ``tf.saved_model.load``, in batches of 32 rows as Keras' ``predict`` does. The outputs
become predictions by the same rule as a run's own; they match the Keras model's within
:data:`~dlworkflow.sharing.onnx_prediction.TOLERANCE`.

A SavedModel is a TensorFlow program: load bundles you trust (the manifest's sha256 says a
file is intact, not who wrote it).

Example:
    >>> predict_saved_model("shared/weather_tf/saved_model", part).shape  # doctest: +SKIP
    (5,)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import DataError
from dlworkflow.sharing.onnx_prediction import outputs_to_predictions

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Part

BATCH_SIZE = 32
"""Rows per call of the serving endpoint (Keras' default batch size)."""

ENDPOINT = "serve"
"""The endpoint Keras' ``model.export`` writes (its ``serving_default`` signature)."""


def load_saved_model(folder: str | Path) -> Any:
    """The SavedModel of a bundle, loaded with TensorFlow (no Keras), with its serving endpoint.

    Args:
        folder: The bundle's ``saved_model`` folder.

    Returns:
        The loaded object; ``loaded.serve(inputs)`` predicts.

    Raises:
        DataError: when TensorFlow cannot load the folder, or it has no ``serve`` endpoint.

    Example:
        >>> load_saved_model("shared/weather_tf/saved_model").serve  # doctest: +SKIP
        <tensorflow.python.saved_model.load._WrapperFunction ...>
    """
    from dlworkflow.training.streams import import_tensorflow

    tf = import_tensorflow()
    where = str(folder)
    try:
        loaded = tf.saved_model.load(where)
    except (OSError, ValueError, RuntimeError, tf.errors.OpError) as err:
        raise DataError.single(where, "", f"TensorFlow cannot load the SavedModel ({type(err).__name__}: {err})"[:400],
                               hint="Get an intact copy of the bundle, or export the run again.") from err
    if not hasattr(loaded, ENDPOINT):
        raise DataError.single(where, "", f"the SavedModel has no {ENDPOINT!r} endpoint (not written by dlw export)",
                               hint="Export the run again with dlw export RUN DIR --format savedmodel.")
    return loaded


def predict_saved_model(
    loaded: Any, part: Part, image: Mapping[str, Any] | None = None, *, where: str = "saved_model"
) -> np.ndarray:
    """The SavedModel's predictions for a part, as a run computes its own from Keras.

    Args:
        loaded: From :func:`load_saved_model`.
        part: From :func:`dlworkflow.sharing.prediction.new_input`: in memory, or image files
            streamed (decoded with TensorFlow as training read them).
        image: The saved image settings (a streamed part).
        where: The folder, for messages.

    Returns:
        ``(rows,)`` values or ``(rows, classes)`` probabilities, float64 (the network's outputs:
        a scaled target is put back by the caller).

    Raises:
        DataError: when the input does not fit the model.

    Example:
        >>> predict_saved_model(load_saved_model("bundle/saved_model"), part).shape  # doctest: +SKIP
        (5,)
    """
    from dlworkflow.training.streams import import_tensorflow

    tf = import_tensorflow()
    if part.x is not None:
        inputs = np.ascontiguousarray(part.x, dtype=np.float32)
        batches: Any = (inputs[start:start + BATCH_SIZE] for start in range(0, len(inputs), BATCH_SIZE))
    else:
        from dlworkflow.training.streams import image_stream

        batches = image_stream(part, image, batch_size=BATCH_SIZE, targets=False)
    try:
        outputs = [np.asarray(getattr(loaded, ENDPOINT)(tf.convert_to_tensor(batch))) for batch in batches]
    except (ValueError, TypeError, tf.errors.OpError) as err:
        raise DataError.single(where, "", f"the SavedModel refused the input ({type(err).__name__}: {err})"[:400],
                               hint="The input must be prepared by the bundle's preprocessing.json; export again.") from err
    raw = np.concatenate(outputs) if outputs else np.zeros((0, 1))
    return outputs_to_predictions(np.asarray(raw, dtype=np.float64))
