"""Fuzzing the spec loader: whatever a TOML file or a ``--set`` says, the outcome is a spec or a SpecError.

Hypothesis generates documents shaped like specs (tables of valid and invalid keys, values of
every TOML type, nested at random), mutations of the real examples (a key removed, renamed or
given another value; characters of the file's text changed) and ``--set`` strings, and feeds
them to :mod:`dlworkflow.spec.loader` the way ``dlw`` does: ``read_toml`` →
``expand_shorthands`` → ``apply_overrides`` → ``validate_spec``. Any other exception is a bug;
so is a spec that cannot be resolved and fingerprinted (what the registry stores), or an
error that cannot be rendered.

Each test is capped at about 200 examples and has no deadline, so the default suite stays quick.
"""

from __future__ import annotations

import datetime
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dlworkflow.errors import SpecError
from dlworkflow.spec import Spec
from dlworkflow.spec.loader import apply_overrides, expand_shorthands, load_spec, read_toml, validate_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))
EXAMPLE_TEXTS = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLE_FILES}
EXAMPLE_DOCUMENTS = {name: tomllib.loads(text) for name, text in EXAMPLE_TEXTS.items()}

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- what a spec may say


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, list, dict):
        return [model for argument in typing.get_args(annotation) for model in _models(argument)]
    return []


def _literals(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [value for argument in typing.get_args(annotation) for value in _literals(argument)]


def _spec_keys(model: type[BaseModel] = Spec, seen: frozenset = frozenset()) -> set[str]:
    keys = set(model.model_fields)
    for field in model.model_fields.values():
        for inner in _models(field.annotation):
            if inner not in seen:
                keys |= _spec_keys(inner, seen | {model})
    return keys


KNOWN_KEYS = sorted(_spec_keys() | {"units", "activation", "rate", "filters", "kernel_size", "learning_rate"})
"""Every key a spec section declares, and common layer arguments."""

PLAUSIBLE = [
    "Dense", "Dropout", "Conv2D", "Flatten", "Dnse", "adam", "sgd", "mse", "auto", "weather", "penguins", "species",
    "BASEL_sunshine", "BASEL_*", "relu", "softmax", "random", "stratified", "ordered", "val_loss", "standardize",
    "onehot", "integer", "classification", "regression", "tpe", "grid", "all", "cifar10", "model.layers[0].units",
    "train.epochs", "lesson_models:create_nn",
]
"""String values that mean something somewhere in a spec (and near misses)."""

keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-3, max_value=300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1.0),
    st.text(max_size=20),
    st.sampled_from(PLAUSIBLE),
    st.datetimes(max_value=datetime.datetime(9999, 1, 1)),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=12,
)


def often(likely: st.SearchStrategy[Any], rarely: st.SearchStrategy[Any], odds: int = 3) -> st.SearchStrategy[Any]:
    """``likely`` ``odds`` times as often as ``rarely`` (and what a failing example shrinks towards)."""
    return st.sampled_from([likely] * odds + [rarely]).flatmap(lambda chosen: chosen)


def _typed(annotation: Any) -> list[st.SearchStrategy[Any]]:
    """Plausible values of a field's declared type (str, int, float, bool, tables and lists of them)."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    found: list[st.SearchStrategy[Any]] = []
    for argument in typing.get_args(annotation) if union else (annotation,):
        origin, arguments = typing.get_origin(argument), typing.get_args(argument)
        if argument is str:
            found += [st.sampled_from(PLAUSIBLE), st.text(min_size=1, max_size=10)]
        elif argument is bool:
            found.append(st.booleans())
        elif argument is int:
            found.append(st.integers(0, 64))
        elif argument is float:
            found.append(st.floats(0.01, 0.5))
        elif origin is tuple and arguments[-1:] == (Ellipsis,) and arguments[0] in (str, int):
            items = st.sampled_from(PLAUSIBLE) if arguments[0] is str else st.integers(1, 64)
            found.append(st.lists(items, min_size=0 if arguments[0] is str else 1, max_size=3))
        elif origin is tuple and all(item is int for item in arguments):
            found.append(st.tuples(*(st.integers(1, 64) for _ in arguments)).map(list))
        elif origin is dict:
            found.append(st.dictionaries(st.sampled_from(KNOWN_KEYS), scalars, max_size=3))
    return found


def _value_for(model: type[BaseModel], name: str, depth: int) -> st.SearchStrategy[Any]:
    field = model.model_fields[name]
    plausible = _typed(field.annotation)
    literals = _literals(field.annotation)
    if literals:
        plausible.append(st.sampled_from(literals))
    if isinstance(field.default, (bool, int, float, str)):
        plausible.append(st.just(field.default))
    if name == "layers":
        plausible.append(st.lists(_layer(), min_size=1, max_size=4))
    elif name == "builder":
        plausible = [st.just("lesson_models:create_nn")]
    elif name == "parameters":
        ranges = st.fixed_dictionaries({"low": st.integers(1, 10), "high": st.integers(10, 100)},
                                       optional={"log": st.booleans(), "step": st.integers(1, 5)})
        choices = st.one_of(st.lists(st.integers(1, 100), min_size=1, max_size=3), ranges)
        plausible.append(st.dictionaries(st.sampled_from(["model.layers[0].units", "train.epochs", "nope"]), choices,
                                         min_size=1, max_size=2))
    elif depth < 3:
        plausible += [tables(inner, depth + 1) for inner in _models(field.annotation)]
    return often(st.one_of(*plausible), toml_values, odds=9) if plausible else toml_values


@st.composite
def tables(draw: st.DrawFn, model: type[BaseModel], depth: int = 0) -> dict[str, Any]:
    """A table for one spec section: its required keys mostly, a third of the others, now and then strangers."""
    table = {}
    for name, field in model.model_fields.items():
        needed = field.is_required() or name == "layers"  # a model without layers needs a builder
        present = often(st.just(True), st.just(False), 19) if needed else often(st.just(False), st.just(True), 2)
        if draw(present):
            table[name] = draw(_value_for(model, name, depth))
    if draw(often(st.just(False), st.just(True), 9)):
        table.update(draw(st.dictionaries(keys, toml_values, min_size=1, max_size=2)))
    return table


def _layer() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": often(st.sampled_from(["Dense", "Dropout", "Flatten", "Conv2D"]),
                       st.one_of(st.sampled_from(["Dnse", "Lambda"]), st.text(max_size=8)))},
        optional={"units": often(st.integers(1, 64), toml_values), "activation": st.sampled_from(["relu", "rleu"]),
                  "rate": st.floats(-1, 2)},
    )


spec_documents = tables(Spec)
"""Spec-shaped documents: every section, valid keys and values mixed with invalid ones."""


# --------------------------------------------------------------------------- mutations of the examples


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(node: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(node) if isinstance(node, dict) else list(node)
    if not rest:
        if action == "delete":
            del copy[head]
        elif action == "rename" and isinstance(copy, dict):
            copy[str(value)] = copy.pop(head)
        else:
            copy[head] = value
        return copy
    copy[head] = _replace(copy[head], rest, action, value)
    return copy


@st.composite
def mutated_examples(draw: st.DrawFn) -> dict[str, Any]:
    """A real example with one to three keys deleted, renamed or given another value."""
    document = EXAMPLE_DOCUMENTS[draw(st.sampled_from(sorted(EXAMPLE_DOCUMENTS)))]
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["delete", "rename", "set", "set"]))
        value = draw(keys) if action == "rename" else draw(toml_values)
        document = _replace(document, path, action, value)
    return document


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """A real example's text with a few characters inserted, deleted or replaced."""
    text = EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))]
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        inserted = draw(st.one_of(st.sampled_from(list("[]{}=\"'#.,\n\\ 0-x")), st.text(max_size=3)))
        removed = draw(st.integers(0, 3))
        text = text[:position] + inserted + text[position + removed:]
    return text


def _spec_paths(document: Any) -> list[str]:
    paths = []
    for path in _paths(document):
        text = ""
        for part in path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        paths.append(text)
    return paths


EXAMPLE_PATHS = sorted({path for document in EXAMPLE_DOCUMENTS.values() for path in _spec_paths(document)})

override_values = often(
    st.one_of(
        st.sampled_from(["5", "0", "1", "0.1", "1e-3", "true", "false", "[10, 5]", "{ type = 'sgd' }", "'x'", "relu"]),
        st.sampled_from(PLAUSIBLE),
        st.integers(0, 100).map(str),
    ),
    st.one_of(
        st.text(max_size=12),
        toml_values.map(lambda value: tomli_w.dumps({"v": value})[4:].strip() if _dumpable(value) else "1"),
        st.sampled_from(["-1", "1e6", "inf", "nan", "\"", "[", "{", "", "=", "[1, 'a']"]),
    ),
)
override_strings = often(
    st.tuples(
        often(st.sampled_from(EXAMPLE_PATHS), st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=20))),
        often(st.just("="), st.sampled_from([" = ", "==", "", ".=", "=="])),
        override_values,
    ).map("".join),
    st.text(max_size=30),
)
"""``--set`` arguments: real spec paths and random ones, with and without ``=``, TOML values and garbage."""


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same TOML type as ``value`` (a bool, a small number, a meaningful string)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(0, 200)
    if isinstance(value, float):
        return st.floats(1e-4, 0.99)
    if isinstance(value, str):
        return st.one_of(st.just(value), st.sampled_from(PLAUSIBLE))
    return st.just(value)


def _toml_text(value: Any) -> str:
    return tomli_w.dumps({"v": value})[4:].strip()


@st.composite
def example_and_overrides(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An example and one or two ``--set`` arguments: half change a value to one of its own type."""
    name = draw(st.sampled_from(sorted(EXAMPLE_DOCUMENTS)))
    document = EXAMPLE_DOCUMENTS[name]
    leaves = [(text, value) for text, value in zip(_spec_paths(document), _values(document))
              if not isinstance(value, (dict, list))]
    same_type = st.sampled_from(leaves).flatmap(
        lambda leaf: _like(leaf[1]).map(lambda value: f"{leaf[0]}={_toml_text(value)}")
    )
    return name, draw(st.lists(often(same_type, override_strings, odds=1), min_size=1, max_size=2))


def _values(node: Any) -> list[Any]:
    """The values at :func:`_paths` of a document, in the same order."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for _, value in items:
        found += [value, *_values(value)]
    return found


def _dumpable(value: Any) -> bool:
    try:
        tomli_w.dumps({"v": value})
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- the property


def spec_or_spec_error(load) -> Spec | None:
    """Call ``load``; it must return a usable Spec or raise a SpecError that renders."""
    try:
        spec = load()
    except SpecError as err:
        assert err.problems, "a SpecError without problems"
        assert str(err)
        event("SpecError")
        return None
    event("valid spec")  # pytest --hypothesis-show-statistics shows the share of each outcome
    check_usable(spec)
    return spec


def check_usable(spec: Spec) -> None:
    """A valid spec resolves and fingerprints, and what the registry stores validates back to it."""
    assert isinstance(spec, Spec)
    resolved = spec.resolved()
    assert len(spec.fingerprint()) == 64
    again = validate_spec(resolved, source=spec.source)
    assert again.fingerprint() == spec.fingerprint()


def _through_the_loader(document: dict[str, Any], overrides: list[str] = ()) -> Spec:
    return validate_spec(apply_overrides(expand_shorthands(document), overrides), source="fuzz.toml")


@FUZZ
@given(spec_documents)
def test_generated_documents_give_a_spec_or_a_spec_error(document):
    spec_or_spec_error(lambda: _through_the_loader(document))


@FUZZ
@given(mutated_examples())
def test_mutated_examples_give_a_spec_or_a_spec_error(document):
    spec_or_spec_error(lambda: _through_the_loader(document))


@FUZZ
@given(example_and_overrides())
def test_set_overrides_give_a_spec_or_a_spec_error(example_overrides):
    example, overrides = example_overrides
    spec_or_spec_error(lambda: _through_the_loader(EXAMPLE_DOCUMENTS[example], overrides))


@FUZZ
@given(st.dictionaries(often(st.sampled_from(EXAMPLE_PATHS), st.one_of(st.text(max_size=20), st.integers())),
                       often(st.one_of(st.integers(0, 64), st.floats(0, 1), st.sampled_from(PLAUSIBLE)),
                             st.one_of(toml_values, st.none(), st.tuples(scalars))),
                       max_size=2))
def test_api_overrides_give_a_spec_or_a_spec_error(overrides):
    """The Python API's form: a mapping of spec path to any value (``run(spec, overrides={...})``)."""
    spec_or_spec_error(lambda: _through_the_loader(EXAMPLE_DOCUMENTS["weather.toml"], overrides))


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    """One file the file-level tests overwrite with each example."""
    return tmp_path_factory.mktemp("fuzz") / "fuzz.toml"


@FUZZ
@given(text=st.one_of(mutated_texts(), st.text(max_size=200)), overrides=st.lists(override_strings, max_size=2))
def test_spec_files_give_a_spec_or_a_spec_error(spec_file, text, overrides):
    spec_file.write_text(text, encoding="utf-8")
    spec_or_spec_error(lambda: load_spec(spec_file, overrides))


@FUZZ
@given(data=st.binary(max_size=200))
def test_unreadable_bytes_give_a_spec_error_or_a_document(spec_file, data):
    path = spec_file
    path.write_bytes(data)
    try:
        document = read_toml(path)
    except SpecError as err:
        assert str(err).startswith(str(path))
        return
    assert isinstance(document, dict)


@pytest.mark.parametrize("example", sorted(EXAMPLE_DOCUMENTS))
def test_every_example_is_usable(example):
    check_usable(load_spec(EXAMPLES / example))
