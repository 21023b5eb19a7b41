"""The saved preprocessing applied to new rows (dlworkflow.data.new_rows) and new images (data.new_images)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.new_images import list_images, prepare_images
from dlworkflow.data.new_rows import accepted_columns, check_columns, prepare_rows, read_rows
from dlworkflow.data.scaling import Scaler
from dlworkflow.errors import DataError

TRAIN = pd.DataFrame({"a": [0.1, 2.7, 4.3, 9.9], "b": [1.0, 1.0, 1.0, 1.0], "c": [-3.0, 5.5, 0.25, 7.0]})


def saved(method: str = "standardize") -> dict:
    return {"feature_names": ["a", "b", "c"], "target": "y", "shift": 0, "task": "regression",
            "target_encoding": None, "class_names": None, "scaling": Scaler(method).fit(TRAIN).to_dict()}


@pytest.mark.parametrize("method", ["none", "standardize", "minmax"])
def test_rows_are_scaled_exactly_as_training_scaled_them(method):
    new = TRAIN[["c", "a", "b"]].assign(y=1.0)  # another column order, and the target
    part = prepare_rows(new, saved(method), source="new.csv")
    expected = Scaler(method).fit(TRAIN).transform(TRAIN)
    assert part.x.dtype == np.float32 and part.x.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(part.x, expected)
    assert part.frame.columns.tolist() == ["c", "a", "b", "y"] and len(part.y) == 4


def test_dropped_columns_and_patterns_are_accepted():
    accepted = accepted_columns(saved(), {"drop": ["DATE", "*_cloud_cover"]}, "a")
    assert accepted == ("y", "DATE", "*_cloud_cover", "a")
    new = TRAIN.assign(DATE="2000-01-01", BASEL_cloud_cover=3)
    assert prepare_rows(new, saved(), source="new.csv", accepted=accepted).x.shape == (4, 3)
    check_columns(["a", "b"], ["a", "b"], source="new.csv")


def test_column_problems_name_the_file_and_every_column():
    with pytest.raises(DataError) as caught:
        prepare_rows(TRAIN.drop(columns=["b"]).assign(z=1, w=2), saved(), source="data/new.csv")
    text = str(caught.value)
    assert text.startswith("2 problems:")
    assert "data/new.csv: columns: 1 feature column the model needs is missing: 'b'" in text
    assert "(3 columns, any order): 'a', 'b', 'c'" in text
    assert "2 columns the model was not trained on: 'z', 'w'" in text
    assert prepare_rows(TRAIN.assign(z=1), saved(), source="x", ignore_extra=True).x.shape == (4, 3)


def test_repeated_columns_and_image_preprocessing_are_refused():
    with pytest.raises(DataError, match="repeated column names: 'a'"):
        prepare_rows(pd.DataFrame([[1, 2, 3, 4]], columns=["a", "a", "b", "c"]), saved(), source="x")
    with pytest.raises(DataError, match="the model takes images, not a table"):
        prepare_rows(TRAIN, {"kind": "images", "image": {"height": 8, "width": 8}}, source="x")


def test_read_rows_parses_numbers_bit_for_bit_and_names_the_file(tmp_path):
    values = pd.DataFrame({"a": np.random.default_rng(0).normal(size=50) * 1e3})
    path = tmp_path / "rows.csv"
    values.to_csv(path, index=False)
    np.testing.assert_array_equal(read_rows(path)["a"].to_numpy(), values["a"].to_numpy())
    with pytest.raises(DataError, match="missing.csv: input file not found"):
        read_rows(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="the CSV file has no rows"):
        read_rows(tmp_path / "empty.csv")


def test_images_are_listed_sorted_and_damaged_ones_named(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 6), (255, 0, 51)).save(tmp_path / "b.png")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "sub" / "a.JPG")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"")
    assert list_images(tmp_path)[1] == ["b.png", "sub/a.JPG"]
    image = {"kind": "images", "origin": "arrays", "image": {"height": 8, "width": 8, "channels": 3, "scale": 1 / 255},
             "scaling": {"method": "pixels"}, "class_names": ["x", "y"]}
    part = prepare_images(tmp_path, image)
    assert part.x.shape == (2, 8, 8, 3) and part.x.dtype == np.float32
    assert part.x[0, 0, 0].tolist() == pytest.approx([1.0, 0.0, 0.2])
    streamed = prepare_images(tmp_path, {**image, "origin": "folder"})
    assert streamed.x is None and streamed.files == (str(tmp_path / "b.png"), str(tmp_path / "sub" / "a.JPG"))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="broken.png: cannot read the image"):
        prepare_images(tmp_path, image)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="the folder holds no image file"):
        list_images(empty)
