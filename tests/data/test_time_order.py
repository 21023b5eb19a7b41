"""Tests of dlworkflow.data.time_order: split.order_by, and the warning for a shuffled time series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data import build_dataset
from dlworkflow.data.preparation import prepare_table
from dlworkflow.data.time_order import ordering_column, time_order, time_order_warnings
from dlworkflow.errors import DataError, SpecError
from dlworkflow.spec import DataSpec, SplitSpec


def days(dates: list[object]) -> pd.DataFrame:
    """A small time series: ``t`` counts up in date order, so a sorted table has t = 0, 1, 2, ..."""
    order = np.argsort(pd.to_datetime(pd.Series(dates).astype(str), format="mixed").to_numpy(), kind="stable")
    t = np.empty(len(dates))
    t[order] = np.arange(len(dates), dtype=np.float64)
    return pd.DataFrame({"DATE": dates, "x": t * 10.0, "t": t})


SHUFFLED = [20000104, 20000101, 20000103, 20000102, 20000106, 20000105, 20000108, 20000107, 20000110, 20000109]


def test_yyyymmdd_integers_are_read_as_dates():
    assert time_order(days(SHUFFLED), "DATE").tolist() == [1, 3, 2, 0, 5, 4, 7, 6, 9, 8]


def test_text_dates_are_parsed_not_sorted_as_text():
    table = pd.DataFrame({"DATE": ["2/1/2000", "10/1/2000", "1/1/2000"]})  # as text: "1/..", "10/..", "2/.."
    assert time_order(table, "DATE").tolist() == [2, 0, 1]


def test_datetimes_and_counts_keep_their_order_and_ties_keep_file_order():
    table = pd.DataFrame({"when": pd.to_datetime(["2000-01-02", "2000-01-01", "2000-01-02", "2000-01-01"]),
                          "hour": [5, 3, 3, 1]})
    assert time_order(table, "when").tolist() == [1, 3, 0, 2]
    assert time_order(table, "hour").tolist() == [3, 1, 2, 0]


@pytest.mark.parametrize(("table", "message"), [
    (pd.DataFrame({"DATE": [1], "x": [1]}), r"t\.toml: split\.order_by: no column 'DAT' in mine .*Did you mean 'DATE'"),
    (pd.DataFrame({"DAT": [20000101, None]}), r"1 rows of mine have no value in 'DAT' \(the first at row 1\)"),
    (pd.DataFrame({"DAT": [20000101, 20001345]}), r"read as yyyymmdd dates.*20001345 at row 1"),
    (pd.DataFrame({"DAT": ["2000-01-01", "soon"]}), r"'DAT' of mine is read as dates.*'soon' at row 1.*ISO"),
    (pd.DataFrame({"DAT": [True, False]}), r"true/false values, not dates"),
])
def test_bad_order_columns_are_refused(table, message):
    with pytest.raises(DataError, match=message):
        time_order(table, "DAT", source="t.toml", table_name="mine")


def test_order_by_needs_a_split_that_keeps_order():
    assert ordering_column(SplitSpec(type="ordered", order_by="DATE")) == "DATE"
    assert ordering_column(SplitSpec(type="random")) is None
    with pytest.raises(SpecError, match=r"s\.toml: split\.order_by: .*type = 'stratified' shuffles.*type = 'ordered'"):
        ordering_column(SplitSpec(type="stratified", order_by="DATE"), source="s.toml")


def test_rows_are_sorted_before_the_shift_so_tomorrow_is_the_next_date():
    prepared = prepare_table(days(SHUFFLED), DataSpec(target="t", shift=-1), order_by="DATE")
    assert prepared.frame["DATE"].tolist() == sorted(SHUFFLED)[:-1]
    assert prepared.target.tolist() == [float(day) for day in range(1, 10)]  # the next date's t, every row
    assert prepared.feature_names == ("x", "t")  # DATE orders the rows; it is no feature


def test_the_order_column_is_a_feature_only_when_selected_by_name():
    selected = prepare_table(days(SHUFFLED), DataSpec(target="t", select=("DATE", "x")), order_by="DATE")
    assert selected.feature_names == ("DATE", "x")
    pattern = prepare_table(days(SHUFFLED), DataSpec(target="t", select=("*",)), order_by="DATE")
    assert pattern.feature_names == ("x",)
    dropped = prepare_table(days(SHUFFLED), DataSpec(target="t", drop=("DATE",)), order_by="DATE")
    assert dropped.frame["DATE"].is_monotonic_increasing and dropped.feature_names == ("x",)


def test_an_ordered_split_follows_the_dates_not_the_file(make_spec):
    spec = make_spec({"target": "t", "shift": -1},
                     split={"type": "ordered", "test": 0.2, "validation": 0.2, "order_by": "DATE"})
    dataset = build_dataset(spec, frame=days(SHUFFLED))
    assert dataset.train.frame["DATE"].tolist() == [20000101, 20000102, 20000103, 20000104, 20000105]
    assert dataset.test.frame["DATE"].tolist() == [20000108, 20000109]
    assert dataset.test.y.tolist() == [8.0, 9.0]
    assert not any("time series" in warning for warning in dataset.warnings)


def test_a_shuffled_split_of_a_shifted_target_is_warned_about(make_spec):
    spec = make_spec({"target": "t", "shift": -1, "drop": ["DATE"]}, split={"type": "random", "test": 0.3},
                     evaluate={"persistence": "t"}, source="w.toml")
    warnings = [w for w in build_dataset(spec, frame=days(SHUFFLED)).warnings if "time series" in w]
    assert len(warnings) == 1
    assert warnings[0].startswith("w.toml: split.type: data.shift = -1 and the persistence baseline ('t') treat")
    assert "type = 'ordered'" in warnings[0]


@pytest.mark.parametrize(("split", "shift", "persistence", "count"), [
    ("random", -1, None, 1), ("stratified", 0, "t", 1), ("random", 0, None, 0), ("ordered", -1, "t", 0),
])
def test_time_order_warnings(split, shift, persistence, count):
    assert len(time_order_warnings(SplitSpec(type=split), shift=shift, persistence=persistence)) == count
