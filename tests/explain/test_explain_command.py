"""dlw explain on a recorded run: columns ranked, a bar chart and explanation.json in the run folder, test looks counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


@pytest.fixture(scope="module")
def weather_small_run(tmp_path_factory):
    import dlworkflow

    registry = f"sqlite:///{tmp_path_factory.mktemp('explain') / 'registry.db'}"
    result = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry, train__epochs=2, train__backend="jax")
    return result, registry


@pytest.mark.slow  # trains a run and scores 89 columns × 5 shuffles (about 10 s)
def test_explain_ranks_the_89_weather_features_and_writes_the_chart(weather_small_run):
    result, registry = weather_small_run
    explained = invoke("explain", result.id, "--rows", 100, "--registry", registry)
    assert explained.exit_code == 0, explained.output
    assert "Permutation importance" in explained.output and "100 validation rows" in explained.output
    folder = Path(result.record["artifacts"]["dir"])
    saved = json.loads((folder / "explanation.json").read_text())["permutation_importance"]
    assert saved["metric"] == "rmse" and saved["part"] == "validation" and saved["rows"] == 100
    assert len(saved["columns"]) == 89 and {column["column"] for column in saved["columns"]} >= {"BASEL_sunshine"}
    importances = [column["importance"] for column in saved["columns"]]
    assert importances == sorted(importances, reverse=True) and importances[0] > 0
    assert (folder / "feature_importance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Explanations" in Path(result.report()).read_text()
    shown = json.loads(invoke("show", result.id, "--json", "--registry", registry).output)  # the record holds it
    assert shown["explanation"]["permutation_importance"]["columns"] == saved["columns"]
    assert {"explanation.json", "feature_importance.png"} <= set(shown["artifacts"]["files"])
    in_folder = json.loads((folder / "run.json").read_text())  # and so does the run folder's copy
    assert in_folder["explanation"]["permutation_importance"]["rows"] == 100
    again = result.explain(rows=50, repeats=1, registry=registry)
    assert again.importance.rows == 50 and len(again.importance.columns) == 89

    looked = invoke("explain", result.id, "--part", "test", "--rows", 20, "--repeats", 1, "--registry", registry)
    assert looked.exit_code == 0, looked.output
    assert "look #2 at it" in looked.output or "look #2" in looked.output


@pytest.mark.slow
def test_a_bad_part_is_one_error(weather_small_run):
    result, registry = weather_small_run
    refused = invoke("explain", result.id, "--part", "train", "--registry", registry)
    assert refused.exit_code == 2
    assert "--part" in refused.output and "'train'" in refused.output and "validation" in refused.output
