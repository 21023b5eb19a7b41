"""Tests of dlworkflow.models.base: ``[model.base]`` → a keras.applications network under the head."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.models import base_warning, build_base, build_model, explain_parameters, find_base
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


# ---- honest bases: random weights are said, further arguments of the application passed on ----

def fake_mobilenet(calls: list[dict]):
    """A stand-in for keras.applications.MobileNetV2 with its real signature: a tiny model, built fast."""

    def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None,  # noqa: N802
                    pooling=None, classes=1000, classifier_activation="softmax", name=None):
        calls.append({"alpha": alpha, "weights": weights, "include_top": include_top, "pooling": pooling})
        if not 0 < alpha <= 2:
            raise ValueError(f"alpha must be in (0, 2]; Received `alpha={alpha}`")
        inputs = keras.Input(input_shape)
        outputs = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, name="conv")(inputs))
        return keras.Model(inputs, outputs, name=name)

    return SimpleNamespace(MobileNetV2=MobileNetV2)


@pytest.mark.parametrize("weights", [None, "none", "None"])
def test_a_base_without_weights_says_random_weights_not_pretrained(weights):
    calls: list[dict] = []
    base = {"application": "MobileNetV2", "alpha": 0.35, **({"weights": weights} if weights else {})}
    spec = base_spec(base)

    built = build_base(spec, (SIZE, SIZE, 3), applications=fake_mobilenet(calls))

    assert calls == [{"alpha": 0.35, "weights": None, "include_top": False, "pooling": None}]  # alpha passed on
    inputs = keras.Input((SIZE, SIZE, 3), name="input")
    model = keras.Model(inputs, keras.layers.Dense(3)(built(inputs, training=False)))
    assert explain_parameters(model).layers[1].type == "MobileNetV2 (base, random weights (not pretrained), frozen)"
    warning = base_warning(spec)
    assert warning is not None and warning.startswith(
        "transfer.toml: model.base: MobileNetV2 has random weights (not pretrained; model.base.weights is ")
    assert "is frozen, so it transfers nothing" in warning and 'weights = "imagenet"' in warning


def test_a_trainable_random_base_is_trained_from_scratch_and_said_so():
    spec = base_spec({"application": "VGG16", "weights": "none", "trainable": True})
    assert "random weights (not pretrained; model.base.weights is 'none') and is trained from scratch" in (
        base_warning(spec) or "")


def test_a_base_with_weights_has_no_warning(vgg16_weights):
    path, _ = vgg16_weights
    assert base_warning(base_spec({"application": "VGG16", "weights": str(path)})) is None
    assert base_warning(base_spec({"application": "VGG16", "weights": "imagenet"})) is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"alpha": "big"}, r"transfer\.toml: model\.base\.alpha: keras\.applications\.MobileNetV2 expects alpha to be a "
         r"number \(default 1\.0\); got 'big'\. Write e\.g\. alpha = 1\.0"),
        ({"alhpa": 0.35}, r"transfer\.toml: model\.base\.alhpa: keras\.applications\.MobileNetV2 takes no argument "
         r"'alhpa'; got 0\.35\. Did you mean 'alpha'\?"),
        ({"classes": 10}, r"model\.base\.classes: is set by \[model\.base\] itself for keras\.applications\.MobileNetV2"),
        ({"alpha": 5.0}, r"transfer\.toml: model\.base\.alpha: keras\.applications\.MobileNetV2 cannot be built with "
         r"alpha=5\.0 for input shape \(32, 32, 3\): alpha must be in"),
    ],
)
def test_a_bad_further_argument_is_one_spec_error_naming_the_application(extra, message):
    spec = base_spec({"application": "MobileNetV2", "weights": "none", **extra})
    with pytest.raises(SpecError, match=message) as caught:
        build_base(spec, (SIZE, SIZE, 3), applications=fake_mobilenet([]))
    assert len(caught.value.problems) == 1


@pytest.mark.slow
def test_a_real_mobilenetv2_with_alpha_and_no_weights():
    # No download: weights = "none"; 32×32 at alpha 0.35 is MobileNetV2's smallest (seconds to build).
    spec = base_spec({"application": "MobileNetV2", "weights": "none", "alpha": 0.35, "pooling": "avg"})
    report = explain_parameters(build_model(spec, None))
    base = report.layers[1]
    assert base.type == "MobileNetV2 (base, random weights (not pretrained), frozen)"
    assert base.total == 410_208  # alpha 0.35 (alpha 1.0 has 2,257,984)
    with pytest.raises(SpecError, match=r"model\.base\.alpha: keras\.applications\.MobileNetV2 expects alpha"):
        build_model(base_spec({"application": "MobileNetV2", "weights": "none", "alpha": "big"}), None)
