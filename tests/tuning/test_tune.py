"""dlw tune end to end: trials are validation-only runs, the best is trained once more on test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlworkflow
from dlworkflow.api import tune
from dlworkflow.cli import app
from dlworkflow.errors import SpecError
from dlworkflow.registry import Registry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST = {"train__epochs": 2}


def records(registry_url):
    with Registry.open(registry_url) as store:
        return [store.get(row.id).to_dict() for row in store.list_runs()]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The weather study of 4 trials (2 epochs each) and its final run, in a registry of its own.

    Tests read it; a test that adds to it works on a copy (:func:`copy_of`).
    """
    registry = f"sqlite:///{tmp_path_factory.mktemp('study') / 'dlw' / 'registry.db'}"
    return registry, tune(EXAMPLES / "weather_tune.toml", registry=registry, tune__n_trials=4, **FAST)


def copy_of(registry_url, tmp_path):
    """A copy of a SQLite registry's folder (the registry, its studies and run folders), and its URL."""
    shutil.copytree(Path(registry_url.removeprefix("sqlite:///")).parent, tmp_path / "dlw")
    return f"sqlite:///{tmp_path / 'dlw' / 'registry.db'}"


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_trials_are_runs_scored_on_validation_and_only_the_final_run_looks_at_test(study):
    registry_url, result = study

    stored = records(registry_url)
    trials = [r for r in stored if (r["study"] or {}).get("role") == "trial"]
    finals = [r for r in stored if (r["study"] or {}).get("role") == "final"]
    assert len(trials) == 4 and len(finals) == 1 and len(stored) == 5
    for record in trials:
        assert not record["metrics"]["test"] and record["test_set"]["fingerprint"] is None
        assert record["primary"]["metric"] == "val_loss" and record["primary"]["value"] is not None
        assert record["study"]["name"] == "weather_tune"
    final = finals[0]
    assert final["test_set"] == {**final["test_set"], "name": "weather_3_years_v1", "looks": 1, "look": 1}
    assert final["study"]["params"] == result.best_params
    best_trial = min(trials, key=lambda r: r["primary"]["value"])
    assert final["study"]["trial"] == best_trial["study"]["trial"]
    # The table, and Optuna's plots, are kept with the study.
    assert list(result.trials["run_id"]) == [r["id"] for r in sorted(trials, key=lambda r: r["study"]["trial"])]
    assert {"trials.csv", "optimization_history.png"} <= set(result.files)
    assert (result.folder / "trials.csv").is_file()


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_running_the_study_again_continues_it_without_a_second_test_look(study, tmp_path):
    registry_url = copy_of(study[0], tmp_path)
    again = tune(EXAMPLES / "weather_tune.toml", registry=registry_url, tune__n_trials=5, **FAST)
    assert len(again.trials) == 5  # one more trial, the first four kept
    looks = [r["test_set"]["looks"] for r in records(registry_url) if (r["study"] or {}).get("role") == "final"]
    assert max(looks) <= 2  # a new final run only if the best trial changed


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_a_study_name_made_from_another_spec_is_refused(study, tmp_path):
    registry_url = copy_of(study[0], tmp_path)
    with pytest.raises(SpecError, match="a study named 'weather_tune' already exists, made from a different spec"):
        tune(EXAMPLES / "weather_tune.toml", registry=registry_url, tune__n_trials=1, train__epochs=3)


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_the_same_seed_gives_the_same_trials_in_the_same_order(study, tmp_path):
    first = study[1]  # the study "weather_tune", 4 trials
    second = tune(EXAMPLES / "weather_tune.toml", registry=copy_of(study[0], tmp_path), tune__n_trials=4,
                  tune__study="again", **FAST)
    columns = ["model.layers[0].units", "model.layers[1].units"]
    assert first.trials[columns].to_dict("records") == second.trials[columns].to_dict("records")


def test_a_tuned_path_not_in_the_spec_fails_before_any_training(tmp_path, registry_url):
    spec = tmp_path / "bad_tune.toml"
    spec.write_text((EXAMPLES / "weather_tune.toml").read_text().replace(
        '"model.layers[1].units" = [5, 10, 25, 50]', '"model.layers[7].units" = [5, 10]'
    ))
    result = CliRunner().invoke(app, ["tune", str(spec), "--registry", registry_url])
    assert result.exit_code == 2
    assert 'tune.parameters."model.layers[7].units": is not in the spec (model.layers has 3 item(s))' in result.output
    assert records(registry_url) == []


@pytest.mark.slow  # two worker processes; tests/registry/test_concurrent_writers.py covers concurrent writes
def test_two_workers_record_every_trial_exactly_once(any_registry_url):
    # On PostgreSQL the study lives in the registry's own database (a group's one server).
    result = tune(EXAMPLES / "weather_tune.toml", registry=any_registry_url, workers=2, tune__n_trials=4,
                  train__epochs=1)
    stored = records(any_registry_url)
    trial_numbers = sorted(r["study"]["trial"] for r in stored if r["study"]["role"] == "trial")
    assert trial_numbers == [0, 1, 2, 3]
    assert sorted(result.trials["trial"]) == [0, 1, 2, 3]
    assert set(result.trials["state"]) == {"complete"}


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_dlw_tune_prints_the_study_table_and_the_final_run(registry_url):
    result = CliRunner().invoke(app, ["tune", str(EXAMPLES / "weather_tune.toml"), "--registry", registry_url,
                                      "--set", "tune.n_trials=2", "--set", "train.epochs=1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "study weather_tune (2 trials" in result.output
    assert "best on validation: model.layers[0].units = " in result.output
    assert "test set weather_3_years_v1" in result.output and "look #1" in result.output
    listing = json.loads(CliRunner().invoke(app, ["runs", "--registry", registry_url, "--json"]).output)
    assert len(listing) == 3
    assert dlworkflow.runs(registry=registry_url).shape[0] == 3
