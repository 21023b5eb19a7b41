"""Tests of dlworkflow.execution.run_plots: a run's regression plots beside its headline baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlworkflow.evaluation import baselines_for
from dlworkflow.execution import run_plots
from dlworkflow.execution.run_plots import (
    PlotWriter,
    headline_baseline_predictions,
    save_regression_plots,
)
from dlworkflow.registry.record_sections import Headline
from dlworkflow.spec import validate_spec


class Folder:
    """The one thing PlotWriter asks of a run folder: where a file goes."""

    def __init__(self, directory: Path):
        self.directory = directory

    def path(self, name: str) -> Path:
        return self.directory / name


@pytest.fixture
def spec():
    return validate_spec(
        {"name": "fake", "data": {"path": "fake.csv", "target": "y"}, "model": {"layers": [{"type": "Dense", "units": 1}]},
         "train": {"epochs": 1}},
        source="fake.toml",
    )


@pytest.fixture
def dataset(make_dataset):
    return make_dataset(task="regression", rows=60)


def test_the_headline_baseline_is_refitted_on_training_rows_only(spec, dataset):
    headline = Headline(metric="rmse", value=1.0, baseline="linear_regression")
    predicted = headline_baseline_predictions(spec, dataset, headline, ["train", "test"])
    (baseline,) = [b for b in baselines_for(dataset, spec.evaluate) if b.name == "linear_regression"]
    baseline.fit(dataset.train)
    assert set(predicted) == {"train", "test"}
    for part in ("train", "test"):
        np.testing.assert_allclose(predicted[part], baseline.predict(dataset.parts[part]), rtol=1e-12)
    assert headline_baseline_predictions(spec, dataset, Headline(metric="rmse", baseline=None), ["test"]) == {}


def test_given_baseline_predictions_are_drawn_without_fitting_again(spec, dataset, tmp_path, monkeypatch):
    def no_refit(*args, **kwargs):
        raise AssertionError("the baseline was fitted again")

    monkeypatch.setattr(run_plots, "headline_baseline_predictions", no_refit)
    predictions = {part: dataset.parts[part].labels + 0.5 for part in ("train", "test")}
    baseline = {part: dataset.parts[part].labels - 1.0 for part in ("train", "test")}
    writer = PlotWriter(Folder(tmp_path))
    headline = Headline(metric="rmse", value=0.5, baseline="linear_regression")
    save_regression_plots(writer, spec, dataset, predictions, headline, baseline_predictions=baseline)
    assert sorted(path.name for path in tmp_path.glob("*.png")) == ["predicted_vs_true.png", "residuals.png"]
    assert writer.warnings() == []
