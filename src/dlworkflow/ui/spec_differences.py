"""Where the resolved specs of compared runs differ: one row per dotted path, one value per run.

Example:
    >>> rows = spec_differences([{"train": {"epochs": 5, "batch_size": 32}}, {"train": {"epochs": 9, "batch_size": 32}}])
    >>> [(row.path, row.values) for row in rows]
    [('train.epochs', ['5', '9'])]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MISSING = "–"
"""How a path that one spec lacks is shown."""


@dataclass(frozen=True)
class SpecDifference:
    """A spec path whose value differs between runs.

    Attributes:
        path: The dotted path, list items by index (``model.layers[0].units``).
        values: Each run's value as text (:data:`MISSING` where its spec lacks the path).

    Example:
        >>> SpecDifference("train.epochs", ["5", "9"]).path
        'train.epochs'
    """

    path: str
    values: list[str]


def flatten(spec: Any, prefix: str = "") -> dict[str, Any]:
    """A nested spec as ``{dotted path: leaf value}``.

    Example:
        >>> flatten({"model": {"layers": [{"units": 10}]}})
        {'model.layers[0].units': 10}
    """
    if isinstance(spec, Mapping):
        flat: dict[str, Any] = {}
        for key, value in spec.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(spec, list) and spec and any(isinstance(item, (Mapping, list)) for item in spec):
        flat = {}
        for index, item in enumerate(spec):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: spec}


def spec_differences(specs: Sequence[Mapping[str, Any] | None]) -> list[SpecDifference]:
    """The paths whose values are not the same in every spec, in first-seen order.

    Args:
        specs: The runs' resolved specs (``record.spec``), in the order of the runs.

    Returns:
        One :class:`SpecDifference` per differing path.

    Example:
        >>> spec_differences([{"name": "a"}, {"name": "a"}])
        []
    """
    flats = [flatten(spec or {}) for spec in specs]
    paths: list[str] = []
    for flat in flats:
        paths += [path for path in flat if path not in paths]
    rows = []
    for path in paths:
        values = [_text(flat[path]) if path in flat else MISSING for flat in flats]
        if len(set(values)) > 1:
            rows.append(SpecDifference(path, values))
    return rows


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
