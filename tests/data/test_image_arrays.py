"""Tests of dlworkflow.data.image_arrays: an .npz of images, on the lesson's CIFAR-10 subset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from dlworkflow.data import build_dataset
from dlworkflow.data.image_arrays import image_arrays, read_image_arrays
from dlworkflow.data.image_preparation import resize_images, scale_images
from dlworkflow.data.preprocessing import Preprocessing
from dlworkflow.errors import DataError, SpecError

CIFAR = "cifar10_subset/cifar10_subset.npz"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR_TEST_FINGERPRINT = "540d556255055440332e87990221b1dcb863bd9495eef2dd1e1347c4c497fe41"
LESSON = {"path": CIFAR, "rows": 5000, "scaling": "pixels", "target_encoding": "integer"}


@pytest.fixture
def cifar_home(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared data mirror as the data home, so `path = "cifar10_subset/..."` is found there."""
    monkeypatch.setenv("DLW_DATA_HOME", str(shared_data))
    return shared_data


@pytest.fixture
def lesson_cifar(cifar_home: Path) -> dict[str, np.ndarray]:
    with np.load(cifar_home / CIFAR) as archive:
        return {key: archive[key] for key in archive.files}


def write_npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def tiny_arrays(train: int = 20, test: int = 6, size: int = 8, classes: int = 2, channels: int | None = 3):
    rng = np.random.default_rng(0)
    shape = (size, size) if channels is None else (size, size, channels)
    return {
        "x_train": rng.integers(0, 256, (train, *shape), dtype=np.uint8),
        "y_train": np.arange(train) % classes,
        "x_test": rng.integers(0, 256, (test, *shape), dtype=np.uint8),
        "y_test": np.arange(test) % classes,
    }


@pytest.mark.parametrize("split_type", ["random", "stratified", "ordered"])
def test_lesson_cifar_subset_sizes(make_spec, cifar_home, split_type):
    dataset = build_dataset(make_spec(LESSON, split={"type": split_type, "validation": 0.15}))
    assert dataset.sizes() == {"train": 4250, "validation": 750, "test": 1000}
    assert dataset.name == "cifar10_subset"
    assert dataset.task == "classification"
    assert dataset.target == "label"
    assert dataset.class_names == CIFAR_CLASSES
    assert dataset.target_encoding == "integer"
    assert dataset.input_shape == (32, 32, 3)
    assert dataset.image == {"height": 32, "width": 32, "channels": 3, "scale": 1 / 255}


def test_lesson_cifar_values_are_the_lessons(make_spec, lesson_cifar):
    dataset = build_dataset(make_spec(LESSON, split={"type": "random", "validation": 0.15, "seed": 0}))
    train, validation = train_test_split(np.arange(5000), test_size=0.15, random_state=0)
    assert dataset.train.frame.index.tolist() == train.tolist()
    assert dataset.validation.frame.index.tolist() == validation.tolist()
    train_images = lesson_cifar["x_train"][:5000] / 255.0  # the lesson's scaling
    for part, rows in ((dataset.train, train), (dataset.validation, validation)):
        assert part.x.dtype == np.float32 and part.x.flags.c_contiguous
        assert part.x.shape == (len(rows), 32, 32, 3)
        np.testing.assert_array_equal(part.x, train_images[rows].astype(np.float32))
        assert part.y.dtype == np.int32
        assert part.labels.tolist() == lesson_cifar["y_train"][rows].tolist()
        assert part.frame.columns.tolist() == ["label"]
        assert part.frame["label"].tolist() == [CIFAR_CLASSES[i] for i in part.labels]
        assert not part.streamed and part.files is None
    test = dataset.test
    np.testing.assert_array_equal(test.x, (lesson_cifar["x_test"] / 255.0).astype(np.float32))
    assert test.labels.tolist() == lesson_cifar["y_test"].tolist()
    assert test.frame.index.tolist() == list(range(1000))
    assert 0.0 <= float(dataset.train.x.min()) and float(dataset.train.x.max()) <= 1.0


def test_stratified_validation_keeps_class_shares(make_spec, cifar_home):
    dataset = build_dataset(make_spec(LESSON, split={"type": "stratified", "validation": 0.15}))
    train_share = np.bincount(dataset.train.labels) / dataset.train.size
    validation_share = np.bincount(dataset.validation.labels) / dataset.validation.size
    assert np.abs(train_share - validation_share).max() < 0.01


def test_ordered_validation_is_the_last_training_images(make_spec, cifar_home):
    dataset = build_dataset(make_spec({**LESSON, "rows": 1000}, split={"type": "ordered", "validation": 0.2}))
    assert dataset.train.frame.index.tolist() == list(range(800))
    assert dataset.validation.frame.index.tolist() == list(range(800, 1000))


def test_rows_keeps_the_first_training_images_and_every_test_image(make_spec, cifar_home):
    dataset = build_dataset(make_spec({**LESSON, "rows": 300}, split={"validation": 0.1}))
    assert dataset.sizes() == {"train": 270, "validation": 30, "test": 1000}
    kept = sorted(dataset.train.frame.index.tolist() + dataset.validation.frame.index.tolist())
    assert kept == list(range(300))


def test_no_validation_part_without_a_validation_fraction(make_spec, cifar_home):
    dataset = build_dataset(make_spec(LESSON))
    assert set(dataset.parts) == {"train", "test"}
    assert dataset.sizes() == {"train": 5000, "validation": 0, "test": 1000}
    assert dataset.train.frame.index.tolist() == list(range(5000))


def test_image_size_resizes_every_part(make_spec, cifar_home):
    dataset = build_dataset(
        make_spec({**LESSON, "rows": 200, "image_size": [64, 64]}, split={"validation": 0.1})
    )
    assert dataset.train.x.shape == (180, 64, 64, 3)
    assert dataset.validation.x.shape == (20, 64, 64, 3)
    assert dataset.test.x.shape == (1000, 64, 64, 3)
    assert dataset.input_shape == (64, 64, 3)
    assert dataset.image == {"height": 64, "width": 64, "channels": 3, "scale": 1 / 255}
    assert 0.0 <= float(dataset.test.x.min()) and float(dataset.test.x.max()) <= 1.0


def test_onehot_targets(make_spec, cifar_home):
    dataset = build_dataset(make_spec({**LESSON, "rows": 100, "target_encoding": "onehot"}))
    assert dataset.train.y.shape == (100, 10)
    assert dataset.train.y.dtype == np.float32
    assert dataset.train.y.argmax(axis=1).tolist() == dataset.train.labels.tolist()
    assert dataset.output_units == 10


def test_scaling_none_keeps_raw_values_as_float32(make_spec, lesson_cifar):
    dataset = build_dataset(make_spec({**LESSON, "rows": 50, "scaling": "none"}))
    assert dataset.train.x.dtype == np.float32
    np.testing.assert_array_equal(dataset.train.x, lesson_cifar["x_train"][:50].astype(np.float32))
    assert dataset.image["scale"] == 1.0


def test_fingerprints_identify_the_images(make_spec, cifar_home):
    full = build_dataset(make_spec(LESSON, split={"validation": 0.15}))
    again = build_dataset(make_spec(LESSON, split={"validation": 0.15, "seed": 3, "type": "stratified"}))
    fewer = build_dataset(make_spec({**LESSON, "rows": 1000, "image_size": [16, 16]}))
    assert full.test_fingerprint == CIFAR_TEST_FINGERPRINT
    assert full.fingerprint == again.fingerprint  # the split does not change the data
    assert fewer.test_fingerprint == CIFAR_TEST_FINGERPRINT  # same raw test images, however prepared
    assert fewer.fingerprint != full.fingerprint
    assert len({full.fingerprint, full.test_fingerprint}) == 2


def test_preprocessing_is_plain_json(make_spec, cifar_home):
    dataset = build_dataset(make_spec({**LESSON, "rows": 100}))
    saved = dataset.preprocessing.to_dict()
    assert json.loads(json.dumps(saved)) == saved
    assert Preprocessing.from_dict(saved) == dataset.preprocessing
    assert dataset.preprocessing.is_images and saved["kind"] == "images" and saved["origin"] == "arrays"
    assert dataset.preprocessing.image.to_dict() == saved["image"] == dataset.image
    assert dataset.preprocessing.class_names == CIFAR_CLASSES
    assert dataset.preprocessing.target_encoding == "integer"
    assert saved["scaling"] == {"method": "pixels", "scale": 1 / 255}


def test_split_test_is_refused_for_an_npz(make_spec, cifar_home):
    with pytest.raises(SpecError, match=r"^c\.toml: split\.test: this \.npz brings its own test set \(x_test\): "
                       r"remove split\.test; got 0\.2\."):
        build_dataset(make_spec(LESSON, split={"test": 0.2}, source="c.toml"))


def test_standardize_is_refused_for_images(make_spec, cifar_home):
    with pytest.raises(SpecError, match=r"^c\.toml: data\.scaling: images are scaled with 'pixels' .*'minmax' .*; "
                       r"got 'standardize'\. Use scaling = 'pixels' for 0–255 images.* or 'minmax'"):
        build_dataset(make_spec({**LESSON, "scaling": "standardize"}, source="c.toml"))


def test_table_settings_are_refused_for_images_all_at_once(make_spec, cifar_home):
    data = {**LESSON, "target": "species", "drop": ["a"], "shift": -1, "dropna": True, "task": "regression"}
    with pytest.raises(SpecError) as caught:
        build_dataset(make_spec(data, evaluate={"persistence": "x"}, source="c.toml"))
    paths = [problem.path for problem in caught.value.problems]
    assert paths == ["data.target", "data.drop", "data.shift", "data.dropna", "data.task", "evaluate.persistence"]
    assert "images carry their labels" in str(caught.value)


def test_target_label_is_accepted(make_spec, cifar_home):
    assert build_dataset(make_spec({**LESSON, "rows": 20, "target": "label"})).target == "label"


def test_too_many_rows(make_spec, cifar_home):
    with pytest.raises(DataError, match=r"c\.toml: data\.rows: asks for more images than there are: 5000 training "
                       r"images in '.*cifar10_subset\.npz'; got 6000\. Set data\.rows to 5000 or less"):
        build_dataset(make_spec({**LESSON, "rows": 6000}, source="c.toml"))


def test_grayscale_arrays_get_a_channel_axis_and_numbered_classes(make_spec, tmp_path):
    path = write_npz(tmp_path / "digits.npz", **tiny_arrays(channels=None, classes=3))
    dataset = build_dataset(make_spec({"path": str(path), "scaling": "pixels"}, split={"validation": 0.25}))
    assert dataset.name == "digits"
    assert dataset.class_names == ("0", "1", "2")
    assert dataset.input_shape == (8, 8, 1)
    assert dataset.image["channels"] == 1
    assert dataset.sizes() == {"train": 15, "validation": 5, "test": 6}
    assert dataset.train.y.shape == (15, 3)  # one-hot by default


def test_column_labels_and_class_names_from_the_file(tmp_path):
    arrays = tiny_arrays()
    arrays["y_train"] = arrays["y_train"].reshape(-1, 1).astype(np.uint8)
    path = write_npz(tmp_path / "pets.npz", **arrays, class_names=np.array(["cat", "dog"]))
    loaded = read_image_arrays(path, source="s.toml")
    assert loaded.class_names == ("cat", "dog")
    assert loaded.y_train.shape == (20,) and loaded.y_train.dtype == np.int64
    assert loaded.origin == str(path)


def test_resize_of_float_and_grayscale_images():
    gray = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
    assert resize_images(gray, (8, 6)).shape == (2, 8, 6, 1)
    floats = np.ones((2, 4, 4, 2), np.float64)
    resized = resize_images(floats, (3, 3))
    assert resized.shape == (2, 3, 3, 2) and resized.dtype == np.float32
    np.testing.assert_allclose(resized, 1.0)
    same = np.zeros((1, 4, 4, 3), np.uint8)
    assert resize_images(same, (4, 4)) is same


def test_pixels_scaling_matches_dividing_by_255_in_float64():
    values = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    np.testing.assert_array_equal(scale_images(values, "pixels"), (values / 255.0).astype(np.float32))


FILE = r"'.*bad\.npz': "


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("x_test"),
         r"'.*bad\.npz' has no array 'x_test' \(it holds 'x_train', 'y_train', 'y_test'\)\. "
         r"An image \.npz needs the arrays x_train, y_train, x_test, y_test\."),
        (lambda a: a.update(x_train=np.zeros((20, 64))),
         FILE + r"array 'x_train' must have shape \(images, height, width\) or \(images, height, width, channels\); "
         r"got shape \(20, 64\)"),
        (lambda a: a.update(y_train=np.eye(2)[a["y_train"]]),
         FILE + r"array 'y_train' must have shape \(images,\) or \(images, 1\).*got shape \(20, 2\)\. "
         r"Give integer class indices, not one-hot rows"),
        (lambda a: a.update(y_test=a["y_test"] + 0.5),
         FILE + r"array 'y_test' must hold integer class indices, but holds float64"),
        (lambda a: a.update(y_test=a["y_test"][:5]),
         FILE + r"array 'y_test' has 5 labels for 6 images in 'x_test'"),
        (lambda a: a.update(x_test=np.zeros((6, 8, 8, 1), np.uint8)),
         FILE + r"array 'x_test' holds images of shape \(8, 8, 1\), but 'x_train' holds \(8, 8, 3\)"),
        (lambda a: a.update(y_train=a["y_train"] * 0, y_test=a["y_test"] * 0),
         FILE + r"array 'y_train' gives 1 class; classification needs at least 2"),
        (lambda a: a.update(class_names=np.array(["only"])),
         FILE + r"array 'y_train' holds label 1, but there are 1 class names"),
        (lambda a: a.update(y_train=a["y_train"] - 1),
         FILE + r"array 'y_train' holds a negative label \(-1\)"),
        (lambda a: a.update(x_train=a["x_train"].astype(bool)),
         FILE + r"array 'x_train' must hold numbers"),
    ],
    ids=["missing-key", "image-dims", "onehot-labels", "float-labels", "label-count", "test-shape", "one-class",
         "too-few-names", "negative", "bool-images"],
)
def test_invalid_npz_names_file_and_key(make_spec, tmp_path, change, message):
    arrays = tiny_arrays()
    change(arrays)
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: " + message):
        build_dataset(make_spec({"path": str(path)}, source="s.toml"))


def test_pickled_arrays_are_not_loaded(tmp_path):
    arrays = tiny_arrays()
    path = write_npz(tmp_path / "pickled.npz", **arrays, class_names=np.array([{"a": 1}, {"b": 2}], dtype=object))
    with pytest.raises(DataError, match=r"cannot read '.*pickled\.npz' as an \.npz of arrays without pickle"):
        read_image_arrays(path, source="s.toml")


@pytest.mark.parametrize("content", [b"not a zip file at all", "npy", "cut"])
def test_a_file_that_is_not_an_npz(tmp_path, content):
    path = tmp_path / "broken.npz"
    if content == "npy":
        with open(path, "wb") as stream:
            np.save(stream, np.zeros(3))
    elif content == "cut":
        write_npz(path, **tiny_arrays())
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: '.*broken\.npz' is not an \.npz file \(not a complete "
                       r"zip archive of arrays\)\. Check that the file is complete"):
        read_image_arrays(path, source="s.toml")


def test_image_arrays_checks_in_memory_arrays():
    arrays = image_arrays(
        np.zeros((4, 8, 8), np.uint8), np.array([0, 1, 0, 1]), np.zeros((2, 8, 8), np.uint8), np.array([[1], [0]]),
        name="tiny", origin="<test>",
    )
    assert arrays.x_train.shape == (4, 8, 8, 1)
    assert arrays.y_test.tolist() == [1, 0]
    assert arrays.class_names == ("0", "1")


def _npz_declaring(path: Path, shape: tuple[int, ...]) -> Path:
    """An .npz whose x_train header declares ``shape`` (uint8) but holds 64 bytes."""
    import io
    import zipfile

    from numpy.lib import format as npy_format

    def npy(array=None, header=None) -> bytes:
        buffer = io.BytesIO()
        if header is None:
            npy_format.write_array(buffer, array)
        else:
            npy_format.write_array_header_1_0(buffer, header)
            buffer.write(b"\0" * 64)
        return buffer.getvalue()

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy(header={"descr": "|u1", "fortran_order": False, "shape": shape}))
        archive.writestr("y_train.npy", npy(np.zeros(4, dtype=np.int64)))
        archive.writestr("x_test.npy", npy(np.zeros((2, 4, 4, 1), dtype=np.uint8)))
        archive.writestr("y_test.npy", npy(np.zeros(2, dtype=np.int64)))
    return path


def test_an_npz_header_declaring_11_tib_is_refused_before_reading(tmp_path: Path):
    path = _npz_declaring(tmp_path / "huge.npz", (1_000_000, 3_000, 4_000, 1))
    with pytest.raises(DataError, match=r"^s\.toml: data\.path: '.*huge\.npz' declares arrays of 10\.9 TiB \(x_train "
                       r"of shape \(1000000, 3000, 4000, 1\) and type uint8\), more than the .* of memory available\. "
                       r"Check the file"):
        read_image_arrays(path, source="s.toml")


def test_an_npz_header_declaring_more_than_the_file_holds_is_refused(tmp_path: Path):
    path = _npz_declaring(tmp_path / "short.npz", (100, 32, 32, 3))
    with pytest.raises(DataError, match=r"the array 'x_train' declares shape \(100, 32, 32, 3\) and type uint8 "
                       r"\(300\.0 KiB\), but the file holds only 192 bytes for it\. The file is damaged"):
        read_image_arrays(path, source="s.toml")


def test_an_image_size_whose_resized_images_cannot_fit_in_memory_is_refused_before_resizing(tmp_path: Path):
    from dlworkflow.spec import validate_spec

    labels = np.arange(4096) % 2
    path = write_npz(tmp_path / "tiny.npz", x_train=np.zeros((4096, 1, 1, 1), np.uint8), y_train=labels,
                     x_test=np.zeros((4, 1, 1, 1), np.uint8), y_test=labels[:4])
    spec = validate_spec({"name": "big", "data": {"path": str(path), "image_size": [16384, 16384]},
                          "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2}]}}, source="s.toml")
    with pytest.raises(DataError, match=r"^s\.toml: data\.image_size: 4100 images resized to 16384×16384 would take "
                       r"1\.0 TiB, more than the .* of memory available; got \[16384, 16384\]\. Choose a smaller"):
        build_dataset(spec)
