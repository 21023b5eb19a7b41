"""Spec loading: TOML errors, unknown keys, every constraint's message, all errors at once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec import load_spec, validate_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MINIMAL = {
    "name": "tiny",
    "data": {"dataset": "weather", "target": "BASEL_sunshine"},
    "model": {"layers": [{"type": "Dense", "units": 1}]},
}


def with_value(path: str, value):
    """MINIMAL with one value set at a dotted path (tables created on the way)."""
    document = copy.deepcopy(MINIMAL)
    *tables, key = path.split(".")
    node = document
    for table in tables:
        node = node.setdefault(table, {})
    node[key] = value
    return document


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_every_example_validates(example):
    spec = load_spec(EXAMPLES / example)
    assert spec.source.endswith(example)
    assert spec.name


# One invalid value for every declared constraint: (path, value, expected wording).
CONSTRAINTS = [
    ("name", "", "at least 1 character"),
    ("description", "x" * 2001, "at most 2000 characters"),
    ("data.rows", 0, "must be greater than 0"),
    ("data.shift", "tomorrow", "must be an integer"),
    ("data.dropna", "yes please", "must be true or false"),
    ("data.task", "clasification", "Did you mean 'classification'"),
    ("data.target_encoding", "one-hot", "Did you mean 'onehot'"),
    ("data.scaling", "standardise", "Did you mean 'standardize'"),
    ("split.type", "ordred", "Did you mean 'ordered'"),
    ("split.test", 0, "must be greater than 0"),
    ("split.test", 1.0, "less than 1"),
    ("split.validation", -0.1, "must be 0 or more"),
    ("split.seed", -1, "must be 0 or more"),
    ("train.epochs", -5, "must be greater than 0"),
    ("train.batch_size", 0, "must be greater than 0"),
    ("train.seed", -3, "must be 0 or more"),
    ("train.backend", "jx", "Did you mean 'jax'"),
    ("train.optimizer", "adamm", "Did you mean 'adam'"),
    ("evaluate.metric", "rmsee", "Did you mean 'rmse'"),
    ("model.builder", "not a builder", "should match pattern"),
    ("train.steps_per_execution", 0, "positive whole number of batches or 'auto'"),
    ("train.tensorboard.histogram_freq", -1, "must be 0 or more"),
]


@pytest.mark.parametrize(("path", "value", "wording"), CONSTRAINTS, ids=[c[0] + "=" + repr(c[1]) for c in CONSTRAINTS])
def test_each_constraint_names_path_and_value(path, value, wording):
    with pytest.raises(SpecError) as info:
        validate_spec(with_value(path, value), source="bad.toml")
    message = str(info.value)
    assert message.startswith("bad.toml: ")
    expected_path = "train.optimizer.type" if path == "train.optimizer" else path
    assert f"bad.toml: {expected_path}:" in message
    assert wording in message


@pytest.mark.parametrize(("value", "expected"), [(True, 1), ({"histogram_freq": 0}, 0), (False, None)])
def test_tensorboard_switch_shorthand(value, expected):
    settings = validate_spec(with_value("train.tensorboard", value)).train.tensorboard
    assert (settings.histogram_freq if settings is not None else None) == expected


def test_unknown_layer_names_index_and_suggests():
    document = copy.deepcopy(MINIMAL)
    document["model"]["layers"] = [{"type": "Dnse", "units": 10}]
    with pytest.raises(SpecError, match=r"x\.toml: model\.layers\[0\]\.type: unknown Keras layer 'Dnse'\. Did you mean 'Dense'\?"):
        validate_spec(document, source="x.toml")


def test_unknown_key_suggests_closest():
    document = copy.deepcopy(MINIMAL)
    document["data"]["shfit"] = -1
    with pytest.raises(SpecError, match=r"data\.shfit: unknown key\. Did you mean 'shift'\?"):
        validate_spec(document, source="x.toml")


def test_all_problems_reported_at_once():
    document = copy.deepcopy(MINIMAL)
    document["train"] = {"epochs": 0, "batch_size": -1}
    document["split"] = {"type": "x"}
    with pytest.raises(SpecError) as info:
        validate_spec(document, source="x.toml")
    assert len(info.value.problems) == 3
    assert str(info.value).startswith("3 problems:")


def test_missing_sections_are_named():
    with pytest.raises(SpecError) as info:
        validate_spec({"name": "x"}, source="x.toml")
    assert [p.path for p in info.value.problems] == ["data", "model"]


def test_cross_section_rule_validation_needed_for_val_monitor():
    document = with_value("train.early_stopping", {"monitor": "val_loss"})
    with pytest.raises(SpecError, match="split.validation is 0"):
        validate_spec(document, source="x.toml")
    document["split"] = {"validation": 0.2}
    assert validate_spec(document).train.early_stopping.monitor == "val_loss"


def test_layers_or_builder_required_and_exclusive():
    with pytest.raises(SpecError, match="give model.layers"):
        validate_spec(with_value("model.layers", []))
    with pytest.raises(SpecError, match="not both"):
        validate_spec(with_value("model.builder", "mymodule:create_nn"))


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[data\ntarget = "y"\n')
    with pytest.raises(SpecError, match=r"broken\.toml: invalid TOML: .*line 2"):
        load_spec(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.toml")


def test_overrides_are_validated_like_the_file():
    with pytest.raises(SpecError, match=r"train\.epochs: must be greater than 0; got -1"):
        load_spec(EXAMPLES / "weather.toml", overrides=["train.epochs=-1"])
    spec = load_spec(EXAMPLES / "weather.toml", overrides=["train.epochs=5", "model.layers[0].units=50"])
    assert spec.train.epochs == 5
    assert spec.model.layers[0].arguments["units"] == 50


def test_spec_is_frozen_and_fingerprint_stable():
    spec = validate_spec(MINIMAL)
    with pytest.raises(Exception):
        spec.name = "other"  # type: ignore[misc]
    again = validate_spec(copy.deepcopy(MINIMAL))
    assert spec.fingerprint() == again.fingerprint()
    assert validate_spec(spec.resolved()) == spec
    assert validate_spec(with_value("train.epochs", 11)).fingerprint() != spec.fingerprint()


def test_optimizer_shorthand_and_arguments():
    spec = validate_spec(with_value("train.optimizer", {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9}))
    assert spec.train.optimizer.arguments == {"momentum": 0.9, "learning_rate": 0.1}
    assert validate_spec(with_value("train.optimizer", "rmsprop")).train.optimizer.type == "rmsprop"


def test_override_reaches_inside_the_optimizer_shorthand():
    spec = load_spec(EXAMPLES / "weather.toml", overrides=["train.optimizer.learning_rate=0.01"])
    assert spec.train.optimizer.type == "adam"
    assert spec.train.optimizer.learning_rate == 0.01


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("train.batch_size", "thirty-two", "train.batch_size: must be an integer; got 'thirty-two'. "
                                           "Write a whole number without quotes, e.g. batch_size = 32."),
        ("train.shuffle", "maybe", "train.shuffle: must be true or false; got 'maybe'. "
                                   "Write true or false, lower case and without quotes, e.g. shuffle = true."),
        ("train.metrics", "mae", "train.metrics: must be a list; got 'mae'. Write a list in brackets"),
        ("train.early_stopping", 3, "train.early_stopping: must be a table; got 3. "
                                    "Write it as a table: a [train.early_stopping] header line"),
    ],
)
def test_a_value_of_the_wrong_type_says_how_to_write_it(path, value, message):
    with pytest.raises(SpecError) as caught:
        validate_spec(with_value(path, value), source="t.toml")
    assert f"t.toml: {message}" in str(caught.value)


def test_the_target_named_in_select_without_a_shift_is_leakage():
    document = with_value("data.select", ["BASEL_temp_mean", "BASEL_sunshine"])
    with pytest.raises(SpecError, match=r"t\.toml: data: data\.select\[1\] names the target column "
                                        r"'BASEL_sunshine': .*leaks the answer.*Remove it from data\.select"):
        validate_spec(document, source="t.toml")
    document["data"]["shift"] = -1  # today's sunshine predicts tomorrow's
    assert validate_spec(document).data.select == ("BASEL_temp_mean", "BASEL_sunshine")


def test_inf_and_nan_anywhere_are_refused():
    document = with_value("train.optimizer", {"type": "adam", "learning_rate": float("inf")})
    document["model"]["layers"][0]["units"] = float("nan")
    with pytest.raises(SpecError) as caught:
        validate_spec(document, source="t.toml")
    assert [problem.path for problem in caught.value.problems] == ["model.layers[0].units",
                                                                   "train.optimizer.learning_rate"]
    assert "must be a finite number; got nan" in str(caught.value)


def test_keys_that_look_like_pydantic_internals_are_named_as_written():
    document = {**MINIMAL, "int": 1, "[x": 2}
    with pytest.raises(SpecError) as caught:
        validate_spec(document, source="t.toml")
    assert [problem.path for problem in caught.value.problems] == ["int", "[x"]


def test_e_g_inside_a_rule_does_not_split_its_message():
    document = with_value("train.early_stopping", {"monitor": "val_loss"})
    with pytest.raises(SpecError) as caught:
        validate_spec(document, source="t.toml")
    (problem,) = caught.value.problems
    assert problem.what.endswith("set split.validation (e.g. 0.15) or monitor a training value such as 'loss'")
    assert problem.hint == ""
