"""The one error for keyword arguments a Keras class rejects (layers, optimizer, loss alike)."""

from __future__ import annotations

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models.arguments import argument_error


class Base:
    def __init__(self, name=None, dtype=None):
        self.name = name


class Dense(Base):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        if activation not in (None, "relu", "linear"):
            raise ValueError(f"Could not interpret activation function identifier: {activation}")


def error_of(arguments, **options):
    try:
        Dense(**arguments)
    except (TypeError, ValueError) as err:
        return argument_error("spec.toml", "model.layers[0]", "keras.layers.Dense", Dense, Base, arguments, err,
                              **options)
    raise AssertionError("Dense accepted the arguments")


def test_an_unknown_argument_is_named_with_the_closest_spelling():
    error = error_of({"units": 1, "activaton": "relu"})
    assert isinstance(error, SpecError) and error.exit_code == 2
    assert str(error).startswith(
        "spec.toml: model.layers[0].activaton: keras.layers.Dense has no argument 'activaton' (Keras: "
    )
    assert str(error).endswith("Did you mean 'activation'? Valid options: 'activation', 'dtype', 'name', 'units'.")


def test_a_missing_argument_is_named_with_the_one_to_add():
    error = error_of({"activation": "relu"})
    assert str(error).startswith("spec.toml: model.layers[0]: keras.layers.Dense needs the argument(s) 'units' (Keras:")
    assert str(error).endswith("Add units = ... to this entry.")


def test_a_rejected_value_names_its_argument_the_value_and_the_closest_choice():
    error = error_of({"units": 1, "activation": "rleu"}, choices={"activation": ["relu", "linear"]})
    problem = error.problems[0]
    assert problem.path == "model.layers[0].activation" and problem.got == "rleu"
    assert problem.what.startswith("keras.layers.Dense rejected this value (Could not interpret")
    assert problem.hint == "Did you mean 'relu'?"


def test_an_argument_filled_in_by_dlworkflow_is_never_blamed():
    arguments = {"units": 1, "name": "dense", "activation": "a name"}  # the message names both
    blamed = error_of(arguments, implicit=("name",)).problems[0]
    assert blamed.path == "model.layers[0].activation"
    assert error_of(arguments).problems[0].path == "model.layers[0]"  # two names: the entry is blamed
