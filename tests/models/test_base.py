"""Tests of dlworkflow.models.base: ``[model.base]`` → a keras.applications network under the head."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models import build_base, build_model, explain_parameters, find_base
from dlworkflow.spec import validate_spec

SIZE = 32  # the smallest input VGG16 takes
HEAD = [{"type": "Flatten"}, {"type": "Dense", "units": 3}]


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A VGG16 base (no top, 32×32×3) with seeded random weights, saved as a .weights.h5 file."""
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    rng = np.random.default_rng(2)
    for weight in base.weights:
        weight.assign(rng.normal(scale=0.05, size=tuple(weight.shape)).astype(np.float32))
    path = tmp_path_factory.mktemp("weights") / "vgg16.weights.h5"
    base.save_weights(str(path))
    return path, [np.asarray(w) for w in base.weights]


def base_spec(base, *, layers=HEAD, source="transfer.toml", input_shape=(SIZE, SIZE, 3)):
    document = {
        "name": "transfer",
        "data": {"path": "images"},
        "model": {"input_shape": list(input_shape), "base": base, "layers": layers},
    }
    return validate_spec(document, source=source)


def test_local_weights_file_is_loaded_and_the_base_frozen(vgg16_weights):
    path, saved = vgg16_weights
    spec = base_spec({"application": "VGG16", "weights": str(path), "pooling": "max"})

    model = build_model(spec, None)

    base = find_base(model)
    assert base.name == "VGG16" and [layer.name for layer in model.layers[:2]] == ["input", "VGG16"]
    assert all(np.array_equal(np.asarray(w), s) for w, s in zip(base.weights, saved, strict=True))
    report = explain_parameters(model)
    head = 512 * 3 + 3
    assert (report.trainable, report.non_trainable) == (head, base.count_params())
    row = report.layers[1]
    assert row.type == "VGG16 (pretrained base, frozen)"
    assert row.formula == f"counted by Keras: {len(base.layers)} layers"
    assert (row.total, row.trainable, row.non_trainable) == (base.count_params(), 0, base.count_params())
    assert [r.name for r in report.layers] == ["input", "VGG16", "flatten", "dense"]  # inner layers not listed


def test_relative_weights_path_is_read_from_the_spec_folder_then_the_data_home(vgg16_weights, tmp_path, monkeypatch):
    path, saved = vgg16_weights
    spec_file = tmp_path / "specs" / "transfer.toml"
    spec_file.parent.mkdir()
    spec_file.write_text("# a spec file\n")
    monkeypatch.setenv("DLW_DATA_HOME", str(path.parent))

    spec = base_spec({"application": "VGG16", "weights": path.name}, source=str(spec_file))
    base = build_base(spec, (SIZE, SIZE, 3))
    assert np.array_equal(np.asarray(base.weights[0]), saved[0])

    (spec_file.parent / path.name).write_bytes(path.read_bytes())  # next to the spec: found first
    assert np.array_equal(np.asarray(build_base(spec, (SIZE, SIZE, 3)).weights[-1]), saved[-1])


def test_trainable_base(vgg16_weights):
    path, _ = vgg16_weights
    model = build_model(base_spec({"application": "VGG16", "weights": str(path), "trainable": True}), None)
    report = explain_parameters(model)
    assert report.non_trainable == 0 and report.layers[1].type == "VGG16 (pretrained base, trainable)"


def test_missing_weights_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DLW_DATA_HOME", str(tmp_path / "home"))
    spec = base_spec({"application": "VGG16", "weights": "densenet121.weights.h5"})
    with pytest.raises(
        SpecError,
        match=r"transfer\.toml: model\.base\.weights: weights file not found; got 'densenet121\.weights\.h5'\. "
        r"Use 'imagenet'.*Looked in .*home/densenet121\.weights\.h5",
    ):
        build_model(spec, None)


def test_weights_file_of_another_network(vgg16_weights):
    path, _ = vgg16_weights
    spec = base_spec({"application": "VGG19", "weights": str(path)})
    with pytest.raises(SpecError, match=r"model\.base\.weights: cannot load the weights file .*vgg16\.weights\.h5.* into VGG19"):
        build_model(spec, None)


def test_imagenet_weights_without_network_explain_what_to_do():
    def offline_vgg16(**arguments):
        assert arguments["weights"] == "imagenet" and arguments["include_top"] is False
        try:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        except urllib.error.URLError as err:
            # What keras.utils.get_file raises when a download fails.
            raise Exception(f"URL fetch failure on https://storage.example/vgg16.h5: None -- {err.reason}") from None

    spec = base_spec({"application": "VGG16", "weights": "imagenet"})
    with pytest.raises(
        SpecError,
        match=r"model\.base\.weights: the ImageNet weights of VGG16 could not be downloaded .*needs network access once"
        r".*save_weights.*set model\.base\.weights to its path",
    ):
        build_base(spec, (SIZE, SIZE, 3), applications=SimpleNamespace(VGG16=offline_vgg16))


def test_other_errors_of_the_application_are_not_hidden():
    def broken(**arguments):
        raise RuntimeError("something else")

    spec = base_spec({"application": "VGG16", "weights": "imagenet"})
    with pytest.raises(RuntimeError, match="something else"):
        build_base(spec, (SIZE, SIZE, 3), applications=SimpleNamespace(VGG16=broken))


def test_input_too_small_for_the_network():
    spec = base_spec({"application": "VGG16"}, input_shape=(16, 16, 3))
    with pytest.raises(SpecError, match=r"model\.base: keras\.applications\.VGG16 cannot be built for input shape \(16, 16, 3\)"):
        build_model(spec, None)


def test_head_output_is_checked_against_the_data(vgg16_weights):
    from dlworkflow.data.dataset import Dataset, Part

    path, _ = vgg16_weights
    labels = np.array([0, 1])
    part = Part("train", np.zeros((2, SIZE, SIZE, 3), np.float32), labels.astype(np.int32), labels, None)  # type: ignore[arg-type]
    dataset = Dataset("d", "classification", "label", (), ("a", "b"), "integer", {"train": part, "test": part})
    spec = base_spec({"application": "VGG16", "weights": str(path)})
    with pytest.raises(SpecError, match=r"model\.layers\[1\]\.units: the data has 2 classes; the last layer has 3 units"):
        build_model(spec, dataset)
