"""Tests of data.target_scaling: the fitted scaling as data, the pipeline's scaled network target, the saved
preprocessing, the refusals for classes, the spread suggestion, and predictions put back into the target's units."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.data.preprocessing import Preprocessing, TablePreprocessing
from dlworkflow.data.target_scaling import TargetScaling, target_spread_notes
from dlworkflow.errors import DataError, SpecError
from dlworkflow.sharing.prediction import predict_part
from dlworkflow.spec import Spec, validate_spec


def spec_from(data: dict, split: dict | None = None) -> Spec:
    """A validated spec with the given [data] (and [split]) and a one-unit output layer."""
    document = {"name": "test", "data": data, "model": {"layers": [{"type": "Dense", "units": 1}]}}
    if split is not None:
        document["split"] = split
    return validate_spec(document, source="test.toml")


def regression_frame(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    """Two features and a target of spread about 70 around 150, as scikit-learn's diabetes progression."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(rows), rng.standard_normal(rows)
    return pd.DataFrame({"a": a, "b": b, "y": 150 + 60 * a - 30 * b + 5 * rng.standard_normal(rows)})


def test_fit_transform_and_inverse_round_trip():
    scaling = TargetScaling.fit("standardize", [25.0, 150.0, 346.0])

    scaled = scaling.transform([25.0, 150.0, 346.0])

    assert scaled.dtype == np.float32
    assert float(np.mean(scaled)) == pytest.approx(0.0, abs=1e-6)
    assert float(np.std(scaled)) == pytest.approx(1.0, abs=1e-6)
    assert scaling.inverse(scaled).tolist() == pytest.approx([25.0, 150.0, 346.0], rel=1e-6)


def test_a_constant_target_gets_scale_one():
    assert TargetScaling.fit("standardize", [5.0, 5.0, 5.0]) == TargetScaling("standardize", 5.0, 1.0)


def test_saved_form_round_trips_and_bad_values_name_the_key():
    scaling = TargetScaling("standardize", 152.1, 77.0)
    assert TargetScaling.from_dict(json.loads(json.dumps(scaling.to_dict()))) == scaling

    with pytest.raises(DataError, match=r"run/preprocessing\.json: preprocessing\.target_scaling\.scale: must be above 0"):
        TargetScaling.from_dict({"method": "standardize", "offset": 1.0, "scale": 0.0}, source="run/preprocessing.json")
    with pytest.raises(DataError, match=r"preprocessing\.target_scaling\.method: must be one of 'none', 'standardize'"):
        TargetScaling.from_dict({"method": "minmax"})
    with pytest.raises(DataError, match=r"preprocessing\.target_scaling\.offset: must be a finite number; got 'x'"):
        TargetScaling.from_dict({"method": "standardize", "offset": "x"})


def test_keras_values_go_back_to_the_targets_units():
    scaling = TargetScaling("standardize", 100.0, 10.0)

    values = scaling.keras_values(
        {"loss": 0.25, "root_mean_squared_error": 0.5, "mae": 0.4, "r2_score": 0.7, "cosine_similarity": 0.9}, "mse",
    )

    assert values == pytest.approx(
        {"loss": 25.0, "root_mean_squared_error": 5.0, "mae": 4.0, "r2_score": 0.7, "cosine_similarity_standardized": 0.9}
    )
    assert TargetScaling().keras_values({"loss": 0.25}, "mse") == {"loss": 0.25}


def test_pipeline_trains_on_the_scaled_target_and_keeps_the_labels():
    spec = spec_from({"target": "y", "target_scaling": "standardize"}, split={"test": 0.2, "seed": 0})

    dataset = build_dataset(spec, frame=regression_frame())

    train, test = dataset.train, dataset.test
    scaling = dataset.preprocessing.target_scaling
    assert scaling.method == "standardize"
    assert scaling.offset == pytest.approx(float(np.mean(train.labels)))
    assert scaling.scale == pytest.approx(float(np.std(train.labels)))
    assert float(np.mean(train.y)) == pytest.approx(0.0, abs=1e-5)
    assert test.y == pytest.approx((test.labels - scaling.offset) / scaling.scale, rel=1e-5)
    assert float(np.mean(test.labels)) > 100  # the labels (baselines, metrics, plots) stay in the target's units
    saved = json.loads(json.dumps(dataset.preprocessing.to_dict()))
    assert list(saved)[-1] == "target_scaling"
    assert Preprocessing.from_dict(saved) == dataset.preprocessing


def test_without_target_scaling_the_preprocessing_is_written_as_before():
    dataset = build_dataset(spec_from({"target": "y"}), frame=regression_frame())

    assert "target_scaling" not in dataset.preprocessing.to_dict()
    assert dataset.train.y == pytest.approx(dataset.train.labels.astype(np.float32))


def test_the_spread_of_an_unscaled_target_is_a_warning_with_the_fix():
    dataset = build_dataset(spec_from({"target": "y"}), frame=regression_frame())
    scaled = build_dataset(spec_from({"target": "y", "target_scaling": "standardize"}), frame=regression_frame())

    notes = [warning for warning in dataset.warnings if "data.target_scaling" in warning]
    assert len(notes) == 1
    assert notes[0].startswith("test.toml: data.target_scaling: the training target's standard deviation is ")
    assert "Try target_scaling = 'standardize' in [data]" in notes[0]
    assert not any("data.target_scaling" in warning for warning in scaled.warnings)
    assert target_spread_notes("regression", [1.0, 2.0, 4.0], "none") == ()
    assert target_spread_notes("classification", [0.0, 100.0], "none") == ()


def test_target_scaling_is_refused_for_classes():
    with pytest.raises(SpecError, match=r"data\.target_scaling: applies to a regression target only, and data\.task "
                                         r"is 'classification'; got 'standardize'"):
        spec_from({"target": "y", "task": "classification", "target_scaling": "standardize"})
    frame = regression_frame().assign(y=lambda f: np.where(f["y"] > 150, "high", "low"))
    with pytest.raises(SpecError, match=r"test\.toml: data\.target_scaling: applies to a regression target only"):
        build_dataset(spec_from({"target": "y", "target_scaling": "standardize"}), frame=frame)


class StandardizedModel:
    """A stand-in for a Keras model that predicts the standardized target: the mean of the features."""

    def predict(self, x, batch_size=None, verbose=0):
        return np.asarray(x, dtype=np.float32).mean(axis=1, keepdims=True)


def test_shared_predictions_are_in_the_targets_units():
    dataset = build_dataset(spec_from({"target": "y", "target_scaling": "standardize"}), frame=regression_frame())
    saved = TablePreprocessing.from_dict(json.loads(json.dumps(dataset.preprocessing.to_dict())))
    part = dataset.test
    scaling = saved.target_scaling

    predicted = predict_part(StandardizedModel(), part, saved)

    assert predicted == pytest.approx(part.x.mean(axis=1) * scaling.scale + scaling.offset, rel=1e-5)
