"""Command-line overrides: ``--set train.epochs=5 --set model.layers[0].units=50``.

An override names a value by its dotted spec path (list items by ``[index]``) and gives it
as a TOML value; text that is not valid TOML is taken as a string, so
``--set data.target=BASEL_sunshine`` works without quotes. Overrides are applied to the raw
document before validation, so an override is validated exactly like the file.

Example:
    >>> apply_overrides({"train": {"epochs": 200}}, ["train.epochs=5"])
    {'train': {'epochs': 5}}
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from dlworkflow.errors import SpecError

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_SOURCE = "--set"


def parse_path(path: str) -> list[str | int]:
    """Split a dotted spec path into keys and list indices.

    Args:
        path: e.g. ``model.layers[0].units``.

    Returns:
        e.g. ``['model', 'layers', 0, 'units']``.

    Raises:
        SpecError: when the path is malformed or not text.

    Example:
        >>> parse_path("model.layers[0].units")
        ['model', 'layers', 0, 'units']
    """
    if not isinstance(path, str):
        raise SpecError.single(
            _SOURCE, repr(path), "a spec path must be text", got=path,
            hint="Name the value like train.epochs or model.layers[0].units.",
        )
    parts: list[str | int] = []
    position = 0
    for match in _PATH_PART.finditer(path):
        between = path[position : match.start()]
        if between not in ("", "."):
            break
        key, index = match.groups()
        parts.append(int(index) if index is not None else key.strip())
        position = match.end()
    if not parts or position != len(path) or not isinstance(parts[0], str):
        raise SpecError.single(
            _SOURCE, path, "is not a spec path", hint="Write it like train.epochs or model.layers[0].units."
        )
    return parts


def parse_value(text: str) -> Any:
    """Read an override's value as TOML, falling back to a plain string.

    Args:
        text: The text after ``=``.

    Returns:
        An int, float, bool, string, list or table.

    Example:
        >>> parse_value("0.15"), parse_value("[10, 5]"), parse_value("BASEL_*")
        (0.15, [10, 5], 'BASEL_*')
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except (tomllib.TOMLDecodeError, RecursionError):  # not TOML, or a nesting bomb: the text as it is
        return text


def parse_override(override: str) -> tuple[list[str | int], Any]:
    """Split ``PATH=VALUE`` into a parsed path and value.

    Args:
        override: One ``--set`` argument.

    Returns:
        The path parts and the value.

    Raises:
        SpecError: when there is no ``=`` or the path is malformed.
    """
    path, equals, value = override.partition("=")
    if not equals:
        raise SpecError.single(
            _SOURCE, override.strip(), "must be PATH=VALUE", got=override, hint="Write e.g. --set train.epochs=5."
        )
    return parse_path(path.strip()), parse_value(value.strip())


def describe_path(parts: list[str | int]) -> str:
    """Join path parts back into a spec path (the inverse of :func:`parse_path`).

    Example:
        >>> describe_path(["model", "layers", 0, "units"])
        'model.layers[0].units'
    """
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def apply_overrides(
    document: Mapping[str, Any], overrides: Iterable[str] | Mapping[str, Any]
) -> dict[str, Any]:
    """Return a copy of a raw spec document with overrides applied.

    Missing tables on the way are created, so an override may add a setting the file
    leaves out. A list index must exist already.

    Args:
        document: The raw spec (as read from TOML).
        overrides: ``PATH=VALUE`` strings (command line), or a mapping of spec path to
            Python value (the Python API).

    Returns:
        A new document; the input is not changed.

    Raises:
        SpecError: naming every override that cannot be applied.

    Example:
        >>> apply_overrides({"model": {"layers": [{"units": 100}]}}, ["model.layers[0].units=50"])
        {'model': {'layers': [{'units': 50}]}}
    """
    result = copy.deepcopy(dict(document))
    problems = []
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    for override in pairs:
        try:
            if isinstance(override, tuple):
                parts, value = parse_path(override[0]), override[1]
            else:
                parts, value = parse_override(override)
            _set(result, parts, value)
        except SpecError as err:
            problems.extend(err.problems)
    if problems:
        raise SpecError(problems)
    return result


def _set(document: dict[str, Any], parts: list[str | int], value: Any) -> None:
    node: Any = document
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = describe_path(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SpecError.single(_SOURCE, here, "is not a list, so it has no index", got=node)
            if part >= len(node):
                raise SpecError.single(
                    _SOURCE,
                    here,
                    f"index out of range: {describe_path(parts[:depth])} has {len(node)} item(s)",
                    hint="An override can change an existing list item, not add one; edit the spec file.",
                )
        elif not isinstance(node, dict):
            raise SpecError.single(_SOURCE, here, f"{describe_path(parts[:depth])} is not a table", got=node)
        if last:
            node[part] = value
            return
        if isinstance(part, str) and part not in node:
            node[part] = {}
        node = node[part]
