"""The search space of ``[tune.parameters]``: spec paths, their choices or ranges, and what a trial sets.

Each parameter is named by its spec path (``"model.layers[1].rate"``), exactly as ``--set``
names a value, and a trial's values are applied to the spec the same way, so a trial is
validated like any spec and a misspelt path is caught before any training.

One parameter may set several paths to the same value: name them all in one key, separated by
commas, ``"model.layers[2].rate, model.layers[5].rate, model.layers[7].rate" = [0.2, 0.5]``.
Such a *tied* parameter is one dimension of the search (one rate for three Dropout layers, as in
the lesson's ``create_nn_with_dropout(dropout_rate)``), not three independent ones.

Example:
    >>> check_parameters(spec)  # doctest: +SKIP
    >>> settings = suggest(trial, spec.tune.parameters)  # doctest: +SKIP
    >>> settings  # doctest: +SKIP
    {'model.layers[0].units': 50}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError, suggestion
from dlworkflow.spec.overrides import apply_overrides, describe_path, parse_path
from dlworkflow.spec.schema import ParameterRange, Spec, TuneSpec

if TYPE_CHECKING:
    import optuna

Choices = list[Any] | ParameterRange

DEFAULT_TRIALS = 20
"""Trials of a random or TPE search when ``tune.n_trials`` is not set."""


def parameter_path(path: str) -> str:
    """How errors name a tuned parameter: ``tune.parameters."model.layers[0].units"``.

    Example:
        >>> parameter_path("model.layers[0].units")
        'tune.parameters."model.layers[0].units"'
    """
    return f'tune.parameters."{path}"'


def tied_paths(key: str) -> list[str]:
    """The spec paths one ``[tune.parameters]`` key sets: itself, or each of its comma-separated paths.

    Args:
        key: A key of ``tune.parameters``.

    Returns:
        The paths, stripped, in order.

    Example:
        >>> tied_paths("model.layers[2].rate, model.layers[5].rate")
        ['model.layers[2].rate', 'model.layers[5].rate']
        >>> tied_paths("train.epochs")
        ['train.epochs']
    """
    return [part.strip() for part in key.split(",")]


def check_parameters(spec: Spec) -> None:
    """Check that every tuned path exists in the spec and that its values make a valid spec.

    A path exists when the spec (defaults included) has a value there, or a setting that
    may be left out (``train.optimizer.learning_rate``). Each choice, and each end of a
    range, is applied to the spec and the result validated, so a value Keras-independent
    validation rejects (a negative ``units``) is caught before the first trial. A tied key
    (:func:`tied_paths`) is checked path by path; a path named twice, in one key or in two, is
    refused (its value would be set twice).

    Args:
        spec: A validated spec with a ``[tune]`` section.

    Raises:
        SpecError: at ``tune.parameters."<path>"``, listing every problem, before any training.

    Example:
        >>> check_parameters(spec)  # a spec tuning model.layers[5].units with 3 layers  # doctest: +SKIP
        SpecError: weather_tune.toml: tune.parameters."model.layers[5].units": is not in the spec ...
    """
    tune = _tune(spec)
    declared = spec.model_dump(mode="json")
    problems = []
    seen: dict[str, str] = {}
    for key, choices in tune.parameters.items():
        for path in tied_paths(key):
            problem = _path_problem(spec, declared, key, path, seen)
            if problem is not None:
                problems.append(problem)
                break
            seen[path] = key
        else:
            for value in _probe_values(choices):
                problem = _validation_problem(spec, key, value)
                if problem is not None:
                    problems.append(problem)
                    break
    if problems:
        raise SpecError(problems)


def apply_trial(spec: Spec, settings: Mapping[str, Any]) -> Spec:
    """The spec of one trial: the tuned values set, ``[tune]`` left out, validated.

    Args:
        spec: The study's spec.
        settings: ``{spec path: value}`` of the trial; a tied key (``"a.b, c.d"``) sets each of
            its paths to the value.

    Returns:
        A validated spec labelled with the same source.

    Example:
        >>> apply_trial(spec, {"model.layers[0].units": 50}).model.layers[0].arguments["units"]  # doctest: +SKIP
        50
    """
    from dlworkflow.spec import validate_spec

    expanded = {path: value for key, value in settings.items() for path in tied_paths(key)}
    document = apply_overrides(spec.resolved(), expanded)
    document.pop("tune", None)
    return validate_spec(document, source=spec.source)


def suggest(trial: optuna.trial.BaseTrial, parameters: Mapping[str, Choices]) -> dict[str, Any]:
    """Ask Optuna for one value per tuned path.

    Lists become categorical choices; ranges become integer or float suggestions (on a
    log scale with ``log = true``, on a grid of ``step``).

    Args:
        trial: The Optuna trial.
        parameters: ``tune.parameters``.

    Returns:
        ``{spec path: value}``.

    Example:
        >>> suggest(trial, {"model.layers[0].units": [10, 50]})  # doctest: +SKIP
        {'model.layers[0].units': 50}
    """
    settings: dict[str, Any] = {}
    for path, choices in parameters.items():
        if isinstance(choices, list):
            settings[path] = trial.suggest_categorical(path, choices)
        elif choices.integer:
            settings[path] = trial.suggest_int(
                path, int(choices.low), int(choices.high), step=int(choices.step or 1), log=choices.log
            )
        else:
            settings[path] = trial.suggest_float(
                path, float(choices.low), float(choices.high), step=choices.step, log=choices.log
            )
    return settings


def grid(parameters: Mapping[str, Choices]) -> dict[str, list[Any]]:
    """The search space of the grid sampler: every path's list of choices.

    Args:
        parameters: ``tune.parameters`` (only lists; the spec refuses ranges with a grid).

    Returns:
        ``{spec path: choices}``.

    Example:
        >>> grid({"model.layers[1].rate": [0.2, 0.5, 0.8]})
        {'model.layers[1].rate': [0.2, 0.5, 0.8]}
    """
    return {path: list(choices) for path, choices in parameters.items() if isinstance(choices, list)}


def trial_count(tune: TuneSpec) -> int:
    """How many trials the study runs: ``n_trials``, else the grid's size, else :data:`DEFAULT_TRIALS`.

    Example:
        >>> trial_count(TuneSpec(parameters={"a": [1, 2], "b": [3, 4, 5]}, sampler="grid"))
        6
    """
    if tune.n_trials is not None:
        return tune.n_trials
    if tune.sampler == "grid":
        return math.prod(len(choices) for choices in grid(tune.parameters).values())
    return DEFAULT_TRIALS


def _tune(spec: Spec) -> TuneSpec:
    if spec.tune is None:
        raise SpecError.single(
            spec.source, "tune", "is missing: dlw tune needs a [tune] section",
            hint='Add [tune.parameters] with a spec path and its choices, e.g. "model.layers[0].units" = [10, 50, 100].',
        )
    return spec.tune


def _path_problem(spec: Spec, declared: Any, key: str, path: str, seen: Mapping[str, str]) -> Any:
    """The problem of one path of a ``[tune.parameters]`` key, or None."""
    try:
        parts = parse_path(path)
    except SpecError:
        hint = "Write it like model.layers[0].units" + (
            "; tie several paths to one value by separating them with commas." if "," in key else ".")
        return _problem(spec, key, f"{path!r} is not a spec path" if "," in key else "is not a spec path", hint)
    missing = _missing_part(declared, parts)
    where = f"{path!r} " if "," in key else ""
    if missing is not None:
        return _problem(spec, key, f"{where}is not in the spec ({missing})", _path_hint(declared, parts))
    if parts[0] == "tune":
        return _problem(spec, key, f"{where}cannot tune the [tune] section itself", "Tune model, train or data values.")
    if path in seen:
        other = seen[path]
        return _problem(spec, key, f"{path!r} is tuned twice" + ("" if other == key else f" (also in {other!r})"),
                        "Name each spec path in one parameter only.")
    return None


def _problem(spec: Spec, path: str, what: str, hint: str) -> Any:
    from dlworkflow.errors import Problem

    return Problem(spec.source, parameter_path(path), what, path, hint)


def _missing_part(document: Any, parts: list[str | int]) -> str | None:
    node = document
    for depth, part in enumerate(parts):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                count = len(node) if isinstance(node, list) else 0
                return f"{describe_path(parts[:depth])} has {count} item(s)"
        elif not isinstance(node, dict) or part not in node:
            return f"no {part!r} at {describe_path(parts[:depth]) or 'the top'}"
        node = node[part]
    return None


def _path_hint(document: Any, parts: list[str | int]) -> str:
    node = document
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return "Name a value the spec has, as --set does: e.g. model.layers[0].units."
    last = parts[-1]
    if isinstance(node, dict) and isinstance(last, str):
        return suggestion(last, list(node)) or f"Values there: {', '.join(map(str, node))}."
    return "Name a value the spec has, as --set does: e.g. model.layers[0].units."


def _probe_values(choices: Choices) -> list[Any]:
    if isinstance(choices, list):
        return list(choices)
    return [choices.low, choices.high]


def _validation_problem(spec: Spec, path: str, value: Any) -> Any:
    try:
        apply_trial(spec, {path: value})
    except SpecError as err:
        first = err.problems[0]
        return _problem(spec, path, f"the value {value!r} makes the spec invalid: {first.path}: {first.what}",
                        first.hint or "Change the choices or the range.")
    return None
