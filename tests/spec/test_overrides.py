"""``--set PATH=VALUE`` parsing and application."""

from __future__ import annotations

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec.overrides import apply_overrides, parse_path, parse_value


def test_parse_path_with_indices():
    assert parse_path("model.layers[0].units") == ["model", "layers", 0, "units"]
    assert parse_path("train.optimizer.learning_rate") == ["train", "optimizer", "learning_rate"]


@pytest.mark.parametrize("bad", ["", "a..b", "[0].x", "a.b]", "a[x]"])
def test_parse_path_rejects_malformed(bad):
    with pytest.raises(SpecError, match="is not a spec path"):
        parse_path(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), ("0.15", 0.15), ("true", True), ('"adam"', "adam"), ("[10, 5]", [10, 5]),
     ("BASEL_sunshine", "BASEL_sunshine"), ("{ monitor = 'loss' }", {"monitor": "loss"})],
)
def test_parse_value_reads_toml_or_falls_back_to_text(text, value):
    assert parse_value(text) == value


def test_apply_creates_tables_and_leaves_input_alone():
    document = {"train": {"epochs": 200}}
    result = apply_overrides(document, ["train.early_stopping.patience=3", "train.epochs=2"])
    assert result == {"train": {"epochs": 2, "early_stopping": {"patience": 3}}}
    assert document == {"train": {"epochs": 200}}


def test_apply_reports_every_bad_override():
    with pytest.raises(SpecError) as info:
        apply_overrides({"model": {"layers": [{}]}}, ["model.layers[3].units=4", "nonsense", "model.layers.x=1"])
    messages = [str(problem) for problem in info.value.problems]
    assert len(messages) == 3
    assert "index out of range: model.layers has 1 item(s)" in messages[0]
    assert "must be PATH=VALUE" in messages[1]
    assert "model.layers is not a table" in messages[2]


def test_apply_mapping_of_python_values():
    result = apply_overrides({"model": {"layers": [{"units": 100}]}}, {"model.layers[0].units": 7, "name": "n"})
    assert result == {"model": {"layers": [{"units": 7}]}, "name": "n"}
