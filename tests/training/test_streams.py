"""Tests of streamed parts: image files read batch by batch with tf.data, on the JAX backend."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import keras
import numpy as np
import pytest

from dlworkflow.errors import DataError
from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import compile_model, evaluate_model, fit_model, image_stream, predict, seed_everything
from dlworkflow.training.streams import MAX_PARALLEL_READS, parallel_reads

SMALL_CNN = [
    {"type": "Conv2D", "filters": 4, "kernel_size": [3, 3], "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": [2, 2]},
    {"type": "Flatten"},
    {"type": "Dense", "units": 2},
]


def image_spec(**train):
    document = {
        "name": "streamed",
        "data": {"path": "images", "target_encoding": "integer"},
        "split": {"validation": 0.2},
        "model": {"layers": SMALL_CNN},
        "train": {
            "epochs": 2,
            "batch_size": 4,
            "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
            "metrics": ["accuracy"],
            **train,
        },
    }
    return validate_spec(document, source="images.toml")


def labels_in_order(stream) -> list[int]:
    return [int(label) for _, batch in stream for label in np.asarray(batch)]


def test_stream_decodes_resizes_and_scales_like_the_arrays(make_image_dataset, tmp_path):
    streamed = make_image_dataset(files=tmp_path)
    in_memory = make_image_dataset()

    batches = list(image_stream(streamed.test, streamed.image, batch_size=3))

    assert [np.asarray(x).shape for x, _ in batches] == [(3, 8, 8, 3), (1, 8, 8, 3)]
    pixels = np.concatenate([np.asarray(x) for x, _ in batches])
    assert pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, in_memory.test.x, atol=1e-6)
    assert labels_in_order(batches) == streamed.test.labels.tolist()


def test_stream_resizes_to_the_dataset_image_size(make_image_dataset, tmp_path):
    dataset = make_image_dataset(files=tmp_path)
    x, y = next(iter(image_stream(dataset.train, {**dataset.image, "height": 5, "width": 6}, batch_size=2)))
    assert np.asarray(x).shape == (2, 5, 6, 3) and np.asarray(y).shape == (2,)


def test_stream_of_one_hot_targets_and_images_alone(make_image_dataset, tmp_path):
    dataset = make_image_dataset(encoding="onehot", files=tmp_path)
    _, y = next(iter(image_stream(dataset.test, dataset.image, batch_size=4)))
    np.testing.assert_array_equal(np.asarray(y), dataset.test.y)
    x = next(iter(image_stream(dataset.test, dataset.image, batch_size=4, targets=False)))
    assert np.asarray(x).shape == (4, 8, 8, 3)


def image_order(stream) -> list[float]:
    """Each image of one pass over a stream, identified by its pixel sum, in order."""
    return [round(float(total), 3) for x, _ in stream for total in np.asarray(x).reshape(len(x), -1).sum(axis=1)]


def test_training_files_are_reshuffled_each_epoch_with_the_seed(make_image_dataset, tmp_path):
    dataset = make_image_dataset(rows={"train": 16, "test": 4}, files=tmp_path)
    stream = image_stream(dataset.train, dataset.image, batch_size=4, shuffle=True, seed=3)
    in_file_order = image_order(image_stream(dataset.train, dataset.image, batch_size=4))

    first, second = image_order(stream), image_order(stream)

    assert sorted(first) == sorted(second) == sorted(in_file_order)
    assert first != in_file_order and first != second  # a new order each epoch
    again = image_stream(dataset.train, dataset.image, batch_size=4, shuffle=True, seed=3)
    assert [image_order(again), image_order(again)] == [first, second]  # the same orders for the same seed


def test_validation_and_test_parts_keep_their_order(make_image_dataset, tmp_path):
    dataset = make_image_dataset(rows={"train": 4, "validation": 8, "test": 4}, files=tmp_path)
    stream = image_stream(dataset.validation, dataset.image, batch_size=3)
    assert labels_in_order(stream) == labels_in_order(stream) == dataset.validation.labels.tolist()


def test_parallel_reads_are_bounded():
    assert 1 <= parallel_reads() <= MAX_PARALLEL_READS


def test_streamed_training_gives_the_same_numbers_as_in_memory(make_image_dataset, tmp_path):
    # Without shuffling, both feed the same batches in the same order: the same history.
    spec = image_spec(shuffle=False)
    histories, scores, predictions = [], [], []
    for dataset in (make_image_dataset(), make_image_dataset(files=tmp_path)):
        seed_everything(0)
        model = compile_model(build_model(spec, dataset), spec, dataset)
        histories.append(fit_model(model, spec, dataset, quiet=True).history)
        scores.append(evaluate_model(model, dataset.test, image=dataset.image))
        predictions.append(predict(model, dataset.test, image=dataset.image))

    assert list(histories[0].columns) == list(histories[1].columns)
    assert set(histories[1].columns) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    np.testing.assert_allclose(histories[1].to_numpy(), histories[0].to_numpy(), rtol=1e-4, atol=1e-6)
    assert scores[1] == pytest.approx(scores[0], rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-4, atol=1e-6)
    assert predictions[1].shape == (4, 2)


def test_streamed_training_with_shuffling(make_image_dataset, tmp_path):
    dataset = make_image_dataset(files=tmp_path)
    spec = image_spec(epochs=1)
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    result = fit_model(model, spec, dataset, quiet=True)
    assert result.epochs_run == 1 and np.isfinite(result.history["loss"]).all()


def test_a_streamed_part_needs_the_image_settings(make_image_dataset, tmp_path):
    dataset = make_image_dataset(files=tmp_path)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(DataError, match=r"parts\.test: is streamed .*Pass image=dataset\.image"):
        predict(model, dataset.test)


def test_an_unreadable_image_file_is_a_data_error(make_image_dataset, tmp_path):
    dataset = make_image_dataset(files=tmp_path)
    (tmp_path / "test" / "000_class0.png").write_bytes(b"not an image")
    broken = dataclasses.replace(dataset.test, files=(str(tmp_path / "test" / "000_class0.png"),) + dataset.test.files[1:])
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(DataError, match=r"parts\.test: an image file could not be read"):
        predict(model, broken, image=dataset.image)


def test_the_training_modules_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "import dlworkflow.training.streams, dlworkflow.training.trainer, dlworkflow.training.losses\n"
        "sys.exit('tensorflow' in sys.modules)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
