"""Tests of dlworkflow.data.image_folder: a folder of class sub-folders, streamed, on the lesson's photos."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlworkflow.data import build_dataset
from dlworkflow.data.image_folder import scan_image_folder
from dlworkflow.errors import DataError, SpecError

CATS_DOGS = {"path": "cats_dogs_mini", "image_size": [128, 128], "scaling": "pixels", "target_encoding": "integer"}
LESSON_SPLIT = {"type": "stratified", "test": 0.2, "validation": 0.2, "seed": 0}


@pytest.fixture
def photos_home(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared data mirror as the data home, so `path = "cats_dogs_mini"` is found there."""
    monkeypatch.setenv("DLW_DATA_HOME", str(shared_data))
    return shared_data / "cats_dogs_mini"


def make_image(path: Path, size: tuple[int, int] = (12, 10), seed: int = 0, mode: str = "RGB") -> Path:
    """Write a small image of (height, width) = size; the format follows the file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {"RGB": 3, "L": 1}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, channels), dtype=np.uint8)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(path)
    return path


def make_folder(root: Path, counts: dict[str, int], size: tuple[int, int] = (12, 10), suffix: str = ".png") -> Path:
    for class_name, count in counts.items():
        (root / class_name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            make_image(root / class_name / f"{index:03d}{suffix}", size, seed=index)
    return root


def test_lesson_photos_are_listed_in_keras_order(photos_home: Path):
    folder = scan_image_folder(photos_home, source="d.toml")
    assert folder.name == "cats_dogs_mini"
    assert folder.class_names == ("Cat", "Dog")
    assert len(folder.files) == 40
    assert folder.files[:3] == ("Cat/0.jpg", "Cat/1.jpg", "Cat/10.jpg")  # sorted names, as Keras lists them
    assert folder.labels.tolist() == [0] * 20 + [1] * 20
    assert tuple(folder.sizes[0]) == (375, 500)  # (height, width) of Cat/0.jpg, 500x375 in SOURCES.md


def test_lesson_photos_split_into_streamed_parts(make_spec, photos_home: Path):
    dataset = build_dataset(make_spec(CATS_DOGS, split=LESSON_SPLIT))
    assert dataset.sizes() == {"train": 24, "validation": 8, "test": 8}
    assert dataset.name == "cats_dogs_mini"
    assert dataset.task == "classification"
    assert dataset.target == "label"
    assert dataset.class_names == ("Cat", "Dog")
    assert dataset.feature_names == ()
    assert dataset.image == {"height": 128, "width": 128, "channels": 3, "scale": 1 / 255}
    assert dataset.input_shape == (128, 128, 3)
    seen = []
    for part in dataset.parts.values():
        assert part.streamed and part.x is None
        assert len(part.files) == part.size
        assert all(Path(file).is_absolute() and Path(file).is_file() for file in part.files)
        assert part.frame.columns.tolist() == ["file", "label"]
        assert [str(photos_home / file) for file in part.frame["file"]] == list(part.files)
        assert part.frame["label"].tolist() == [dataset.class_names[i] for i in part.labels]
        assert all(Path(file).parent.name == label for file, label in zip(part.files, part.frame["label"]))
        assert part.y.dtype == np.int32 and part.y.tolist() == part.labels.tolist()
        assert np.bincount(part.labels).tolist() == [part.size // 2] * 2  # stratified: half cats, half dogs
        seen += part.frame.index.tolist()
    assert sorted(seen) == list(range(40))


def test_a_random_split_follows_the_seed(make_spec, photos_home: Path):
    split = {"type": "random", "test": 0.25, "seed": 0}
    first = build_dataset(make_spec(CATS_DOGS, split=split))
    again = build_dataset(make_spec(CATS_DOGS, split=split))
    other = build_dataset(make_spec(CATS_DOGS, split={**split, "seed": 1}))
    assert first.sizes() == {"train": 30, "validation": 0, "test": 10}
    assert first.test.files == again.test.files
    assert first.test.files != other.test.files
    assert first.test_fingerprint == again.test_fingerprint != other.test_fingerprint
    assert first.fingerprint == other.fingerprint


def test_rows_keeps_the_first_files_in_class_then_name_order(make_spec, photos_home: Path):
    dataset = build_dataset(make_spec({**CATS_DOGS, "rows": 25}, split={"type": "ordered", "test": 0.2}))
    assert dataset.sizes() == {"train": 20, "validation": 0, "test": 5}
    assert dataset.train.frame["file"].tolist()[:3] == ["Cat/0.jpg", "Cat/1.jpg", "Cat/10.jpg"]
    assert dataset.test.frame["file"].tolist() == ["Dog/0.jpg", "Dog/1.jpg", "Dog/10.jpg", "Dog/11.jpg", "Dog/12.jpg"]
    assert dataset.class_names == ("Cat", "Dog")


def test_onehot_targets_for_a_folder(make_spec, photos_home: Path):
    dataset = build_dataset(make_spec({**CATS_DOGS, "target_encoding": "onehot"}, split=LESSON_SPLIT))
    assert dataset.train.y.shape == (24, 2) and dataset.train.y.dtype == np.float32
    assert dataset.train.y.argmax(axis=1).tolist() == dataset.train.labels.tolist()


def test_mixed_sizes_need_image_size(make_spec, photos_home: Path):
    data = {key: value for key, value in CATS_DOGS.items() if key != "image_size"}
    with pytest.raises(DataError, match=r"^d\.toml: data\.image_size: the images differ in size \(height x width\): "
                       r"'Cat/0\.jpg' is 375x500 and 'Cat/1\.jpg' is 281x300; a network takes one size\. "
                       r"Set image_size = \[160, 160\] in \[data\]"):
        build_dataset(make_spec(data, split=LESSON_SPLIT, source="d.toml"))


def test_one_common_size_is_the_image_size(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "shapes", {"circle": 5, "square": 5}, size=(12, 10))
    dataset = build_dataset(make_spec({"path": str(root)}, split={"test": 0.2}))
    assert dataset.image == {"height": 12, "width": 10, "channels": 3, "scale": 1.0}
    assert dataset.sizes() == {"train": 8, "validation": 0, "test": 2}
    assert dataset.preprocessing.scaling.to_dict() == {"method": "none", "scale": 1.0}


def test_only_image_files_count(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "shapes", {"a": 3, "b": 3})
    make_image(root / "a" / "UPPER.JPG")
    make_image(root / "b" / "nested" / "deep.jpeg")
    (root / "a" / "notes.txt").write_text("not an image")
    make_image(root / "a" / ".hidden.png")
    make_image(root / ".cache" / "x.png")
    make_image(root / "loose.png")
    folder = scan_image_folder(root)
    assert folder.class_names == ("a", "b")
    assert folder.files == (
        "a/000.png", "a/001.png", "a/002.png", "a/UPPER.JPG", "b/000.png", "b/001.png", "b/002.png",
        "b/nested/deep.jpeg",
    )


def test_corrupt_file_is_named_with_the_fix(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 3, "dog": 3})
    bad = root / "dog" / "broken.jpg"
    bad.write_bytes(np.random.default_rng(0).bytes(500))
    named = re.escape(str(bad))
    with pytest.raises(DataError, match=rf"^p\.toml: data\.path: cannot read image file '{named}' \(cannot identify "
                       r"image file.*\)\. Remove the file from the folder, or replace it with a good copy\.$"):
        build_dataset(make_spec({"path": str(root)}, source="p.toml"))


def test_every_corrupt_file_is_reported(tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 2, "dog": 2})
    for index in range(12):
        (root / "cat" / f"bad{index:02d}.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataError) as caught:
        scan_image_folder(root, source="p.toml")
    problems = caught.value.problems
    assert len(problems) == 11
    assert all(problem.path == "data.path" for problem in problems)
    assert "bad00.png" in problems[0].what
    assert problems[-1].what == "and 2 more unreadable image files"


def test_empty_class_folder_is_named(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 3, "dog": 3})
    (root / "bird").mkdir()
    (root / "bird" / "readme.txt").write_text("no images yet")
    named = re.escape(str(root / "bird"))
    with pytest.raises(DataError, match=rf"^p\.toml: data\.path: class folder '{named}' holds no image files "
                       r"\(\.jpg, \.jpeg, \.png, \.bmp, \.gif\)\. "
                       r"Put that class's images in it, or remove the folder\."):
        build_dataset(make_spec({"path": str(root)}, source="p.toml"))


def test_folder_without_class_folders(make_spec, tmp_path: Path):
    root = tmp_path / "flat"
    make_image(root / "1.png")
    make_image(root / "2.png")
    with pytest.raises(DataError, match=r"^p\.toml: data\.path: an image folder needs one sub-folder per class, at "
                       r"least two; it holds 2 image files but no sub-folders: '.*flat'\. Put the images in one folder "
                       r"per class, e\.g\. 'flat/cat/1\.jpg' and 'flat/dog/1\.jpg'"):
        build_dataset(make_spec({"path": str(root)}, source="p.toml"))


def test_folder_with_one_class(tmp_path: Path):
    root = make_folder(tmp_path / "cats", {"cat": 3})
    with pytest.raises(DataError, match=r"it has only the sub-folder 'cat'"):
        scan_image_folder(root, source="p.toml")


def test_folder_fingerprints_follow_content_and_test_files(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 5, "dog": 5})
    split = {"type": "ordered", "test": 0.2}
    before = build_dataset(make_spec({"path": str(root)}, split=split))
    assert before.test.frame["file"].tolist() == ["dog/003.png", "dog/004.png"]
    make_image(root / "cat" / "000.png", seed=99)  # a training file changes
    after_train_change = build_dataset(make_spec({"path": str(root)}, split=split))
    assert after_train_change.test_fingerprint == before.test_fingerprint
    assert after_train_change.fingerprint != before.fingerprint
    make_image(root / "dog" / "004.png", seed=99)  # a test file changes
    after_test_change = build_dataset(make_spec({"path": str(root)}, split=split))
    assert after_test_change.test_fingerprint != before.test_fingerprint


def test_split_test_is_allowed_for_a_folder_but_table_settings_are_not(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 5, "dog": 5})
    assert build_dataset(make_spec({"path": str(root)}, split={"test": 0.3})).sizes()["test"] == 3
    with pytest.raises(SpecError, match=r"^p\.toml: data\.select: applies to tables only, not to images"):
        build_dataset(make_spec({"path": str(root), "select": ["a*"]}, source="p.toml"))


def test_folder_preprocessing_is_plain_json(make_spec, photos_home: Path):
    dataset = build_dataset(make_spec(CATS_DOGS, split=LESSON_SPLIT))
    saved = dataset.preprocessing.to_dict()
    assert json.loads(json.dumps(saved)) == saved
    assert saved["kind"] == "images" and dataset.preprocessing.is_images
    assert dataset.preprocessing.origin == saved["origin"] == "folder"
    assert dataset.preprocessing.image.to_dict() == saved["image"] == dataset.image
    assert dataset.preprocessing.class_names == ("Cat", "Dog")


def test_too_many_rows_for_a_folder(make_spec, tmp_path: Path):
    root = make_folder(tmp_path / "pets", {"cat": 2, "dog": 2})
    with pytest.raises(DataError, match=r"data\.rows: asks for more images than there are: 4 image files in "):
        build_dataset(make_spec({"path": str(root), "rows": 5}))
