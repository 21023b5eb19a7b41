"""dlw inspect: the columns, the target per part and the warnings of a spec's data, without training."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dlworkflow.cli import app

runner = CliRunner()


def invoke(*arguments: str):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


def test_inspect_penguins_all_columns_shows_categories_and_imputation():
    result = invoke("inspect", "examples/penguins_all_columns.toml")
    assert result.exit_code == 0, result.output
    assert "penguins_all_columns: penguins, 344 rows → 12 network inputs" in result.output
    assert "category" in result.output and "Torgersen" in result.output and "one-hot of 3" in result.output
    assert "'impute' filled 19 gaps in 5 columns" in result.output and "sex 11 ('FEMALE')" in result.output
    assert "Chinstrap" in result.output and "validation" in result.output


def test_inspect_json_weather():
    result = invoke("inspect", "examples/weather.toml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["task"], data["inputs"], data["target"]) == ("regression", 89, "BASEL_sunshine")
    assert [part["rows"] for part in data["parts"]] == [767, 164, 165]
    assert data["columns"][0] == {**data["columns"][0], "name": "DATE", "role": "dropped"}


def test_inspect_says_what_would_stop_the_run_and_exits_zero():
    result = invoke("inspect", "examples/penguins.toml", "--set", "data.dropna=false")
    assert result.exit_code == 0
    assert "dlw run would stop:" in result.output and "data.dropna" in result.output


def test_inspect_an_unknown_target_is_shown_and_a_missing_spec_is_an_error():
    result = invoke("inspect", "examples/penguins.toml", "--set", "data.target=nope")
    assert result.exit_code == 0 and "no column 'nope'" in result.output
    missing = invoke("inspect", "no_such_spec.toml")
    assert missing.exit_code == 2
