"""Load a shared model safely: the backend it was trained with, Keras' safe mode, no code from the file.

A ``.keras`` file is a zip of ``config.json`` (the architecture), ``metadata.json`` and the
weights. Loading it runs no code of the file's author, with one exception: a ``Lambda``
layer stores the bytecode of a Python function, which loading would run. Keras' safe mode
(``keras.saving.load_model(path, safe_mode=True)``) refuses such a function; this module
refuses a ``Lambda`` layer before Keras is even imported, by reading ``config.json`` as
plain JSON (:func:`unsafe_layers`), and explains what to do.

The backend is chosen before Keras is imported (:func:`activate_saved_backend`): the one
the run trained with, so that predictions match the run's own to the last bit.

Example:
    >>> activate_saved_backend("jax", where="bundle/bundle.json")  # doctest: +SKIP
    'jax'
    >>> model = load_model_safely("bundle/model.keras")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dlworkflow.errors import DataError

CONFIG_FILE = "config.json"
"""The architecture inside a ``.keras`` file."""

UNSAFE_LAYERS = ("Lambda",)
"""Layer classes that carry arbitrary Python code and are refused."""

LAMBDA_FUNCTION = "__lambda__"
"""How Keras serializes a Python lambda anywhere in a config (a layer, an activation)."""

SAFE_MODE_HINT = (
    "Keras' safe mode refuses to load Python code stored in a model file, since loading it would run "
    "code from whoever wrote the file. Rebuild the model without a Lambda layer (use Keras layers, or a "
    "registered subclass of keras.layers.Layer), train and export it again. If you wrote this model yourself "
    "and trust the file, load it in Python with keras.saving.load_model(path, safe_mode=False)."
)


def _walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def read_config(path: str | Path) -> dict[str, Any]:
    """The architecture of a ``.keras`` file as plain JSON, read without Keras.

    Args:
        path: The ``.keras`` file.

    Returns:
        The parsed ``config.json``.

    Raises:
        DataError: when the file is missing, not a zip, or holds no readable ``config.json``.

    Example:
        >>> read_config("bundle/model.keras")["class_name"]  # doctest: +SKIP
        'Sequential'
    """
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(CONFIG_FILE))
    except FileNotFoundError as err:
        raise DataError.single(where, "", "model file not found", hint="Export the run again.") from err
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        raise DataError.single(
            where, "", f"not a readable Keras model file ({type(err).__name__}: {err})",
            hint="A .keras file is a zip holding config.json; export the run again or get an intact copy.",
        ) from err


def unsafe_layers(config: dict[str, Any]) -> list[str]:
    """The layers of a model config that carry Python code: ``Lambda`` layers and serialized lambdas.

    Args:
        config: A parsed ``config.json`` (:func:`read_config`).

    Returns:
        Their names with where they sit, e.g. ``["layer 'scale' (Lambda) at config.layers[1]"]``;
        empty for a safe model.

    Example:
        >>> unsafe_layers({"class_name": "Sequential", "config": {"layers": []}})
        []
    """
    found = []
    for path, node in _walk(config, "config"):
        class_name = node.get("class_name")
        if class_name in UNSAFE_LAYERS:
            name = (node.get("config") or {}).get("name") or node.get("name")
            found.append(f"layer {name!r} ({class_name}) at {path}")
        elif class_name == LAMBDA_FUNCTION:
            found.append(f"a Python lambda at {path}")
    return found


def check_safe(path: str | Path) -> None:
    """Refuse a model file whose architecture carries Python code, before Keras is imported.

    Args:
        path: The ``.keras`` file.

    Raises:
        DataError: naming each ``Lambda`` layer (or serialized lambda) and explaining safe mode.

    Example:
        >>> check_safe("bundle/model.keras")  # doctest: +SKIP
    """
    unsafe = unsafe_layers(read_config(path))
    if unsafe:
        raise DataError.single(
            str(path), "", "refused: the model holds Python code, which loading would run: " + "; ".join(unsafe[:5]),
            hint=SAFE_MODE_HINT,
        )


def activate_saved_backend(name: str | None, *, where: str) -> str:
    """Make Keras use the backend a model was trained with, before Keras is imported.

    When that backend is not installed, the first installed one is used with a
    :class:`~dlworkflow.training.backend.BackendWarning`; when Keras is already imported (a
    notebook, a test process) its backend stays, with a warning if it differs. Either way the
    predictions may then differ from the run's in the last digits.

    Args:
        name: The run's backend (``jax``, ``tensorflow``, ``torch``), or None when unknown.
        where: The bundle or run, for messages.

    Returns:
        The backend Keras uses.

    Raises:
        SpecError: when no Keras backend is installed at all.

    Example:
        >>> activate_saved_backend("jax", where="bundle/bundle.json")  # doctest: +SKIP
        'jax'
    """
    from dlworkflow.training.backend import (
        BACKENDS,
        BackendWarning,
        activate_backend,
        is_installed,
    )

    keras_module = sys.modules.get("keras")
    if keras_module is not None:
        actual = keras_module.backend.backend()
        if name and actual != name:
            warnings.warn(BackendWarning(
                f"{where}: the model was trained with the {name!r} backend, but Keras is already imported in "
                f"this process with {actual!r}; predictions may differ from the run's in the last digits. "
                f"Predict in a fresh process (dlw predict) to use {name!r}."
            ), stacklevel=2)
        return actual
    chosen = name if name in BACKENDS and is_installed(name) else None
    if chosen is None:
        chosen = next((backend for backend in BACKENDS if is_installed(backend)), BACKENDS[0])
        if name:
            warnings.warn(BackendWarning(
                f"{where}: the model was trained with the {name!r} backend, which is not installed; "
                f"predicting with {chosen!r}, so predictions may differ from the run's in the last digits."
            ), stacklevel=2)
    return activate_backend(chosen, source=where)


def load_model_safely(path: str | Path) -> Any:
    """Load a ``.keras`` model with Keras' safe mode on, refusing one that holds Python code.

    Call :func:`activate_saved_backend` first. The model is loaded uncompiled (predicting
    needs no optimizer, loss or metrics). On a backend other than TensorFlow, TensorFlow is
    left unimported.

    Args:
        path: The ``.keras`` file.

    Returns:
        The Keras model.

    Raises:
        DataError: for a ``Lambda`` layer or other Python code (explaining safe mode), or a
            file Keras cannot load (e.g. a custom layer class that is not registered).

    Example:
        >>> model = load_model_safely("bundle/model.keras")  # doctest: +SKIP
    """
    check_safe(path)
    import keras

    from dlworkflow.training.tensorflow_guard import tensorflow_left_unimported

    try:
        with tensorflow_left_unimported():
            return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError) as err:
        message = " ".join(str(err).split())[:400]
        if "safe_mode" in message or "arbitrary code" in message:
            raise DataError.single(
                str(path), "", f"refused by Keras' safe mode: {message}", hint=SAFE_MODE_HINT
            ) from err
        raise DataError.single(
            str(path), "", f"Keras cannot load the model ({type(err).__name__}: {message})",
            hint="A model built from custom layer classes needs them registered "
            "(keras.saving.register_keras_serializable) and imported before loading; "
            "otherwise export the run again with the same Keras version.",
        ) from err
