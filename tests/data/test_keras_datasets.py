"""Tests of dlworkflow.data.keras_datasets: Keras image sets, offline copies, no network ever.

Every test sets DLW_DATA_HOME to a temporary folder, and the loader is a fake passed in,
so nothing here calls Keras or downloads.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from dlworkflow.data import BUILTIN_DATASETS, build_dataset
from dlworkflow.data.keras_datasets import KERAS_IMAGE_DATASETS, load_keras_dataset, mirror_path
from dlworkflow.errors import DataError, SpecError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data-home"
    folder.mkdir()
    monkeypatch.setenv("DLW_DATA_HOME", str(folder))
    return folder


def digits(train: int = 30, test: int = 10, size: int = 6):
    rng = np.random.default_rng(0)
    return (
        (rng.integers(0, 256, (train, size, size), dtype=np.uint8), np.arange(train) % 10),
        (rng.integers(0, 256, (test, size, size), dtype=np.uint8), np.arange(test) % 10),
    )


def write_mirror(home: Path, name: str, **extra: np.ndarray) -> Path:
    (x_train, y_train), (x_test, y_test) = digits()
    path = home / f"{name}.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, **extra)
    return path


def no_network():
    raise OSError("[Errno 101] Network is unreachable")


def test_the_keras_sets_and_their_class_names():
    assert set(KERAS_IMAGE_DATASETS) == {"cifar10", "mnist", "fashion_mnist"}
    assert not set(KERAS_IMAGE_DATASETS) & set(BUILTIN_DATASETS)
    assert KERAS_IMAGE_DATASETS["cifar10"][0] == "airplane" and KERAS_IMAGE_DATASETS["cifar10"][-1] == "truck"
    assert KERAS_IMAGE_DATASETS["mnist"] == tuple("0123456789")
    assert KERAS_IMAGE_DATASETS["fashion_mnist"][0] == "T-shirt/top"
    assert all(len(names) == 10 for names in KERAS_IMAGE_DATASETS.values())


def test_mirror_in_the_data_home_is_used(make_spec, home: Path):
    write_mirror(home, "mnist")
    assert mirror_path("mnist") == home / "mnist.npz"
    dataset = build_dataset(make_spec({"dataset": "mnist", "scaling": "pixels"}, split={"validation": 0.2}))
    assert dataset.name == "mnist"
    assert dataset.class_names == tuple("0123456789")
    assert dataset.input_shape == (6, 6, 1)
    assert dataset.sizes() == {"train": 24, "validation": 6, "test": 10}
    assert float(dataset.test.x.max()) <= 1.0


def test_mirror_class_names_win_and_default_to_the_sets(home: Path):
    write_mirror(home, "fashion_mnist")
    assert load_keras_dataset("fashion_mnist", loader=no_network).class_names[-1] == "Ankle boot"
    write_mirror(home, "mnist", class_names=np.array([f"digit {i}" for i in range(10)]))
    assert load_keras_dataset("mnist", loader=no_network).class_names[0] == "digit 0"


def test_the_loader_is_called_without_a_mirror(home: Path):
    (x_train, y_train), (x_test, y_test) = digits()
    loaded = load_keras_dataset(
        "cifar10", loader=lambda: ((x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1)))
    )
    assert loaded.name == "cifar10"
    assert loaded.origin == "keras.datasets.cifar10"
    assert loaded.y_train.shape == (30,)
    assert loaded.class_names[0] == "airplane"


@pytest.mark.parametrize("failure", [OSError("Network is unreachable"), URLError("no host"),
                                     Exception("URL fetch failure on https://... : None -- no network")])
def test_no_network_and_no_mirror_says_how_to_work_offline(home: Path, failure: Exception):
    def loader():
        raise failure

    with pytest.raises(DataError) as caught:
        load_keras_dataset("mnist", source="m.toml", loader=loader)
    text = str(caught.value)
    assert text.startswith("m.toml: data.dataset: cannot load the Keras image set 'mnist': ")
    assert "needs network once" in text
    assert f"put mnist.npz (arrays x_train, y_train, x_test, y_test) in the data home: {str(home / 'mnist.npz')!r}" \
        in text
    assert "DLW_DATA_HOME" in text and "data.path = 'file.npz'" in text
    assert caught.value.__cause__ is failure


def test_a_broken_mirror_is_a_data_error_at_data_dataset(home: Path):
    (home / "cifar10.npz").write_bytes(b"half a download")
    with pytest.raises(DataError, match=r"^m\.toml: data\.dataset: '.*cifar10\.npz' is not an \.npz file"):
        load_keras_dataset("cifar10", source="m.toml", loader=no_network)


def test_a_keras_set_brings_its_own_test_set(make_spec, home: Path):
    write_mirror(home, "mnist")
    with pytest.raises(SpecError, match=r"^m\.toml: split\.test: the Keras image set 'mnist' brings its own test set "
                       r"\(x_test\): remove split\.test"):
        build_dataset(make_spec({"dataset": "mnist"}, split={"test": 0.1}, source="m.toml"))


def test_unknown_name_suggests_any_dataset(make_spec, home: Path):
    with pytest.raises(SpecError, match=re.escape("m.toml: data.dataset: unknown built-in dataset; got 'mnst'. "
                                                  "Did you mean 'mnist'? Valid options: 'penguins', 'weather', "
                                                  "'cifar10', 'mnist', 'fashion_mnist'.")):
        build_dataset(make_spec({"dataset": "mnst"}, source="m.toml"))
    with pytest.raises(SpecError, match=r"unknown Keras image set; got 'penguins'"):
        load_keras_dataset("penguins", source="m.toml")
