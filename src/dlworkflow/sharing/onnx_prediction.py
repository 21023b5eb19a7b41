"""Predictions of an ONNX bundle through onnxruntime: no Keras, no TensorFlow, no JAX imported.

An ONNX bundle (``dlw export RUN DIR --format onnx``) holds ``model.onnx`` beside the same
``preprocessing.json`` as a Keras bundle. ``dlw predict DIR`` prepares the input with that
saved preprocessing (the data layer: pandas and NumPy) and runs the network with
onnxruntime, in batches of 32 rows as Keras' ``predict`` does; the outputs become
predictions by the same rule as a run's own (one output: the value; several: probabilities,
softmax applied to logits). The predictions match the Keras model's within
:data:`TOLERANCE` (float32 arithmetic in another order).

Example:
    >>> predict_onnx("shared/weather_onnx/model.onnx", part).shape  # doctest: +SKIP
    (5,)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import DataError
from dlworkflow.sharing.onnx_export import ONNX_EXTRA

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Part

TOLERANCE = 1e-4
"""The largest difference between an ONNX bundle's prediction and the Keras model's, tested."""

BATCH_SIZE = 32
"""Rows per onnxruntime call (Keras' default batch size)."""


def onnx_session(model_path: str | Path) -> Any:
    """An onnxruntime session of ``model.onnx`` on the CPU.

    Args:
        model_path: The ONNX file.

    Returns:
        An ``onnxruntime.InferenceSession``.

    Raises:
        DataError: when onnxruntime is not installed (naming ``pip install "dlworkflow[onnx]"``)
            or the file is not a model onnxruntime can load.

    Example:
        >>> onnx_session("shared/weather_onnx/model.onnx").get_inputs()[0].shape  # doctest: +SKIP
        ['unk__6', 89]
    """
    where = str(model_path)
    if importlib.util.find_spec("onnxruntime") is None:
        raise DataError.single(where, "", "predicting with an ONNX bundle needs onnxruntime, which is not installed",
                               hint=f"Install it with `{ONNX_EXTRA}`, or export the run with --format keras.")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    try:
        return onnxruntime.InferenceSession(where, sess_options=options, providers=["CPUExecutionProvider"])
    except _onnxruntime_errors() as err:
        raise DataError.single(where, "", f"onnxruntime cannot load the model ({type(err).__name__}: {err})"[:400],
                               hint="Get an intact copy of the bundle, or export the run again.") from err


def _onnxruntime_errors() -> tuple[type[BaseException], ...]:
    """The exceptions onnxruntime raises for a bad model or input (its own types, not RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile", "NotImplemented",
             "RuntimeException")
    return (RuntimeError, ValueError, OSError, *(getattr(state, name) for name in names if hasattr(state, name)))


def predict_onnx(model_path: str | Path, part: Part, session: Any = None) -> np.ndarray:
    """The ONNX model's predictions for a part in memory, as a run computes its own from Keras.

    Args:
        model_path: The bundle's ``model.onnx``.
        part: From :func:`dlworkflow.sharing.prediction.new_input` (not streamed).
        session: An :func:`onnx_session` of ``model_path`` already open, or None.

    Returns:
        ``(rows,)`` values or ``(rows, classes)`` probabilities, float64 (the network's outputs:
        a scaled target is put back by the caller).

    Raises:
        DataError: when onnxruntime is missing, the part is streamed image files (a model
            trained on an image folder decodes them with TensorFlow: use a Keras bundle), or
            the input does not fit the model.

    Example:
        >>> predict_onnx("shared/weather_onnx/model.onnx", part).shape  # doctest: +SKIP
        (5,)
    """
    if part.x is None:
        raise DataError.single(
            str(model_path), "", "a model trained on a folder of image files reads new files with TensorFlow's "
            "decoder, which an ONNX bundle does not carry",
            hint="Export the run with --format keras and predict with that bundle.",
        )
    session = session if session is not None else onnx_session(model_path)
    name = session.get_inputs()[0].name
    inputs = np.ascontiguousarray(part.x, dtype=np.float32)
    try:
        batches = [session.run(None, {name: inputs[start:start + BATCH_SIZE]})[0]
                   for start in range(0, len(inputs), BATCH_SIZE)]
    except _onnxruntime_errors() as err:
        raise DataError.single(str(model_path), "", f"onnxruntime refused the input ({err})"[:400],
                               hint="The input must be prepared by the bundle's preprocessing.json; export again.") from err
    raw = np.concatenate(batches) if batches else np.zeros((0, *session.get_outputs()[0].shape[1:]))
    return outputs_to_predictions(np.asarray(raw, dtype=np.float64))


def outputs_to_predictions(output: np.ndarray) -> np.ndarray:
    """A network's raw outputs as predictions, by the rule of :func:`dlworkflow.training.prediction.predict`.

    One output per row becomes a 1-D array; several become ``(rows, classes)`` probabilities,
    softmax applied when the rows do not already sum to 1 (within 1e-3) or hold negative values.

    Args:
        output: The raw outputs, float64.

    Returns:
        The predictions.

    Example:
        >>> outputs_to_predictions(np.array([[0.0, 0.0]])).tolist()
        [[0.5, 0.5]]
        >>> outputs_to_predictions(np.array([[1.5], [2.0]])).tolist()
        [1.5, 2.0]
    """
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        return output.reshape(-1)
    output = output.reshape(output.shape[0], -1)
    if output.size and ((output < -1e-6).any() or not np.allclose(output.sum(axis=1), 1.0, atol=1e-3)):
        shifted = output - output.max(axis=1, keepdims=True)
        exponentials = np.exp(shifted)
        output = exponentials / exponentials.sum(axis=1, keepdims=True)
    return output
