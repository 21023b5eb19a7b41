"""A run's Keras model converted to ONNX or a TensorFlow SavedModel, in a child process.

``dlw export RUN DIR --format onnx`` writes ``model.onnx`` in place of ``model.keras``;
``--format savedmodel`` a ``saved_model/`` folder. Both come from Keras' own
``model.export(path, format="onnx" | "tf_saved_model")``, which needs the TensorFlow backend
(ONNX through ``tf2onnx``). The conversion therefore runs in a child process started with
``KERAS_BACKEND=tensorflow``: it works whatever backend the run trained with (the weights of
a ``.keras`` file are the same for every backend) and whatever backend Keras already has in
the calling process (a notebook, a test). The model is loaded in Keras' safe mode, after
:func:`~dlworkflow.sharing.model_loading.check_safe`, as ``dlw predict`` loads it.

ONNX needs the ``onnx`` extra (``pip install "dlworkflow[onnx]"``: onnx, onnxruntime, tf2onnx);
a missing package is one error naming that command, before any work.

Example:
    >>> convert_model("runs/r1/model.keras", "bundle/model.onnx", "onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from dlworkflow.errors import RegistryError

MODEL_FORMATS = ("keras", "onnx", "savedmodel")
"""The formats ``dlw export --format`` writes: Keras' zip, ONNX, a TensorFlow SavedModel folder."""

ONNX_EXTRA = 'pip install "dlworkflow[onnx]"'
"""How to install what ONNX export and prediction need."""

CONVERTER_PACKAGES = {"onnx": ("tf2onnx", "onnx", "tensorflow"), "savedmodel": ("tensorflow",)}
"""The packages each converted format needs in the exporting process."""

KERAS_EXPORT_FORMATS = {"onnx": "onnx", "savedmodel": "tf_saved_model"}
"""Our format names → ``keras.Model.export``'s ``format``."""

CONVERSION_TIMEOUT_SECONDS = 1800
"""The longest a conversion may take (a large convolutional network converts in under a minute)."""


def check_converter(model_format: str) -> None:
    """Refuse a format whose converter is not installed, naming the command that installs it.

    Args:
        model_format: One of :data:`MODEL_FORMATS`.

    Raises:
        RegistryError: for an unknown format, or when a package the format needs is missing.

    Example:
        >>> check_converter("keras")
        >>> check_converter("tflite")
        Traceback (most recent call last):
        ...
        dlworkflow.errors.RegistryError: --format: must be one of 'keras', 'onnx', 'savedmodel'; got 'tflite'...
    """
    if model_format not in MODEL_FORMATS:
        raise RegistryError.single(
            "--format", "", f"must be one of {', '.join(map(repr, MODEL_FORMATS))}", got=model_format,
            hint="Use --format onnx for onnxruntime (no Python deep-learning framework), savedmodel for TensorFlow "
            "Serving, keras (the default) for dlw predict with Keras.",
        )
    missing = [name for name in CONVERTER_PACKAGES.get(model_format, ()) if importlib.util.find_spec(name) is None]
    if missing:
        install = ONNX_EXTRA if model_format == "onnx" else "pip install tensorflow-cpu"
        raise RegistryError.single(
            "--format", "", f"exporting to {model_format} needs {', '.join(missing)}, which is not installed",
            hint=f"Install it with `{install}`, or export with --format keras.",
        )


def convert_model(model_path: str | Path, target: str | Path, model_format: str) -> Path:
    """Convert a ``.keras`` model to ONNX or a SavedModel, in a child process with the TensorFlow backend.

    Args:
        model_path: The run's ``model.keras``.
        target: The file (``model.onnx``) or folder (``saved_model``) to write; must not exist.
        model_format: ``onnx`` or ``savedmodel``.

    Returns:
        ``target``.

    Raises:
        RegistryError: when the converter is missing (:func:`check_converter`) or the conversion
            fails (the child's last lines of error output quoted).
        DataError: when the model holds Python code (a ``Lambda`` layer), refused before loading.

    Example:
        >>> convert_model("runs/r1/model.keras", "bundle/model.onnx", "onnx")  # doctest: +SKIP
        PosixPath('bundle/model.onnx')
    """
    from dlworkflow.sharing.model_loading import check_safe

    check_converter(model_format)
    check_safe(model_path)
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", __name__, str(model_path), str(target), model_format]
    try:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True,
                                  timeout=CONVERSION_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RegistryError.single(str(model_path), "", f"the {model_format} conversion did not run ({err})",
                                   hint="Export with --format keras, or try again.") from err
    if finished.returncode != 0 or not Path(target).exists():
        lines = [line for line in finished.stderr.splitlines() if line.strip() and not line.startswith(("I0000", "W0000"))]
        raise RegistryError.single(
            str(model_path), "", f"Keras could not convert the model to {model_format}: " + " | ".join(lines[-3:]),
            hint="Some layers have no ONNX or SavedModel form; export with --format keras and predict with dlw predict.",
        )
    return Path(target)


def _convert_here(model_path: str, target: str, model_format: str) -> None:
    """The child's work: load in safe mode, call once (Keras exports only a called model), export."""
    import warnings

    import keras
    import numpy as np

    warnings.filterwarnings("ignore")
    model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    samples = [np.zeros([1 if size is None else size for size in tensor.shape], dtype=tensor.dtype)
               for tensor in model.inputs]
    model(samples[0] if len(samples) == 1 else samples)
    model.export(target, format=KERAS_EXPORT_FORMATS[model_format], verbose=False)


if __name__ == "__main__":  # pragma: no cover - run by convert_model in a child process
    _convert_here(*sys.argv[1:4])
