"""Check keyword arguments from a spec against a Keras class, to explain Keras' errors.

Keras rejects a misspelt argument with a message that does not say what the right
spelling is (``Dense(unit=3)`` fails with *missing 1 required positional argument:
'units'*). These helpers read the class's ``__init__`` signatures so an error can name the
argument, the closest valid spelling and the missing ones. No Keras import here: the
classes are passed in.

Example:
    >>> import keras  # doctest: +SKIP
    >>> "units" in accepted_keywords(keras.layers.Dense, keras.layers.Layer)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable

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
        >>> sorted(accepted_keywords(keras.layers.Dropout, keras.layers.Layer))[:3]  # doctest: +SKIP
        ['activity_regularizer', 'autocast', 'dtype']
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
        >>> required_keywords(keras.layers.Dense)  # doctest: +SKIP
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
