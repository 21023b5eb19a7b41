"""The [tune] section: paths checked against the spec before any training, values suggested and applied."""

from __future__ import annotations

import optuna
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec import validate_spec
from dlworkflow.spec.schema import TuneSpec
from dlworkflow.tuning.search_space import (
    apply_trial,
    check_parameters,
    grid,
    suggest,
    trial_count,
)
from dlworkflow.tuning.study import direction, study_spec_hash

BASE = {
    "name": "tiny",
    "data": {"dataset": "weather", "target": "BASEL_sunshine"},
    "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.5},
                         {"type": "Dense", "units": 1}]},
}


def spec_with(parameters, **tune):
    return validate_spec({**BASE, "tune": {"parameters": parameters, **tune}}, source="tune.toml")


def test_paths_that_exist_pass_including_settings_left_out():
    check_parameters(spec_with({
        "model.layers[0].units": [4, 8],
        "model.layers[1].rate": {"low": 0.1, "high": 0.9},
        "train.optimizer.learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
    }))


@pytest.mark.parametrize(("path", "fragment"), [
    ("model.layers[5].units", "is not in the spec (model.layers has 3 item(s))"),
    ("model.layers[0].unitz", "is not in the spec (no 'unitz' at model.layers[0])"),
    ("train.optimiser.learning_rate", "is not in the spec (no 'optimiser' at train)"),
])
def test_a_path_that_is_not_in_the_spec_is_named(path, fragment):
    with pytest.raises(SpecError) as info:
        check_parameters(spec_with({path: [1, 2]}))
    message = str(info.value)
    assert f'tune.toml: tune.parameters."{path}": {fragment}' in message


def test_a_misspelt_key_gets_a_did_you_mean():
    with pytest.raises(SpecError, match="Did you mean 'units'"):
        check_parameters(spec_with({"model.layers[0].unitz": [1, 2]}))


def test_a_value_that_makes_the_spec_invalid_is_caught_before_training():
    with pytest.raises(SpecError) as info:
        check_parameters(spec_with({"train.batch_size": [32, 0]}))
    assert "the value 0 makes the spec invalid: train.batch_size: must be greater than 0" in str(info.value)


def test_a_missing_tune_section_says_what_to_add():
    with pytest.raises(SpecError, match=r"tune: is missing: dlw tune needs a \[tune\] section"):
        check_parameters(validate_spec(BASE, source="tune.toml"))


def test_a_trial_spec_has_the_values_and_no_tune_section():
    spec = spec_with({"model.layers[0].units": [4, 8]})
    trial_spec = apply_trial(spec, {"model.layers[0].units": 4, "model.layers[1].rate": 0.2})
    assert trial_spec.model.layers[0].arguments["units"] == 4
    assert trial_spec.model.layers[1].arguments["rate"] == 0.2
    assert trial_spec.tune is None and trial_spec.source == "tune.toml"


def test_suggestions_follow_choices_and_ranges():
    parameters = spec_with({
        "model.layers[0].units": [4, 8],
        "model.layers[1].rate": {"low": 0.1, "high": 0.9},
        "train.batch_size": {"low": 8, "high": 64, "step": 8},
    }).tune.parameters
    trial = optuna.trial.FixedTrial({"model.layers[0].units": 8, "model.layers[1].rate": 0.3, "train.batch_size": 16})
    assert suggest(trial, parameters) == {"model.layers[0].units": 8, "model.layers[1].rate": 0.3, "train.batch_size": 16}
    assert isinstance(suggest(trial, parameters)["train.batch_size"], int)


def test_grid_size_is_the_default_number_of_trials():
    tune = TuneSpec(parameters={"model.layers[0].units": [1, 2], "model.layers[1].rate": [0.2, 0.5, 0.8]},
                    sampler="grid")
    assert grid(tune.parameters) == {"model.layers[0].units": [1, 2], "model.layers[1].rate": [0.2, 0.5, 0.8]}
    assert trial_count(tune) == 6
    assert trial_count(TuneSpec(parameters={"a": [1]})) == 20
    assert trial_count(TuneSpec(parameters={"a": [1]}, n_trials=3)) == 3


def test_grid_refuses_ranges():
    with pytest.raises(SpecError, match="the grid sampler needs a list of choices"):
        spec_with({"model.layers[1].rate": {"low": 0.1, "high": 0.9}}, sampler="grid")


@pytest.mark.parametrize(("objective", "expected"), [
    ("val_loss", "minimize"), ("rmse", "minimize"), ("val_accuracy", "maximize"), ("accuracy", "maximize"),
])
def test_direction_follows_the_objective(objective, expected):
    assert direction(TuneSpec(parameters={"a": [1]}, objective=objective)) == expected


def test_more_trials_keep_the_study_but_other_settings_do_not():
    spec = spec_with({"model.layers[0].units": [4, 8]}, n_trials=4)
    assert study_spec_hash(spec) == study_spec_hash(spec_with({"model.layers[0].units": [4, 8]}, n_trials=9))
    assert study_spec_hash(spec) != study_spec_hash(spec_with({"model.layers[0].units": [4, 16]}, n_trials=4))


@pytest.mark.parametrize("example", ["weather_tune", "cifar10_tune_dropout", "cifar10_tune_grid"])
def test_the_tuning_examples_tune_paths_their_specs_have(example):
    from pathlib import Path

    from dlworkflow.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / f"{example}.toml")
    check_parameters(spec)
    assert trial_count(spec.tune) == {"weather_tune": 20, "cifar10_tune_dropout": 6, "cifar10_tune_grid": 6}[example]


# ---- one rate tied across several Dropout layers (the lesson's create_nn_with_dropout(dropout_rate)) ----

THREE_DROPOUTS = {
    **BASE,
    "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.5},
                         {"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dropout", "rate": 0.5},
                         {"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 1}]},
}
TIED = "model.layers[1].rate, model.layers[3].rate,model.layers[4].rate"


def tied_spec(parameters, **tune):
    return validate_spec({**THREE_DROPOUTS, "tune": {"parameters": parameters, **tune}}, source="tune.toml")


def test_a_tied_parameter_sets_every_path_to_one_value_and_is_one_grid_dimension():
    spec = tied_spec({TIED: [0.2, 0.9], "model.layers[0].units": [4, 8]}, sampler="grid")
    check_parameters(spec)
    assert trial_count(spec.tune) == 4  # 2 rates × 2 sizes, not 2³ × 2
    trial = apply_trial(spec, {TIED: 0.9, "model.layers[0].units": 4})
    assert [layer.arguments.get("rate") for layer in trial.model.layers] == [None, 0.9, None, 0.9, 0.9, None]
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid(spec.tune.parameters), seed=0))
    settings = suggest(study.ask(), spec.tune.parameters)
    assert set(settings) == {TIED, "model.layers[0].units"} and settings[TIED] in (0.2, 0.9)


@pytest.mark.parametrize(("parameters", "fragment"), [
    ({TIED.replace("[4]", "[9]"): [0.2]}, "'model.layers[9].rate' is not in the spec (model.layers has 6 item(s))"),
    ({"model.layers[1].rate, model.layers[1].rate": [0.2]}, "'model.layers[1].rate' is tuned twice"),
    ({TIED: [0.2], "model.layers[3].rate": [0.5]}, "'model.layers[3].rate' is tuned twice (also in"),
    ({"model.layers[1].rate, ": [0.2]}, "'' is not a spec path"),
    ({"train.epochs, train.batch_size": [4, 0]}, "the value 0 makes the spec invalid: train."),
])
def test_a_bad_tied_parameter_is_named(parameters, fragment):
    with pytest.raises(SpecError) as info:
        check_parameters(tied_spec(parameters))
    assert fragment in str(info.value)
