"""A penguins run with ``[train] class_weight``: the weights and class counts in the record, ``dlw show`` and the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlworkflow
from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow  # a real run of the lesson's penguins (about 7 s); tests/training/test_class_weights.py and
# tests/evaluation/test_classes.py cover the weights, the counts and their wording by default
def test_a_balanced_run_records_its_weights_and_class_counts_and_shows_them(registry_url, tmp_path):
    result = dlworkflow.run(EXAMPLES / "penguins.toml", registry=registry_url, train__epochs=2,
                            train__class_weight="balanced")
    record = result.record
    counts = record.classes["counts"]
    assert list(counts) == ["train", "test"]  # the lesson's penguins have no validation part
    assert {part: sum(rows.values()) for part, rows in counts.items()} == {
        "train": record.split.train, "test": record.split.test}
    train = counts["train"]
    expected = {name: sum(train.values()) / (3 * rows) for name, rows in train.items()}
    assert record.training.class_weight == pytest.approx(expected)
    assert record.training.class_weight["Chinstrap"] > 1 > record.training.class_weight["Adelie"]
    assert record.to_dict()["training"]["class_weight"] == record.training.class_weight

    shown = CliRunner().invoke(app, ["show", record.id, "--registry", registry_url], terminal_width=400)
    assert shown.exit_code == 0, shown.output
    lines = [f"{name} {rows}/{counts['test'][name]}" for name, rows in train.items()]
    assert "rows per class (train / test): " + " · ".join(lines) in shown.output
    assert "class weights in the training loss (balanced on the training rows): Adelie 0.7" in shown.output
    assert "test accuracy per class (its recall): Adelie" in shown.output

    page = tmp_path / "report.html"
    reported = CliRunner().invoke(app, ["report", record.id, "-o", str(page), "--registry", registry_url])
    assert reported.exit_code == 0, reported.output
    html = page.read_text()
    section = html[html.index('<section id="classes">'):html.index('<section id="data">')]
    assert "<td>Chinstrap</td>" in section and f'<td class="number">{train["Chinstrap"]}</td>' in section
    assert "weight in the" in section and 'train.class_weight = "balanced"' in section
