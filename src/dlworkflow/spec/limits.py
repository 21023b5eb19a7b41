"""Bounds on what a spec may ask for, each checked before any work: file size and kind, nesting, layers, code.

A spec file is read only when it is a regular file of at most :data:`MAX_SPEC_BYTES` (a device such
as ``/dev/zero`` or a FIFO is refused before it is opened, so nothing hangs or reads gigabytes); its
tables and lists may nest at most :data:`MAX_NESTING` deep; a model has at most :data:`MAX_LAYERS`
layers; the layers in :data:`REFUSED_LAYERS` (they load files or wrap Python code) are refused; and
``model.builder_args`` hold plain values only (numbers, strings, booleans, lists and tables of them).

Example:
    >>> nesting_depth({"a": [[1, 2], {"b": 3}]})
    3
    >>> loop = {}
    >>> loop["self"] = loop
    >>> nesting_depth(loop, limit=32)
    33
    >>> plain_value_problem({"units": 3, "names": ["a", "b"]}) is None
    True
    >>> plain_value_problem({"f": print})
    ('f', 'builtin_function_or_method')
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlworkflow.errors import suggestion
from dlworkflow.output_files import file_kind
from dlworkflow.spec.registries import spec_problem
from dlworkflow.user_code import FOREIGN_MODULE_HINT, foreign_module_problem

MAX_SPEC_BYTES = 1024 * 1024
"""The largest spec file read (1 MiB); real specs are a few kilobytes."""

MAX_NESTING = 32
"""How deep tables and lists may nest in a spec (``a = [[[...]]]`` counts 3)."""

MAX_LAYERS = 1000
"""The most ``[[model.layers]]`` entries a spec may give."""

REFUSED_LAYERS = {
    "TFSMLayer": "loads a TensorFlow SavedModel (files and code) from disk",
    "Lambda": "runs a Python function",
    "TorchModuleWrapper": "wraps a PyTorch module (Python code)",
    "JaxLayer": "wraps a JAX function (Python code)",
    "FlaxLayer": "wraps a Flax module (Python code)",
}
"""Keras layers a spec may not name, and why: each loads files or runs code a TOML file cannot hold safely."""

MAX_IMAGE_SIDE = 16384
"""The largest ``data.image_size`` side; every image is resized in memory to that size."""

PLAIN_TYPES = (bool, int, float, str)


def refused_layer_reason(layer_type: str) -> str | None:
    """Why a spec may not name this Keras layer, or None when it may.

    Args:
        layer_type: A ``keras.layers`` class name.

    Returns:
        The reason, e.g. ``"runs a Python function"`` for ``Lambda``; None for ``Dense``.

    Example:
        >>> refused_layer_reason("Dense") is None, refused_layer_reason("TFSMLayer")
        (True, 'loads a TensorFlow SavedModel (files and code) from disk')
    """
    return REFUSED_LAYERS.get(layer_type)


def refuse_layer(layer_type: str) -> str:
    """A spec validator: the layer type unchanged, or a spec problem for a refused layer (:data:`REFUSED_LAYERS`).

    Example:
        >>> refuse_layer("Dense")
        'Dense'
    """
    reason = refused_layer_reason(layer_type)
    if reason:
        raise spec_problem(f"keras.layers.{layer_type} is refused in a spec: it {reason}", layer_type,
                           "Use built-in layers, or write a model.builder function in a module beside the spec.")
    return layer_type


def check_image_side(size: tuple[int, int] | None) -> tuple[int, int] | None:
    """A spec validator: ``data.image_size`` sides of at most :data:`MAX_IMAGE_SIDE` pixels.

    Example:
        >>> check_image_side((224, 224))
        (224, 224)
    """
    if size is not None and max(size) > MAX_IMAGE_SIDE:
        raise spec_problem(f"each side must be at most {MAX_IMAGE_SIDE} pixels", list(size),
                           "Resize to the size the network takes, e.g. image_size = [224, 224].")
    return size


def check_activation_name(layer: Any) -> Any:
    """A spec validator (after a layer is read): ``activation``, when given, is a name such as ``'relu'``.

    A table would be a Keras serialization config; a spec names activations (which Keras then checks).

    Example:
        >>> from types import SimpleNamespace
        >>> check_activation_name(SimpleNamespace(model_extra={"activation": "relu"})).model_extra
        {'activation': 'relu'}
    """
    activation = (layer.model_extra or {}).get("activation")
    if activation is not None and not isinstance(activation, str):
        raise spec_problem("activation must be the name of a Keras activation", activation,
                           "Write it as a string, e.g. activation = 'relu'.")
    return layer


def check_layer_count(layers: Any) -> Any:
    """A spec validator (before the layers are read): at most :data:`MAX_LAYERS` layers.

    Example:
        >>> check_layer_count([{"type": "Dense"}])
        [{'type': 'Dense'}]
    """
    if isinstance(layers, (list, tuple)) and len(layers) > MAX_LAYERS:
        raise spec_problem(f"must hold at most {MAX_LAYERS} layers", f"{len(layers)} layers",
                           f"Use {MAX_LAYERS} layers or fewer (or a model.builder function for a larger network).")
    return layers


def check_users_own_code(reference: str | None) -> str | None:
    """A spec validator: a ``module:attribute`` reference that does not name the standard library or dlworkflow's.

    Nothing is imported (see :func:`dlworkflow.user_code.foreign_module_problem`).

    Example:
        >>> check_users_own_code("my_models:build")
        'my_models:build'
    """
    problem = foreign_module_problem(reference) if reference is not None else None
    if problem:
        raise spec_problem(problem, reference, FOREIGN_MODULE_HINT)
    return reference


def check_plain_values(arguments: dict[str, Any]) -> dict[str, Any]:
    """A spec validator: ``model.builder_args`` hold plain values only (see :func:`plain_value_problem`).

    Example:
        >>> check_plain_values({"hidden": [8, 4]})
        {'hidden': [8, 4]}
    """
    problem = plain_value_problem(arguments)
    if problem is not None:
        where, kind = problem
        raise spec_problem(
            f"must hold plain values (numbers, strings, booleans, lists and tables of them); {where or 'a value'} "
            f"is {kind}", kind, "Pass plain values; build anything else inside the builder function.",
        )
    return arguments


def nesting_depth(node: Any, limit: int | None = None) -> int:
    """How deep tables and lists nest in a raw document (a scalar is 0), without recursion.

    Args:
        node: A raw document or value.
        limit: Stop as soon as the depth passes this (so that a dict holding itself, from the Python API, ends).

    Returns:
        The depth: 1 for ``{"a": 1}``, 2 for ``{"a": [1]}``; ``limit + 1`` when it passes ``limit``.

    Example:
        >>> nesting_depth(5), nesting_depth({"a": 1}), nesting_depth({"a": [1]})
        (0, 1, 2)
    """
    deepest = 0
    stack = [(node, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children = list(value.values())
        elif isinstance(value, (list, tuple)):
            children = list(value)
        else:
            continue
        deepest = max(deepest, depth)
        if limit is not None and deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def plain_value_problem(value: Any, location: str = "") -> tuple[str, str] | None:
    """The first value that is not plain (number, string, boolean, list or string-keyed table of them).

    Args:
        value: A value, e.g. ``model.builder_args``.
        location: Its dotted location so far (for the answer).

    Returns:
        ``(location, type name)`` of the first value that is not plain, or None when all are.

    Example:
        >>> plain_value_problem({"layers": [1, 2], "name": "x"}) is None
        True
        >>> plain_value_problem({"when": {"t": object()}})
        ('when.t', 'object')
    """
    stack: list[tuple[str, Any]] = [(location, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, PLAIN_TYPES):
            continue
        if isinstance(item, Mapping):
            for key, child in reversed(list(item.items())):
                if not isinstance(key, str):
                    return where, f"a table key {type(key).__name__}"
                stack.append((f"{where}.{key}" if where else key, child))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{index}]", child) for index, child in reversed(list(enumerate(item))))
        else:
            return where, type(item).__name__
    return None


def file_kind_problem(path: str | Path) -> str | None:
    """What a path is when it is not a regular file (a folder, a device, a FIFO, a socket), from ``stat`` alone.

    Nothing is opened: a FIFO would block and ``/dev/zero`` never ends.

    Args:
        path: The path to check.

    Returns:
        What it is in words, as :func:`~dlworkflow.output_files.file_kind` says it (``"a folder"``,
        ``"a character device"``, ``"a FIFO (named pipe)"``, …); None for a regular file, or when the path
        does not exist (the caller's own check says so).

    Example:
        >>> file_kind_problem("/dev/null"), file_kind_problem("/tmp")
        ('a character device', 'a folder')
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else file_kind(mode)



def check_target_scaling_task(value: str, info: Any) -> str:
    """A spec validator of ``data.target_scaling``: a target scaling needs a regression (``data.task`` is read first).

    A task left at ``auto`` and found to be a classification is refused by the data layer.

    Example:
        >>> from types import SimpleNamespace
        >>> check_target_scaling_task("standardize", SimpleNamespace(data={"task": "regression"}))
        'standardize'
    """
    if value != "none" and info.data.get("task") == "classification":
        raise spec_problem("applies to a regression target only, and data.task is 'classification'", value,
                           "Remove target_scaling from [data] (class targets are one-hot or integer codes).")
    return value


COLUMN_TYPE_NAMES = ("number", "category", "boolean", "date", "text", "ignore")
"""``data.columns`` values (the data layer's ``COLUMN_TYPES``; the spec layer cannot import it)."""


def check_column_types(value: dict[str, str]) -> dict[str, str]:
    """A spec validator of ``data.columns``: every value is a known column type.

    Example:
        >>> check_column_types({"island": "category"})
        {'island': 'category'}
    """
    for name, kind in value.items():
        if kind not in COLUMN_TYPE_NAMES:
            raise spec_problem(f"unknown column type for {name!r}", kind,
                               suggestion(kind, COLUMN_TYPE_NAMES) or "")
    return value


def check_date_format(value: str | None) -> str | None:
    """A spec validator of ``data.date_format``: a ``strftime`` format with at least one ``%`` field.

    Example:
        >>> check_date_format("%d/%m/%Y")
        '%d/%m/%Y'
    """
    if value is not None and "%" not in value:
        raise spec_problem("must be a strftime format such as '%d/%m/%Y' or '%Y-%m-%d'", value,
                           "Write the format with % fields: %Y year, %m month, %d day.")
    return value


SHUFFLING_SPLITS = ("random", "stratified")
"""Split types that shuffle the rows: a window of past rows needs the rows in time order."""


def check_window_split(spec: Any) -> Any:
    """A spec validator (on the whole spec): ``data.window`` needs a split that keeps row order.

    A window is the rows before a target row; with a shuffled split those rows would be test (or
    validation) rows for a training target, and the future would leak into training. The error
    sits at ``split.type`` and names ``data.window``.

    Args:
        spec: The validated :class:`~dlworkflow.spec.schema.Spec` (its ``data.window`` and ``split.type``).

    Returns:
        The spec unchanged.

    Raises:
        pydantic.ValidationError: one ``spec_problem`` at ``split.type`` for ``random`` or ``stratified``.

    Example:
        >>> from types import SimpleNamespace
        >>> spec = SimpleNamespace(data=SimpleNamespace(window=object()), split=SimpleNamespace(type="ordered"))
        >>> check_window_split(spec) is spec
        True
    """
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails

    split_type = spec.split.type
    if spec.data.window is None or split_type not in SHUFFLING_SPLITS:
        return spec
    problem = spec_problem(
        f"data.window makes each sample the rows before its target row, but the {split_type!r} split shuffles "
        "the rows, so a training window would hold later (test) days", split_type,
        "Use type = 'ordered' in [split] (add order_by = 'DATE' when the file's rows are not in date order).",
    )
    raise ValidationError.from_exception_data(
        "Spec", [InitErrorDetails(type=problem, loc=("split", "type"), input=split_type)]  # type: ignore[typeddict-item]
    )
