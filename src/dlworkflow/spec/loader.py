"""Read a spec file, apply overrides, validate, and report every problem at once.

Example:
    >>> spec = load_spec("examples/weather.toml", overrides=["train.epochs=2"])  # doctest: +SKIP
    >>> spec.train.epochs  # doctest: +SKIP
    2
"""

from __future__ import annotations

import math
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dlworkflow.errors import Problem, SpecError, suggestion
from dlworkflow.spec.limits import (
    MAX_NESTING,
    MAX_SPEC_BYTES,
    file_kind_problem,
    nesting_depth,
)
from dlworkflow.spec.overrides import apply_overrides
from dlworkflow.spec.schema import Spec

_MESSAGE_REWRITES = {
    "Input should be greater than 0": "must be greater than 0",
    "Input should be greater than or equal to 0": "must be 0 or more",
    "Input should be a valid integer": "must be an integer",
    "Input should be a valid number": "must be a number",
    "Input should be a valid boolean": "must be true or false",
    "Input should be a valid string": "must be a string",
    "Input should be a valid list": "must be a list",
    "Input should be a valid tuple": "must be a list",
    "Input should be a valid dictionary or instance of": "must be a table",
    "Field required": "is required",
}


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\.\s+")
"""Where one of our validators' sentences ends ("e.g. " and "i.e. " do not end one)."""

_TYPE_HINTS: dict[str, tuple[str, str | None, type | None]] = {
    "int_type": ("must be an integer", "Write a whole number without quotes", int),
    "int_parsing": ("must be an integer", "Write a whole number without quotes", int),
    "int_from_float": ("must be an integer", "Write a whole number", int),
    "float_type": ("must be a number", "Write a number without quotes", float),
    "float_parsing": ("must be a number", "Write a number without quotes", float),
    "bool_type": ("must be true or false", "Write true or false, lower case and without quotes", bool),
    "bool_parsing": ("must be true or false", "Write true or false, lower case and without quotes", bool),
    "string_type": ("must be a string", "Write it in quotes", str),
    "list_type": ("must be a list", "Write a list in brackets: [value, value, ...]", None),
    "tuple_type": ("must be a list", "Write a list in brackets: [value, value, ...]", None),
    "model_type": ("must be a table", None, None),
    "model_attributes_type": ("must be a table", None, None),
    "dict_type": ("must be a table", None, None),
}
"""pydantic error type → (what, fix, the type an example needs) for a value of the wrong TOML type; a table's
fix names the table."""


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file into a dict, turning syntax errors into a :class:`SpecError`.

    Args:
        path: The spec file.

    Returns:
        The raw document.

    Raises:
        SpecError: when the file is missing, not a regular file (a folder, a device, a FIFO: refused before
            it is opened), larger than :data:`~dlworkflow.spec.limits.MAX_SPEC_BYTES`, not UTF-8, nested
            deeper than :data:`~dlworkflow.spec.limits.MAX_NESTING` or not valid TOML (with line and column).

    Example:
        >>> read_toml("examples/penguins.toml")["name"]  # doctest: +SKIP
        'penguins'
    """
    path = Path(path)
    kind = file_kind_problem(path)
    if kind is not None:  # checked before opening: a FIFO would block, /dev/zero never ends
        raise SpecError.single(str(path), "", f"is {kind}, not a spec file",
                               hint="Give the path of a TOML spec file (a regular file).")
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
        if len(raw) > MAX_SPEC_BYTES:
            raise SpecError.single(
                str(path), "", f"the spec file is larger than {MAX_SPEC_BYTES // 2**20} MiB",
                got=f"{path.stat().st_size:,} bytes", hint="A spec is a short TOML file; check that this is the spec.",
            )
        text = raw.decode("utf-8")
    except FileNotFoundError as err:
        raise SpecError.single(str(path), "", "spec file not found", hint="Check the path.") from err
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError.single(str(path), "", f"cannot read the spec file ({err})", hint="Save it as UTF-8 text.") from err
    try:
        return tomllib.loads(text.replace("\r\n", "\n").replace("\r", "\n"))  # as read_text() reads it
    except tomllib.TOMLDecodeError as err:
        raise SpecError.single(
            str(path), "", f"invalid TOML: {err}", hint="Fix the syntax at that line and column."
        ) from err
    except RecursionError as err:
        raise _too_deep(str(path)) from err


def _too_deep(source: str) -> SpecError:
    return SpecError.single(
        source, "", f"tables and lists nest more than {MAX_NESTING} levels deep",
        hint="A spec nests a few levels at most ([model.layers] tables holding lists); flatten the deep value.",
    )


def load_spec(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = ()) -> Spec:
    """Load and validate a spec file.

    Args:
        path: The TOML spec file.
        overrides: ``PATH=VALUE`` strings applied before validation (``--set``).

    Returns:
        The validated, frozen spec, labelled with its file for later error messages.

    Raises:
        SpecError: listing every problem found.

    Example:
        >>> load_spec("examples/weather.toml").name  # doctest: +SKIP
        'weather'
    """
    document = apply_overrides(expand_shorthands(read_toml(path)), overrides)
    return validate_spec(document, source=str(path))


def expand_shorthands(document: Mapping[str, Any]) -> dict[str, Any]:
    """Write short forms out in full, so overrides can reach inside them.

    ``optimizer = "adam"`` becomes ``[train.optimizer] type = "adam"`` (and ``loss`` likewise);
    then ``--set train.optimizer.learning_rate=0.01`` works whichever form the file uses.

    Args:
        document: A raw spec document.

    Returns:
        A copy with the short forms expanded.

    Example:
        >>> expand_shorthands({"train": {"optimizer": "sgd"}})
        {'train': {'optimizer': {'type': 'sgd'}}}
    """
    result = dict(document)
    train = result.get("train")
    if isinstance(train, Mapping):
        result["train"] = {
            key: ({"type": value} if key in ("optimizer", "loss") and isinstance(value, str) else value)
            for key, value in train.items()
        }
    return result


def validate_spec(document: Mapping[str, Any] | Spec, source: str = "<spec>") -> Spec:
    """Validate a raw spec document (or return an already validated spec).

    Args:
        document: A dict shaped like a spec file, or a :class:`Spec`.
        source: Label for error messages, usually the file name.

    Returns:
        The validated spec.

    Raises:
        SpecError: listing every problem found, each with its dotted path; an ``inf`` or ``nan``
            anywhere (a layer argument too) is one, since the resolved spec could not hold it.

    Example:
        >>> validate_spec({"name": "x"}, source="x.toml")
        Traceback (most recent call last):
        ...
        dlworkflow.errors.SpecError: 2 problems:
          - x.toml: data: is required. Add a [data] table.
          - x.toml: model: is required. Add a [model] table.
    """
    if isinstance(document, Spec):
        return document
    if nesting_depth(document, limit=MAX_NESTING) > MAX_NESTING:
        raise _too_deep(source)
    document = dict(document)
    not_finite = [
        Problem(source, dotted(location), "must be a finite number", got=value,
                hint="TOML's inf and nan mean nothing to a spec (and cannot be stored with the run): give a number.")
        for location, value in _non_finite_numbers(document)
    ]
    try:
        spec = Spec.model_validate(document)
    except ValidationError as err:
        flagged = {problem.path for problem in not_finite}
        problems = [_problem(source, error, document) for error in err.errors()]
        raise SpecError([*not_finite, *(problem for problem in problems if problem.path not in flagged)]) from None
    if not_finite:
        raise SpecError(not_finite)
    return spec.with_source(source)


def _non_finite_numbers(node: Any, location: tuple[str | int, ...] = ()) -> Iterable[tuple[tuple, float]]:
    """Every inf or nan in a raw document, with its location."""
    if isinstance(node, float) and not math.isfinite(node):
        yield location, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _non_finite_numbers(value, (*location, str(key)))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _non_finite_numbers(value, (*location, index))


def dotted(location: Iterable[str | int]) -> str:
    """Render a pydantic location as a spec path.

    Args:
        location: e.g. ``('model', 'layers', 0, 'type')``.

    Returns:
        e.g. ``model.layers[0].type``.

    Example:
        >>> dotted(("model", "layers", 0, "type"))
        'model.layers[0].type'
    """
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _problem(source: str, error: Mapping[str, Any], document: Mapping[str, Any]) -> Problem:
    location = _user_location(error["loc"], document)
    path = dotted(location)
    kind = error["type"]
    if kind == "extra_forbidden" and location:
        key = str(location[-1])
        allowed = _allowed_keys(location[:-1])
        return Problem(source, path, "unknown key", hint=suggestion(key, allowed) if allowed else "Remove it.")
    if kind == "missing":
        table = path.rsplit(".", 1)[-1]
        hint = f"Add a [{path}] table." if _is_table(location) else f"Add {table} = ..."
        return Problem(source, path, "is required", hint=hint)
    got = error.get("input")
    if kind == "spec_problem":  # our validators' structured errors (dlworkflow.spec.registries.spec_problem)
        context = error.get("ctx") or {}
        return Problem(source, path, str(context.get("what", error["msg"])), got=context.get("got", got),
                       hint=str(context.get("hint", "")))
    if kind == "literal_error":
        options = [option.strip(" '") for option in re.split(r",| or ", error["ctx"]["expected"]) if option.strip()]
        return Problem(source, path, "must be one of " + ", ".join(repr(o) for o in options), got=got,
                       hint=suggestion(str(got), options, show_options=0))
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        # Our own validators write whole sentences: "what. hint" (an "e.g. " inside is no sentence end).
        what, hint = _what_and_hint(message)
        return Problem(source, path, what.rstrip("."), hint=hint)
    if kind in _TYPE_HINTS:
        what, hint, example_type = _TYPE_HINTS[kind]
        fix = _table_hint(location, path) if hint is None else hint + _example(location, example_type)
        return Problem(source, path, what, got=got, hint=fix)
    for original, rewrite in _MESSAGE_REWRITES.items():
        if message.startswith(original):
            message = rewrite + message[len(original) :]
            break
    else:
        message = message.replace("Input should be", "must be", 1)
        message = message[:1].lower() + message[1:]
    return Problem(source, path, message, got=got)


def _what_and_hint(message: str) -> tuple[str, str]:
    """Split "what. hint" at its first sentence end; the hint ends with a full stop."""
    parts = _SENTENCE_END.split(message, maxsplit=1)
    what, hint = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if hint and not hint.endswith((".", "?", "!")):
        hint += "."
    return what, hint


def _table_hint(location: tuple[str | int, ...], path: str) -> str:
    if any(isinstance(part, int) for part in location) or not path:
        return "Write it as an inline table: { key = value, ... }."
    return f"Write it as a table: a [{path}] header line with its keys on the lines below."


def _example(location: tuple[str | int, ...], wanted: type | None) -> str:
    """", e.g. key = <default>." when the field's default is a plain value of the wanted type, else "."."""
    model = _model_at(location[:-1])
    key = location[-1] if location else None
    field = model.model_fields.get(key) if model is not None and isinstance(key, str) else None
    default = None if field is None else field.default
    if wanted is None or default is None or (isinstance(default, bool) != (wanted is bool)):
        return "."
    if isinstance(default, bool):
        return f", e.g. {key} = {str(default).lower()}."
    if isinstance(default, wanted) or (wanted is float and isinstance(default, int)):
        return f", e.g. {key} = {default!r}." if default != "" else "."
    return "."


def _user_location(location: Iterable[str | int], document: Mapping[str, Any]) -> tuple[str | int, ...]:
    """A pydantic error location without the union member names pydantic adds (``'int'``, ``'list[any]'``).

    The location is followed through the document: a part that is a key (or index) there is the
    user's, even when it looks like a member name (a key ``"int"``, a key with ``"["``).
    """
    node: Any = document
    kept: list[str | int] = []
    for part in location:
        if isinstance(part, int) and isinstance(node, (list, tuple)):
            kept.append(part)
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(node, Mapping) and part in node:
            kept.append(part)
            node = node[part]
        elif not _is_internal_loc(part):
            kept.append(part)  # a key the document lacks (a required one) or a field of a model
            node = None
    return tuple(kept)


def _is_internal_loc(part: str | int) -> bool:
    # pydantic adds union member names (e.g. 'function-before[...]') to locations.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _model_for(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, list):
        for argument in typing.get_args(annotation):
            model = _model_for(argument)
            if model is not None:
                return model
    return None


def _model_at(location: Iterable[str | int]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Spec
    for part in location:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _model_for(model.model_fields[part].annotation)
    return model


def _allowed_keys(location: Iterable[str | int]) -> list[str]:
    model = _model_at(location)
    return list(model.model_fields) if model is not None else []


def _is_table(location: tuple[str | int, ...]) -> bool:
    return _model_at(location) is not None
