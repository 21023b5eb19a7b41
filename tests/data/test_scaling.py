"""Tests of dlworkflow.data.scaling: statistics from the training rows, saved as JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from dlworkflow.data.scaling import SCALING_METHODS, Scaler, ScalingMethod, table_methods
from dlworkflow.errors import DataError, SpecError


@pytest.fixture
def train() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.normal(5.0, 2.0, 50), "b": rng.integers(0, 100, 50), "constant": np.full(50, 3.0)}
    )


def test_registry_is_the_spec_layers_and_says_what_each_method_applies_to():
    from dlworkflow.spec import registries

    assert SCALING_METHODS is registries.SCALING_METHODS
    assert list(SCALING_METHODS) == ["none", "standardize", "minmax", "pixels"]
    assert table_methods() == ["none", "standardize", "minmax"]
    assert [name for name in SCALING_METHODS if SCALING_METHODS[name].for_images] == ["none", "minmax", "pixels"]


def test_a_registered_method_is_validated_and_used(train: pd.DataFrame):
    from dlworkflow.spec import validate_spec

    def median_and_range(x):
        return np.median(x, axis=0), np.ones(x.shape[1])

    SCALING_METHODS.register("median_centre", ScalingMethod("subtract the median", statistics=median_and_range))
    try:
        spec = validate_spec({"name": "m", "data": {"dataset": "weather", "target": "BASEL_sunshine",
                                                    "scaling": "median_centre"},
                              "model": {"layers": [{"type": "Dense", "units": 1}]}})
        scaler = Scaler(spec.data.scaling).fit(train)
        np.testing.assert_allclose(scaler.offset, train.median().to_numpy())
        assert Scaler.from_dict(json.loads(json.dumps(scaler.to_dict()))).to_dict() == scaler.to_dict()
    finally:
        SCALING_METHODS.unregister("median_centre")
    with pytest.raises(SpecError, match="unknown scaling method; got 'median_centre'"):
        Scaler("median_centre")


def test_an_image_method_is_refused_for_a_table():
    with pytest.raises(SpecError, match=r"data\.scaling: 'pixels' \(divide by 255\) applies to images only"):
        Scaler("pixels")


@pytest.mark.parametrize(("method", "reference"), [("standardize", StandardScaler), ("minmax", MinMaxScaler)])
def test_matches_scikit_learn(train: pd.DataFrame, method, reference):
    scaled = Scaler(method).fit_transform(train)
    expected = reference().fit_transform(train.to_numpy(np.float64))
    np.testing.assert_allclose(scaled, expected, rtol=1e-6, atol=1e-6)


def test_statistics_come_from_the_training_rows_only(train: pd.DataFrame):
    test = train + 100.0
    scaler = Scaler("standardize").fit(train)
    np.testing.assert_allclose(scaler.offset, train.mean().to_numpy())
    scaled_test = scaler.transform(test)
    assert scaled_test[:, 0].mean() > 10  # far from 0: the test rows did not move the statistics


@pytest.mark.parametrize("method", ["standardize", "minmax"])
def test_constant_column_does_not_divide_by_zero(train: pd.DataFrame, method):
    scaler = Scaler(method).fit(train)
    scaled = scaler.transform(train)
    assert np.isfinite(scaled).all()
    assert scaler.to_dict()["scale"]["constant"] == 1.0
    np.testing.assert_array_equal(scaled[:, 2], 0.0)


def test_none_is_the_identity(train: pd.DataFrame):
    np.testing.assert_array_equal(Scaler("none").fit_transform(train), train.to_numpy(np.float32))


def test_output_is_float32_and_c_contiguous(train: pd.DataFrame):
    scaler = Scaler("standardize").fit(train)
    fortran = np.asfortranarray(train.to_numpy(np.float64))
    for x in (scaler.transform(train), scaler.transform(fortran)):
        assert x.dtype == np.float32
        assert x.flags.c_contiguous
        assert x.shape == (50, 3)


def test_transform_selects_columns_by_name(train: pd.DataFrame):
    scaler = Scaler("minmax").fit(train)
    shuffled = train[["constant", "b", "a"]].assign(extra=1.0)
    np.testing.assert_array_equal(scaler.transform(shuffled), scaler.transform(train))


@pytest.mark.parametrize("method", ["none", "standardize", "minmax"])
def test_round_trip_through_json(train: pd.DataFrame, method):
    scaler = Scaler(method).fit(train)
    saved = json.loads(json.dumps(scaler.to_dict()))
    assert saved["method"] == method
    assert saved["feature_names"] == ["a", "b", "constant"]
    assert set(saved["offset"]) == set(saved["scale"]) == {"a", "b", "constant"}
    restored = Scaler.from_dict(saved)
    np.testing.assert_array_equal(restored.transform(train), scaler.transform(train))


def test_unknown_method():
    with pytest.raises(SpecError, match=r"data\.scaling: unknown scaling method; got 'standardise'\. "
                       r"Did you mean 'standardize'\?"):
        Scaler("standardise")


def test_missing_feature_column(train: pd.DataFrame):
    scaler = Scaler("standardize").fit(train)
    with pytest.raises(DataError, match=r"the table lacks fitted feature columns \['constant'\]"):
        scaler.transform(train.drop(columns=["constant"]))
    with pytest.raises(DataError, match=r"expected an array of shape \(rows, 3\); got \(50, 2\)"):
        scaler.transform(train.to_numpy()[:, :2])


def test_saved_statistics_must_cover_every_feature():
    with pytest.raises(DataError, match=r"preprocessing\.scaling: saved 'minmax' statistics lack features \['b'\]"):
        Scaler.from_dict({"method": "minmax", "feature_names": ["a", "b"], "offset": {"a": 0.0}, "scale": {"a": 1.0}})


def test_transform_before_fit():
    with pytest.raises(RuntimeError, match="before fit"):
        Scaler("minmax").transform(np.zeros((1, 1)))
