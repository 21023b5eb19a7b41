"""Tests of the fine-tune stage: a frozen pretrained base, then the base unfrozen, in one fit_model call."""

from __future__ import annotations

import io
from pathlib import Path

import keras
import numpy as np
import pytest
from rich.console import Console

from dlworkflow.models import build_model, explain_parameters, find_base, unfreeze_base
from dlworkflow.spec import validate_spec
from dlworkflow.spec.schema import FineTuneSpec
from dlworkflow.training import compile_model, fit_model, seed_everything

HEAD = [{"type": "Dense", "units": 2}]
SIZE = 32  # the smallest input VGG16 takes


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A VGG16 base (no top, 32×32×3) with seeded random weights, saved as a .weights.h5 file."""
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    rng = np.random.default_rng(1)
    for weight in base.weights:
        weight.assign(rng.normal(scale=0.05, size=tuple(weight.shape)).astype(np.float32))
    path = tmp_path_factory.mktemp("weights") / "vgg16_32px.weights.h5"
    base.save_weights(str(path))
    return path, [np.asarray(w) for w in base.weights]


def transfer_spec(weights: Path, *, fine_tune=None, input_shape=None, validation=0.2, **train):
    document = {
        "name": "transfer",
        "data": {"path": "images", "target_encoding": "integer"},
        "split": {"validation": validation},
        "model": {
            "base": {"application": "VGG16", "weights": str(weights), "pooling": "avg"},
            "layers": HEAD,
            **({"input_shape": input_shape} if input_shape else {}),
        },
        "train": {
            "epochs": 1,
            "batch_size": 4,
            "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
            **({"fine_tune": fine_tune} if fine_tune else {}),
            **train,
        },
    }
    return validate_spec(document, source="transfer.toml")


class BaseSnapshots(keras.callbacks.Callback):
    """Records the base's weights when each fit (stage) begins and ends."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.snapshots: list[tuple[str, list[np.ndarray]]] = []

    def on_train_begin(self, logs=None):
        self.snapshots.append(("begin", [np.asarray(w).copy() for w in self.base.weights]))

    def on_train_end(self, logs=None):
        self.snapshots.append(("end", [np.asarray(w).copy() for w in self.base.weights]))


def same(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_frozen_stage_then_fine_tune_stage(make_image_dataset, vgg16_weights):
    path, _ = vgg16_weights
    dataset = make_image_dataset(size=SIZE, rows={"train": 4, "test": 4})
    spec = transfer_spec(path, fine_tune={"layers": "all", "learning_rate": 1e-4, "epochs": 1}, validation=0.0)
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    base = find_base(model)
    snapshots = BaseSnapshots(base)

    result = fit_model(model, spec, dataset, quiet=True, callbacks=[snapshots])

    assert result.history["stage"].tolist() == ["frozen", "fine_tune"]
    assert result.history["epoch"].tolist() == [1, 2]
    assert list(result.history.columns) == ["epoch", "stage", "loss"]
    assert result.stages == {"frozen": 1, "fine_tune": 1}
    assert (result.epochs_run, result.evaluated_epoch) == (2, 2)
    head = 512 * 2 + 2
    assert result.trainable_parameters == {"frozen": head, "fine_tune": base.count_params() + head}
    [(_, frozen_begin), (_, frozen_end), (_, tuned_begin), (_, tuned_end)] = snapshots.snapshots
    assert same(frozen_begin, frozen_end)  # stage 1: the base is frozen
    assert not any(np.array_equal(a, b) for a, b in zip(tuned_begin, tuned_end, strict=True))  # stage 2: all of it trains
    # The model stays compiled for the fine-tune stage: same loss, the fine-tune learning rate.
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    assert explain_parameters(model).layers[1].type == "VGG16 (pretrained base, trainable)"


def test_early_stopping_acts_within_each_stage(make_image_dataset, vgg16_weights):
    path, _ = vgg16_weights
    dataset = make_image_dataset(size=SIZE, rows={"train": 4, "validation": 4, "test": 4})
    never_improves = {"monitor": "val_loss", "patience": 1, "min_delta": 1e9}
    spec = transfer_spec(
        path, epochs=3, early_stopping=never_improves, fine_tune={"layers": 1, "learning_rate": 1e-4, "epochs": 3}
    )
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    buffer = io.StringIO()

    result = fit_model(model, spec, dataset, console=Console(file=buffer, force_terminal=True, color_system=None, width=120))

    assert "transfer (fine-tune)" in buffer.getvalue() and "epoch 4/5" in buffer.getvalue()
    assert result.stages == {"frozen": 2, "fine_tune": 2}
    assert result.history["epoch"].tolist() == [1, 2, 3, 4]
    assert result.history["stage"].tolist() == ["frozen", "frozen", "fine_tune", "fine_tune"]
    assert result.stopped_early is True and result.best_epoch == 3


def test_unfreeze_the_top_layers_only(vgg16_weights):
    path, _ = vgg16_weights
    model = build_model(transfer_spec(path, input_shape=[SIZE, SIZE, 3]), None)
    base = find_base(model)
    head = 512 * 2 + 2

    # VGG16's last three layers: block5_conv3 (3·3·512·512 + 512), block5_pool and the
    # average pooling of pooling = "avg" (no weights).
    trainable = unfreeze_base(model, FineTuneSpec(layers=3))

    assert [layer for layer in base.layers if layer.trainable] == base.layers[-3:]
    assert [layer.name for layer in base.layers[-3:-1]] == ["block5_conv3", "block5_pool"]
    assert trainable == 3 * 3 * 512 * 512 + 512 + head
    assert explain_parameters(model).layers[1].type == "VGG16 (pretrained base, partly trainable: top 1 of 13 layers with weights)"
    assert unfreeze_base(model, FineTuneSpec(layers="all")) == base.count_params() + head


def _tiny_base_with_batch_normalization() -> keras.Model:
    """A small stand-in for a keras.applications network (named like one), with BatchNormalization."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, x, name="ResNet50")


def test_batch_normalization_stays_in_inference_mode_when_fine_tuning(make_image_dataset):
    # keras.Model(...)(x, training=False) alone is overridden by fit's training=True in Keras 3;
    # the base's BatchNormalization layers are kept frozen instead, so their statistics stay.
    dataset = make_image_dataset()
    spec = validate_spec(
        {
            "name": "bn",
            "data": {"path": "images", "target_encoding": "integer"},
            "split": {"validation": 0.2},
            "model": {"base": {"application": "ResNet50"}, "layers": HEAD},
            "train": {
                "epochs": 1,
                "batch_size": 4,
                "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
                "fine_tune": {"epochs": 1, "learning_rate": 0.01},
            },
        },
        source="bn.toml",
    )
    seed_everything(0)
    base = _tiny_base_with_batch_normalization()
    base.trainable = False
    inputs = keras.Input((8, 8, 3), name="input")
    model = keras.Model(inputs, keras.layers.Dense(2)(base(inputs, training=False)), name="bn")
    compile_model(model, spec, dataset)
    kernel = np.asarray(base.get_layer("conv").kernel).copy()
    statistics = [np.asarray(w).copy() for w in base.get_layer("bn").weights]

    result = fit_model(model, spec, dataset, quiet=True)

    assert result.stages == {"frozen": 1, "fine_tune": 1}
    assert not np.array_equal(np.asarray(base.get_layer("conv").kernel), kernel)
    assert same([np.asarray(w) for w in base.get_layer("bn").weights], statistics)
    assert base.get_layer("bn").trainable is False
    assert explain_parameters(model).layers[1].type == "ResNet50 (base, trainable, BatchNormalization frozen)"  # built by hand: not known to be pretrained
