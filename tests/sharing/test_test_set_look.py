"""dlw predict on a registered test set's rows (target included) counts a look and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.data.pipeline import choose_source, prepare_table, split_rows
from dlworkflow.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_rows(spec_file: Path, path: Path) -> Path:
    """The spec's test rows as a CSV with their target, in the order the run fingerprinted them."""
    spec = load_spec(spec_file)
    source, location = choose_source(spec.data, source=spec.source)
    prepared = prepare_table(source.read_table(location, source=spec.source), spec.data, source=spec.source,
                             table_name="rows", persistence=spec.evaluate.persistence)
    positions = split_rows(spec.split, prepared.y, task=prepared.task, class_names=prepared.class_names,
                           source=spec.source)
    rows = prepared.features.iloc[positions["test"]].copy()
    rows[spec.data.target] = prepared.target.iloc[positions["test"]].to_numpy()
    rows.to_csv(path, index=False)
    return path


test_rows.__test__ = False  # a helper, not a test


@pytest.mark.slow
def test_predict_on_the_test_rows_counts_a_look_for_the_model(tmp_path: Path) -> None:
    runner = CliRunner()
    registry = f"sqlite:///{tmp_path / 'registry.db'}"
    spec = EXAMPLES / "penguins.toml"
    ran = runner.invoke(app, ["run", str(spec), "--set", "train.epochs=1", "--registry", registry, "--quiet"])
    assert ran.exit_code == 0, ran.output
    (row,) = json.loads(runner.invoke(app, ["runs", "--registry", registry, "--json"]).output)
    rows = test_rows(spec, tmp_path / "test.csv")

    predicted = runner.invoke(app, ["predict", row["id"], "--input", str(rows), "--registry", registry])
    assert predicted.exit_code == 0, predicted.output
    assert "look #2 at it, counted for run " + row["id"] in predicted.output
    shown = json.loads(runner.invoke(app, ["show", row["id"], "--registry", registry, "--json"]).output)
    assert shown["test_set"]["looks"] == 2

    without_target = tmp_path / "features.csv"
    without_target.write_text("\n".join(line.rsplit(",", 1)[0] for line in rows.read_text().splitlines()) + "\n")
    again = runner.invoke(app, ["predict", row["id"], "--input", str(without_target), "--registry", registry])
    assert again.exit_code == 0 and "look #" not in again.output  # no target: no score, no look
