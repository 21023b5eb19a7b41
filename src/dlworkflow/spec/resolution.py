"""A spec from whatever the user has: a TOML file, a dict shaped like one, or a Spec, plus overrides.

Example:
    >>> resolve_spec({"name": "penguins", "data": {"dataset": "penguins", "target": "species"},
    ...               "model": {"layers": [{"type": "Dense", "units": 3}]}}, {"train.epochs": 3}).train.epochs
    3
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from dlworkflow.spec.schema import Spec

SpecLike = Union[str, Path, Mapping[str, Any], "Spec"]
"""A spec file's path, a dict shaped like a spec file, or a validated Spec."""

Overrides = Union[Iterable[str], Mapping[str, Any], None]
"""``PATH=VALUE`` strings, or a mapping of spec path to value."""


def resolve_spec(spec: SpecLike, overrides: Overrides = None, settings: Mapping[str, Any] | None = None) -> Spec:
    """Turn a spec file, dict or Spec plus overrides into a validated spec.

    Args:
        spec: A path to a TOML file, a dict shaped like one, or a Spec.
        overrides: ``PATH=VALUE`` strings or a mapping of spec path to value.
        settings: More overrides, applied after ``overrides``: a mapping of spec path to value.

    Returns:
        The validated spec, labelled with its source for error messages.

    Raises:
        SpecError: listing every problem.

    Example:
        >>> resolve_spec("examples/weather.toml", {"train.epochs": 3}).train.epochs  # doctest: +SKIP
        3
    """
    from dlworkflow.spec import Spec, apply_overrides, expand_shorthands, read_toml, validate_spec

    if isinstance(spec, Spec):
        if not overrides and not settings:
            return spec
        document, source = spec.resolved(), spec.source
    elif isinstance(spec, Mapping):
        document, source = expand_shorthands(spec), "<api>"
    else:
        document, source = expand_shorthands(read_toml(spec)), str(spec)
    for group in (overrides, settings):
        if group:
            document = apply_overrides(document, group)
    return validate_spec(document, source=source)


def user_code_notice(spec: Spec) -> str | None:
    """The notice that a spec runs the user's Python code (``model.builder``, ``evaluate.baselines``), or None.

    A spec with a builder or baselines imports modules and calls them: ``dlw summary`` and ``dlw run`` say so,
    so that a spec received from someone else is not mistaken for data.

    Args:
        spec: A validated :class:`~dlworkflow.spec.schema.Spec`.

    Returns:
        One line naming each piece of code and its spec path; None for a spec that runs none.

    Example:
        >>> from dlworkflow.spec import validate_spec
        >>> spec = validate_spec({"name": "x", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
        ...                       "model": {"builder": "my_models:build"}}, source="x.toml")
        >>> print(user_code_notice(spec))
        x.toml: this spec runs Python code: model.builder = 'my_models:build' (imported from the spec's folder first, then the installed packages). Run only specs whose code you trust.
    """
    references = {}
    if spec.model.builder is not None:
        references["model.builder"] = spec.model.builder
    for index, reference in enumerate((spec.evaluate.baselines if spec.evaluate is not None else None) or ()):
        references[f"evaluate.baselines[{index}]"] = reference
    if not references:
        return None
    listed = ", ".join(f"{path} = {reference!r}" for path, reference in references.items())
    return (f"{spec.source}: this spec runs Python code: {listed} (imported from the spec's folder first, then "
            "the installed packages). Run only specs whose code you trust.")
