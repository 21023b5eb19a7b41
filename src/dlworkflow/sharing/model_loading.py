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
import os
import stat
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dlworkflow.errors import DataError
from dlworkflow.output_files import file_kind

CONFIG_FILE = "config.json"
"""The architecture inside a ``.keras`` file."""

METADATA_FILE = "metadata.json"
"""Keras' version and date inside a ``.keras`` file."""

MAX_CONFIG_BYTES = 32 << 20
"""The largest ``config.json`` read (32 MiB; the lesson's weather model writes under 3 KiB)."""

MAX_METADATA_BYTES = 1 << 20
"""The largest ``metadata.json`` accepted (1 MiB; Keras writes under 100 bytes)."""

MAX_MEMBERS = 1000
"""The most members a ``.keras`` zip may hold (Keras writes three, plus any assets)."""

MAX_MODEL_BYTES = 16 << 30
"""The largest total uncompressed size of a ``.keras`` zip's members (16 GiB, 4 billion float32 weights)."""

BOMB_FLOOR_BYTES = 16 << 20
"""Members above this size (16 MiB) may expand at most :data:`MAX_EXPANSION` times their stored size."""

MAX_EXPANSION = 100
"""Uncompressed to stored size ratio beyond which a large member is a decompression bomb."""

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
    """The architecture of a ``.keras`` file as plain JSON, read without Keras, after its members are checked.

    Args:
        path: The ``.keras`` file.

    Returns:
        The parsed ``config.json``.

    Raises:
        DataError: when the file is missing or not a regular file, not a zip, its members
            break the bounds of :func:`check_archive`, or it holds no readable ``config.json``.

    Example:
        >>> read_config("bundle/model.keras")["class_name"]  # doctest: +SKIP
        'Sequential'
    """
    where = str(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise DataError.single(where, "", f"is {file_kind(mode)}, not a model file",
                                   hint="Give the model.keras file `dlw export` wrote.")
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, where)
            return json.loads(archive.read(CONFIG_FILE))
    except FileNotFoundError as err:
        raise DataError.single(where, "", "model file not found", hint="Export the run again.") from err
    except RecursionError as err:
        raise DataError.single(where, CONFIG_FILE, "is nested too deeply to be a model's architecture",
                               hint="A .keras file is a zip holding config.json; export the run again.") from err
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        raise DataError.single(
            where, "", f"not a readable Keras model file ({type(err).__name__}: {err})",
            hint="A .keras file is a zip holding config.json; export the run again or get an intact copy.",
        ) from err


def check_archive(archive: zipfile.ZipFile, where: str) -> None:
    """Refuse a ``.keras`` zip whose members are not what Keras writes, before anything is read from it.

    Only the zip's directory is read: member names (plain relative paths, no ``..``, no
    duplicates, no links, at most :data:`MAX_MEMBERS`), ``config.json`` and
    ``metadata.json`` sizes (:data:`MAX_CONFIG_BYTES`, :data:`MAX_METADATA_BYTES`), the
    total uncompressed size (:data:`MAX_MODEL_BYTES`) and, for members over
    :data:`BOMB_FLOOR_BYTES`, the ratio of uncompressed to stored size (:data:`MAX_EXPANSION`).

    Args:
        archive: The open zip.
        where: The file, for messages.

    Raises:
        DataError: naming each member that breaks a bound, with its declared size.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> with zipfile.ZipFile(buffer, "w") as archive:
        ...     archive.writestr("config.json", "{}")
        ...     archive.writestr("../evil.h5", "")
        >>> check_archive(zipfile.ZipFile(buffer), "model.keras")
        Traceback (most recent call last):
        ...
        dlworkflow.errors.DataError: model.keras: members: refused: '../evil.h5' is not a plain name inside the file. ...
    """
    infos = archive.infolist()
    refused = []
    if len(infos) > MAX_MEMBERS:
        refused.append(f"it holds {len(infos)} members (at most {MAX_MEMBERS})")
    names = [info.filename for info in infos]
    for info in infos[:MAX_MEMBERS]:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            refused.append(f"{name!r} is not a plain name inside the file")
        elif stat.S_ISLNK(info.external_attr >> 16):
            refused.append(f"{name!r} is a symbolic link")
        limit = {CONFIG_FILE: MAX_CONFIG_BYTES, METADATA_FILE: MAX_METADATA_BYTES}.get(name)
        if limit is not None and info.file_size > limit:
            refused.append(f"{name!r} declares {_size(info.file_size)} (at most {_size(limit)})")
        elif info.file_size > BOMB_FLOOR_BYTES and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
            refused.append(f"{name!r} declares {_size(info.file_size)} but stores {_size(info.compress_size)} "
                           f"(a decompression bomb)")
    duplicated = sorted({name for name in names if names.count(name) > 1}) if len(names) <= MAX_MEMBERS else []
    refused += [f"{name!r} appears more than once" for name in duplicated]
    total = sum(info.file_size for info in infos)
    if total > MAX_MODEL_BYTES:
        refused.append(f"its members declare {_size(total)} in all (at most {_size(MAX_MODEL_BYTES)})")
    if refused:
        raise DataError.single(
            where, "members", "refused: " + "; ".join(refused[:5]),
            hint="dlw export writes config.json, metadata.json and model.weights.h5 of sane sizes; this file was "
            "not written so (or was damaged): do not load it, export the run again.",
        )


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


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
        DataError: naming each ``Lambda`` layer (or serialized lambda) and explaining safe mode;
            for a file whose zip members break the bounds of :func:`check_archive`.

    Example:
        >>> check_safe("bundle/model.keras")  # doctest: +SKIP
    """
    config = read_config(path)
    try:
        unsafe = unsafe_layers(config)
    except RecursionError as err:
        raise DataError.single(str(path), CONFIG_FILE, "is nested too deeply to be a model's architecture",
                               hint="Export the run again.") from err
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
        backend_mismatch,
        is_installed,
    )

    keras_module = sys.modules.get("keras")
    if keras_module is not None:
        actual = keras_module.backend.backend()
        if name and actual != name:
            backend_mismatch(name)
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
