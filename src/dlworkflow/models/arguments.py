"""Check keyword arguments from a spec against a Keras class, to explain Keras' errors.

Keras rejects a misspelt argument with a message that does not say what the right
spelling is (``Dense(unit=3)`` fails with *missing 1 required positional argument:
'units'*). These helpers read the class's ``__init__`` signatures so an error can name the
argument, the closest valid spelling and the missing ones; :func:`argument_error` builds
that one error for every spec entry that becomes a Keras object (a layer, the optimizer,
the loss). No Keras import here: the classes are passed in.

Example:
    >>> class Layer:
    ...     def __init__(self, name=None, dtype=None): ...
    >>> class Dense(Layer):
    ...     def __init__(self, units, activation=None, **kwargs): super().__init__(**kwargs)
    >>> sorted(accepted_keywords(Dense, Layer)), required_keywords(Dense)
    (['activation', 'dtype', 'name', 'units'], ('units',))
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dlworkflow.errors import SpecError, suggestion

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _parameters(function: object) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(function).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []


def accepted_keywords(cls: type, base: type) -> frozenset[str]:
    """Keyword arguments a class's constructor accepts, following ``**kwargs`` up to ``base``.

    Walks the method resolution order and collects the named parameters of each
    ``__init__`` that is reached through ``**kwargs``, stopping after the first
    ``__init__`` at or above ``base`` (e.g. ``keras.layers.Layer``, which rejects anything
    it does not know).

    Args:
        cls: The class, e.g. ``keras.layers.Conv2D``.
        base: The base class whose ``__init__`` ends the chain.

    Returns:
        The accepted keyword names.

    Example:
        >>> class Layer:
        ...     def __init__(self, name=None, dtype=None): ...
        >>> class Dropout(Layer):
        ...     def __init__(self, rate, seed=None, **kwargs): super().__init__(**kwargs)
        >>> sorted(accepted_keywords(Dropout, Layer))
        ['dtype', 'name', 'rate', 'seed']
    """
    names: set[str] = set()
    reached_base = False
    for klass in cls.__mro__:
        if klass is base:
            reached_base = True
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = _parameters(init)
        names.update(p.name for p in parameters if p.kind in _KEYWORD_KINDS and p.name != "self")
        forwards = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        if reached_base or not forwards:
            break
    return frozenset(names)


def required_keywords(cls: type) -> tuple[str, ...]:
    """The constructor arguments of a class that have no default value.

    Args:
        cls: The class.

    Returns:
        Their names, in signature order.

    Example:
        >>> class Dense:
        ...     def __init__(self, units, activation=None, **kwargs): ...
        >>> required_keywords(Dense)
        ('units',)
    """
    return tuple(
        p.name
        for p in _parameters(cls.__init__)
        if p.kind in _KEYWORD_KINDS and p.name != "self" and p.default is inspect.Parameter.empty
    )


def argument_in_message(message: str, names: Iterable[str]) -> str | None:
    """The one argument name that a Keras error message mentions, if exactly one.

    Args:
        message: The text of Keras' exception.
        names: The arguments the user gave.

    Returns:
        The argument name, or None when none or several are mentioned.

    Example:
        >>> argument_in_message("Could not interpret activation function identifier: relux",
        ...                     ["units", "activation"])
        'activation'
    """
    found = [name for name in names if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message)]
    return found[0] if len(found) == 1 else None


def keras_message(error: BaseException) -> str:
    """Keras' error text on one line, without the long list of call arguments it appends.

    Args:
        error: The exception Keras raised.

    Returns:
        The first part of the message, whitespace collapsed.

    Example:
        >>> keras_message(ValueError("bad input\\n\\nArguments received by Dense.call():\\n  x"))
        'bad input'
    """
    text = str(error).split("Arguments received by", 1)[0]
    return " ".join(text.split()).rstrip(" .")


def argument_error(
    source: str,
    path: str,
    label: str,
    cls: type,
    base: type,
    arguments: Mapping[str, Any],
    error: BaseException,
    *,
    choices: Mapping[str, Sequence[str]] | None = None,
    implicit: Iterable[str] = (),
) -> SpecError:
    """The one error for keyword arguments of a spec entry that a Keras class rejected.

    Used for every spec entry that becomes a Keras object: a layer (``model.layers[i]``), the
    optimizer (``train.optimizer``), the loss (``train.loss``). In order of preference it
    names:

    1. an argument the class does not take: ``<path>.<name>``, *has no argument*, with the
       closest valid spelling (:func:`~dlworkflow.errors.suggestion`);
    2. required arguments left out: *needs the argument(s)*, with the one to add;
    3. the one argument Keras' message mentions: ``<path>.<name>``, *rejected this value*,
       the value received and, for an argument with a known set of ``choices``, the closest;
    4. otherwise the entry: *rejected its arguments*, with Keras' message.

    Args:
        source: The spec file, for the error's *where*.
        path: The dotted spec path of the entry, e.g. ``model.layers[0]`` or ``train.loss``.
        label: The Keras name shown to the user, e.g. ``keras.layers.Dense``.
        cls: The class that rejected the arguments.
        base: The base class whose ``__init__`` ends the ``**kwargs`` chain
            (:func:`accepted_keywords`), e.g. ``keras.layers.Layer``.
        arguments: The keyword arguments the class was called with.
        error: The ``TypeError`` or ``ValueError`` Keras raised.
        choices: Valid string values of some arguments (``{"activation": [...]}``), for a
            did-you-mean on a rejected value.
        implicit: Arguments dlworkflow filled in itself (a layer's ``name``): never blamed
            for a rejected value.

    Returns:
        The :class:`~dlworkflow.errors.SpecError` to raise (``raise ... from error``).

    Example:
        >>> class Layer:
        ...     def __init__(self, name=None): ...
        >>> class Dense(Layer):
        ...     def __init__(self, units, activation=None, **kwargs): super().__init__(**kwargs)
        >>> try:
        ...     Dense(unit=3)
        ... except TypeError as err:
        ...     error = argument_error("spec.toml", "model.layers[0]", "keras.layers.Dense", Dense, Layer,
        ...                            {"unit": 3}, err)
        >>> problem = error.problems[0]
        >>> problem.path, problem.what.split(" (")[0]
        ('model.layers[0].unit', "keras.layers.Dense has no argument 'unit'")
        >>> problem.hint
        "Did you mean 'units'? Valid options: 'activation', 'name', 'units'."
    """
    message = keras_message(error)
    accepted = accepted_keywords(cls, base)
    unknown = [name for name in arguments if name not in accepted]
    if unknown and accepted:
        name = unknown[0]
        return SpecError.single(
            source, f"{path}.{name}", f"{label} has no argument {name!r} (Keras: {message})",
            hint=suggestion(name, sorted(accepted)) or f"See the arguments of {label} in the Keras documentation.",
        )
    missing = [name for name in required_keywords(cls) if name not in arguments]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        return SpecError.single(
            source, path, f"{label} needs the argument(s) {listed} (Keras: {message})",
            hint=f"Add {missing[0]} = ... to this entry.",
        )
    skipped = set(implicit)
    name = argument_in_message(message, [n for n in arguments if n not in skipped])
    if name is None:
        return SpecError.single(
            source, path, f"{label} rejected its arguments: {message}",
            hint=f"Check the values against the documentation of {label}.",
        )
    value = arguments[name]
    hint = f"Check {name} against the documentation of {label}."
    options = (choices or {}).get(name)
    if options and isinstance(value, str):
        hint = suggestion(value, options, show_options=0) or hint
    return SpecError.single(source, f"{path}.{name}", f"{label} rejected this value ({message})", got=value, hint=hint)
