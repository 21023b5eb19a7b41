"""Windows of past rows: the samples, the rows they may reach, the scaler, the spec's rules, new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.pipeline import build_dataset
from dlworkflow.data.preprocessing import Preprocessing
from dlworkflow.data.windows import Windows, make_windows, new_row_windows, time_ordered
from dlworkflow.errors import DataError, SpecError
from dlworkflow.registry.record_sections import SplitSection
from dlworkflow.spec import validate_spec


def _spec(window=None, split=None, **data):
    document = {
        "name": "w",
        "data": {"target": "y", "shift": -1, "scaling": "standardize", **data,
                 **({"window": window} if window else {})},
        "split": split or {"type": "ordered", "test": 0.2, "validation": 0.2},
        "model": {"layers": [{"type": "Dense", "units": 1}]},
    }
    return validate_spec(document, source="w.toml")


def _table(rows=50):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": np.arange(rows, dtype=float), "b": rng.normal(size=rows), "y": rng.normal(size=rows)})


def test_make_windows_matches_the_rows_it_names():
    values = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)
    ends = np.array([12, 13, 39])
    windows = make_windows(values, ends, 4, stride=3)
    assert windows.shape == (3, 4, 3) and windows.dtype == np.float32 and windows.flags["C_CONTIGUOUS"]
    for window, end in zip(windows, ends):
        np.testing.assert_array_equal(window, values[end - 9: end + 1: 3])
    with pytest.raises(ValueError, match="window ends"):
        make_windows(values, np.array([8]), 4, stride=3)  # would start before row 0


def test_incomplete_windows_are_left_out_and_the_order_is_checked():
    windowed = Windows(size=5).split({"train": np.arange(10), "validation": np.arange(10, 14),
                                      "test": np.arange(14, 18)})
    assert windowed.positions["train"].tolist() == list(range(4, 10)) and windowed.left_out == 4
    assert windowed.positions["test"].tolist() == list(range(14, 18)) and windowed.time_ordered
    assert not time_ordered({"train": np.array([0, 5]), "validation": np.array([3]), "test": np.array([6])})
    with pytest.raises(DataError, match=r"w.toml: split.type: data.window needs every training target row"):
        Windows(size=2).split({"train": np.array([0, 3]), "test": np.array([1, 2])}, source="w.toml")
    with pytest.raises(DataError, match=r"data.window.size: no train row has 9 rows up to it.*Use a smaller window"):
        Windows(size=9).split({"train": np.arange(5), "test": np.arange(5, 12)})


def test_pipeline_windows_after_split_and_training_scaler():
    table = _table()
    dataset = build_dataset(_spec({"size": 3}), frame=table)
    prepared_rows = len(table) - 1  # the shift leaves the last row without a target
    sizes = dataset.sizes()
    assert sum(sizes.values()) == prepared_rows - 2 and sizes["train"] == 29 - 2  # 2 rows lack a whole window
    assert dataset.input_shape == (3, 3)
    assert dataset.window.time_ordered and dataset.window.left_out == 2
    assert any("data.window: the first 2 rows" in warning for warning in dataset.warnings)
    scaling = dataset.preprocessing.scaling
    training = table.iloc[:29]  # ordered: the first 29 of 49 rows are training rows, all in the scaler's fit
    np.testing.assert_allclose(scaling.offset, training[["a", "b", "y"]].mean().to_numpy())
    scaled = ((table[["a", "b", "y"]] - np.array(scaling.offset)) / np.array(scaling.scale)).to_numpy(np.float32)
    train, validation = dataset.train, dataset.validation
    assert train.frame.index[0] == 2  # the first target row with two rows before it
    np.testing.assert_allclose(train.x[0], scaled[0:3], rtol=1e-6)
    first = int(validation.frame.index[0])
    assert first == 29
    np.testing.assert_allclose(validation.x[0], scaled[27:30], rtol=1e-6)  # reaches back into training rows
    assert validation.x[0][-1][0] == pytest.approx(scaled[first][0])  # the last row is the target row: never later
    assert validation.labels[0] == pytest.approx(table["y"].iloc[first + 1])  # its shifted target
    assert dataset.preprocessing.to_dict()["window"] == {"size": 3, "stride": 1}
    assert "window" not in build_dataset(_spec(), frame=table).preprocessing.to_dict()


def test_saved_window_round_trips_and_bad_values_are_refused():
    saved = build_dataset(_spec({"size": 4, "stride": 2}), frame=_table()).preprocessing.to_dict()
    read = Preprocessing.from_dict(saved)
    assert read.window == Windows(size=4, stride=2) and read.to_dict() == saved
    with pytest.raises(DataError, match=r"window.size: must be a whole number of at least 2; got 1"):
        Preprocessing.from_dict({**saved, "window": {"size": 1}})


@pytest.mark.parametrize("split", [None, {"type": "random"}, {"type": "stratified"}])
def test_a_shuffled_split_is_refused_at_split_type(split):
    document = {"name": "w", "data": {"target": "y", "window": {"size": 7}},
                "model": {"layers": [{"type": "Dense", "units": 1}]}, **({"split": split} if split else {})}
    with pytest.raises(SpecError, match=r"w.toml: split.type: data.window makes each sample the rows before .*"
                                        r"Use type = 'ordered'") as caught:
        validate_spec(document, source="w.toml")
    assert len(caught.value.problems) == 1


@pytest.mark.parametrize(("window", "path"), [({"size": 1}, "data.window.size"), ({"size": 3, "stride": 0},
                                              "data.window.stride"), ({"stride": 2}, "data.window.size")])
def test_window_values_are_checked(window, path):
    with pytest.raises(SpecError, match=rf"w.toml: {path}: "):
        _spec(window)


def test_new_rows_become_one_window_per_complete_window():
    frame = _table(6)
    x, ends = new_row_windows(frame.to_numpy(np.float32), frame, Windows(size=3), source="new.csv")
    assert x.shape == (4, 3, 3) and ends.index.tolist() == [2, 3, 4, 5]
    with pytest.raises(DataError, match=r"new.csv: rows: the model takes a window of 3 rows, but the file has 2 "
                                        r"row\(s\).*Give at least 3 consecutive rows"):
        new_row_windows(x[:2, 0], frame.head(2), Windows(size=3), source="new.csv")
    values = frame.to_numpy()
    same_x, same_frame = new_row_windows(values, frame, None, source="new.csv")
    assert same_frame is frame and same_x is values


def test_split_record_keeps_window_keys_after_the_old_ones():
    split = SplitSection(type="ordered", seed=0, train=5, validation=2, test=2, window=7, window_stride=1,
                         time_ordered=True)
    assert list(split.to_dict()) == ["type", "seed", "train", "validation", "test", "window", "window_stride",
                                     "time_ordered"]
    assert SplitSection.from_dict(split.to_dict()) == split
    assert "window" not in SplitSection(type="random").to_dict()
