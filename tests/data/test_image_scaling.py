"""Tests of image scaling on other scales: ``minmax`` for images, the ``pixels`` range warning (issue 15, item 5).

The images are scikit-learn's bundled digits: 8×8, values 0–16, written as an ``.npz`` as a user would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from dlworkflow.data import build_dataset
from dlworkflow.data.image_preparation import (
    check_image_spec,
    fit_image_scaling,
    pixel_range_warnings,
    scale_images,
)
from dlworkflow.data.preprocessing import ImageScaling, Preprocessing
from dlworkflow.errors import SpecError


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    digits = load_digits()
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    np.savez(path, x_train=digits.images[:1400], y_train=digits.target[:1400],
             x_test=digits.images[1400:], y_test=digits.target[1400:])
    return path


def digits_dataset(make_spec, path: Path, scaling: str):
    return build_dataset(make_spec({"path": str(path), "scaling": scaling}, split={"validation": 0.2},
                                   source="digits.toml"))


def test_minmax_maps_the_training_range_of_digits_to_0_1(make_spec, digits_npz):
    dataset = digits_dataset(make_spec, digits_npz, "minmax")
    assert float(dataset.train.x.min()) == 0.0 and float(dataset.train.x.max()) == 1.0
    np.testing.assert_allclose(dataset.test.x, np.load(digits_npz)["x_test"][..., None] / 16.0, rtol=1e-6)
    assert dataset.preprocessing.to_dict()["scaling"] == {"method": "minmax", "scale": 1 / 16}
    assert dataset.image["scale"] == 1 / 16
    assert dataset.warnings == ()


def test_pixels_on_digits_warns_with_the_range_and_the_fix(make_spec, digits_npz):
    (warning,) = digits_dataset(make_spec, digits_npz, "pixels").warnings
    assert warning.startswith("digits.toml: data.scaling: 'pixels' divides by 255, but the training images' values "
                              "run from 0 to 16; the network's inputs then lie between 0 and 0.0627")
    assert "Use scaling = 'minmax'" in warning
    assert digits_dataset(make_spec, digits_npz, "none").warnings == ()


def test_minmax_is_fitted_on_the_training_part_only(make_spec, tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(100, 201, (20, 4, 4)).astype(np.float32)
    train[0, 0, 0], train[1, 0, 0] = 100, 200
    test = np.full((4, 4, 4), 300.0, np.float32)
    path = tmp_path / "far.npz"
    np.savez(path, x_train=train, y_train=np.arange(20) % 2, x_test=test, y_test=np.arange(4) % 2)
    dataset = build_dataset(make_spec({"path": str(path), "scaling": "minmax"}, split={"type": "ordered"}))
    assert dataset.preprocessing.scaling == ImageScaling("minmax", 1 / 100, 100.0)
    assert dataset.image["offset"] == 100.0
    np.testing.assert_allclose(dataset.test.x, 2.0)  # the test images are not refitted: 300 → 2
    saved = Preprocessing.from_dict(dataset.preprocessing.to_dict())
    assert saved.scaling == dataset.preprocessing.scaling
    np.testing.assert_allclose(scale_images(test[..., None], saved.scaling), dataset.test.x)


@pytest.mark.parametrize(("values", "count"), [
    ([0, 16], 1), ([0.0, 1.0], 1), ([-1.0, 1.0], 1), ([0, 4095], 1), ([0, 255], 0), ([3, 200], 0),
])
def test_pixel_range_warnings(values, count):
    assert len(pixel_range_warnings(np.array(values), "pixels")) == count
    assert pixel_range_warnings(np.array(values), "minmax") == ()


def test_fixed_scalings_fit_nothing():
    assert fit_image_scaling("pixels", np.array([0, 16])) == ImageScaling("pixels", 1 / 255)
    assert fit_image_scaling("minmax", np.full(3, 7.0)) == ImageScaling("minmax", 1.0, 7.0)  # one value: no division by 0
    with pytest.raises(SpecError, match="fitted on training images"):
        scale_images(np.zeros(2), "minmax")


def test_minmax_is_refused_for_streamed_folder_images_and_order_by_for_any_images(make_spec, tmp_path):
    spec = make_spec({"path": str(tmp_path), "scaling": "minmax"}, split={"type": "ordered", "order_by": "DATE"},
                     source="f.toml")
    with pytest.raises(SpecError) as caught:
        check_image_spec(spec, streamed=True)
    assert [problem.path for problem in caught.value.problems] == ["data.scaling", "split.order_by"]
    assert "read batch by batch" in str(caught.value) and "images have no column" in str(caught.value)
    with pytest.raises(SpecError, match="split.order_by"):
        check_image_spec(spec, streamed=False)
