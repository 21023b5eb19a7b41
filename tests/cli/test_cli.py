"""The ``dlw`` command line, driven through typer's CliRunner as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def invoke(*arguments: str):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


@pytest.mark.parametrize(
    ("example", "total", "non_trainable"),
    [("penguins", "83", "0"), ("weather", "14,101", "0"), ("weather_small", "961", "0"),
     ("weather_batchnorm", "14,457", "178"), ("weather_basel", "6,137", "18")],
)
def test_summary_counts_the_lessons_parameters(example, total, non_trainable):
    result = invoke("summary", EXAMPLES / f"{example}.toml")
    assert result.exit_code == 0, result.output
    assert f"Total parameters: {total} " in result.output
    assert f"non-trainable {non_trainable})" in result.output


def test_summary_shows_formulas_and_overparameterization_warning():
    result = invoke("summary", EXAMPLES / "weather.toml")
    assert "89·100 + 100 = 9,000" in result.output
    assert "767" in result.output  # training rows, against 14,101 parameters
    assert "warning" in result.output


def test_run_show_runs_comment_round_trip(tmp_path):
    registry = f"sqlite:///{tmp_path / 'registry.db'}"
    result = invoke("run", EXAMPLES / "weather.toml", "--set", "train.epochs=2", "--registry", registry, "--quiet")
    assert result.exit_code == 0, result.output
    assert "linear_regression" in result.output  # the best baseline on validation
    assert "767 train / 164 validation / 165 test" in result.output
    # every baseline the spec asks for, not only the best: the lesson's persistence RMSE 3.877
    assert "every baseline on test, rmse: mean 4." in result.output and "persistence 3.877" in result.output

    listing = json.loads(invoke("runs", "--registry", registry, "--json").output)
    assert len(listing) == 1
    run_id = listing[0]["id"]

    shown = json.loads(invoke("show", run_id[:8], "--registry", registry, "--json").output)
    assert shown["id"] == run_id
    assert shown["split"] == {"type": "random", "seed": 0, "train": 767, "validation": 164, "test": 165}
    assert shown["baselines"]["persistence"]["test"]["rmse"] == pytest.approx(3.877323350410224, abs=1e-9)
    params = shown["params"]
    assert (params["total"], params["trainable"], params["non_trainable"]) == (14101, 14101, 0)
    assert [layer["parameters"] for layer in params["layers"]] == [0, 9000, 5050, 51]
    assert shown["test_set"]["name"] == "weather_3_years_v1"
    assert shown["test_set"]["looks"] == 1

    assert invoke("comment", run_id, "first try, 2 epochs", "--registry", registry).exit_code == 0
    table = invoke("runs", "--registry", registry).output
    assert "test set weather_3_years_v1 · 1 look" in table and "1 looks" not in table
    assert run_id in table
    (row,) = json.loads(invoke("runs", "--registry", registry, "--json").output)
    assert row["comments"] == "first try, 2 epochs"

    assert invoke("comment", run_id, "[/wrong] note", "--registry", registry).exit_code == 0
    assert "comment 2 (" in invoke("show", run_id, "--registry", registry).output
    edited = invoke("comment", run_id, "--edit", "2", "second [try]", "--registry", registry)
    assert "Comment changed on run" in edited.output
    deleted = invoke("comment", run_id, "--delete", "1", "--registry", registry)
    assert (deleted.exit_code, "Comment deleted from run" in deleted.output) == (0, True)
    (row,) = json.loads(invoke("runs", "--registry", registry, "--json").output)
    assert row["comments"] == "second [try]"


def test_misspelt_layer_is_one_clear_error_and_writes_nothing(tmp_path):
    spec = tmp_path / "typo.toml"
    spec.write_text((EXAMPLES / "weather.toml").read_text().replace('type = "Dense"', 'type = "Dnse"', 1))
    registry_file = tmp_path / "registry.db"
    result = runner.invoke(app, ["run", str(spec), "--registry", f"sqlite:///{registry_file}"])
    assert result.exit_code == 2
    assert "model.layers[0].type" in result.output
    assert "Did you mean 'Dense'?" in result.output
    assert not registry_file.exists()


def test_unknown_run_id_is_a_registry_error(tmp_path):
    result = runner.invoke(app, ["show", "nope", "--registry", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 5
    assert "nope" in result.output


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_compare_ranks_runs_of_one_test_set_and_refuses_two_test_sets(tmp_path):
    registry = f"sqlite:///{tmp_path / 'r.db'}"
    for example in ("weather", "weather_small", "weather_basel"):
        renamed = ["--set", "evaluate.test_set=weather_renamed"] if example == "weather_small" else []
        ran = invoke("run", EXAMPLES / f"{example}.toml", "--set", "train.epochs=1", *renamed, "--registry", registry,
                     "--quiet")
        assert ran.exit_code == 0
        if renamed:  # the same rows under a new name are named as the test set they are
            assert "weather_3_years_v1 (cc00f7cb82e8): look #2 of 2 (the spec's 'weather_renamed' is this test set" \
                in ran.output
    rows = json.loads(invoke("runs", "--registry", registry, "--json").output)
    ids = {row["name"]: row["id"] for row in rows}
    same = json.loads(invoke("compare", ids["weather"], ids["weather_small"], "--registry", registry, "--json").output)
    assert same["test_set_name"] == "weather_3_years_v1" and same["metric"] == "rmse"
    ranked = [row["value"] for row in same["rows"]]
    assert ranked == sorted(ranked) and {row["kind"] for row in same["rows"]} == {"run", "baseline"}
    from PIL import Image

    with Image.open(same["curves"]) as curves:  # the two runs' loss curves, overlaid
        assert curves.size[0] > 600
    shown = invoke("compare", ids["weather"], ids["weather_small"], "--registry", registry).output
    assert "epoch 1 (last)" in shown and "weights of" in shown  # which epoch's weights each run was scored with
    refused = runner.invoke(app, ["compare", ids["weather"], ids["weather_basel"], "--registry", registry])
    assert refused.exit_code == 5
    assert "different test sets" in refused.output and "[cc00f7cb82e8]" in refused.output


def test_a_workflow_error_from_any_command_is_its_exit_code_and_one_line():
    import typer

    from dlworkflow.cli import Commands
    from dlworkflow.errors import DataError, SpecError, TrainingError

    assert isinstance(typer.main.get_command(app), Commands)  # every dlw command goes through it

    def failing(kind):
        def fail() -> None:
            raise kind.single("spec.toml", "data.path", "is wrong", hint="Fix it.")
        return fail

    demo = typer.Typer(cls=Commands)
    for kind in (SpecError, DataError, TrainingError):
        demo.command(kind.__name__.lower())(failing(kind))
    for kind, code in ((SpecError, 2), (DataError, 3), (TrainingError, 4)):
        result = runner.invoke(demo, [kind.__name__.lower()])
        assert result.exit_code == code
        assert result.output == "error: spec.toml: data.path: is wrong. Fix it.\n"
