"""Column type inference and data.columns overrides (pandas only, fast)."""

from __future__ import annotations

import pandas as pd
import pytest

from dlworkflow.data.column_types import column_profiles
from dlworkflow.errors import DataError


def types(frame: pd.DataFrame, overrides=None, **options) -> dict[str, str]:
    return {profile.name: profile.type for profile in column_profiles(frame, overrides or {}, **options)}


def test_inference_of_each_type():
    rows = 30
    frame = pd.DataFrame({
        "mass": [float(i) for i in range(rows)],
        "island": ["Dream", "Biscoe", "Torgersen"] * 10,
        "ok": ["yes", "no"] * 15,
        "flag": [True, False] * 15,
        "day": [f"2024-01-{i + 1:02d}" for i in range(rows)],
        "stamp": pd.date_range("2024-01-01", periods=rows),
        "code": [f"x{i}" for i in range(rows)],
        "note": ["a long remark about this very row"] * rows,
        "Id": range(rows),
    })
    assert types(frame) == {
        "mass": "number", "island": "category", "ok": "boolean", "flag": "boolean", "day": "date",
        "stamp": "date", "code": "ignore", "note": "text", "Id": "ignore",
    }


def test_numbers_are_never_reinterpreted_by_default():
    frame = pd.DataFrame({"grade": [1, 2, 3] * 10, "year": [2020 + i for i in range(30)]})
    assert types(frame) == {"grade": "number", "year": "number"}  # an increasing integer not named like an id


def test_overrides_by_name_and_glob_and_reason():
    frame = pd.DataFrame({"GarageType": ["a", "b"], "GarageCars": [1, 2], "day": [20240101, 20240102]})
    profiles = column_profiles(frame, {"Garage*": "category", "day": "date"})
    assert [(p.type, p.inferred, p.reason) for p in profiles] == [
        ("category", False, "set in data.columns")] * 2 + [("date", False, "set in data.columns")]


def test_counts_missing_and_distinct():
    profile = column_profiles(pd.DataFrame({"sex": ["M", None, "F", "M"]}))[0]
    assert (profile.rows, profile.missing, profile.distinct, profile.reason) == (4, 1, 2, "2 distinct strings")


def test_unknown_column_in_overrides_is_an_error():
    with pytest.raises(DataError, match=r"s\.toml: data\.columns\.islnd: names no feature column .*'islnd'.*"
                       r"Did you mean 'island'"):
        column_profiles(pd.DataFrame({"island": ["a"]}), {"islnd": "category"}, source="s.toml")


def test_unknown_type_is_an_error():
    with pytest.raises(DataError, match=r"data\.columns\.island: unknown column type; got 'categori'\. "
                       r"Did you mean 'category'"):
        column_profiles(pd.DataFrame({"island": ["a"]}), {"island": "categori"})


def test_date_format_reads_text_dates_and_a_bad_one_is_named():
    frame = pd.DataFrame({"day": ["31/01/2024", "01/02/2024"]})
    assert types(frame) == {"day": "category"}
    assert types(frame, date_format="%d/%m/%Y") == {"day": "date"}
    with pytest.raises(DataError, match=r"data\.columns\.day: column 'day' does not parse as dates .*'%Y-%m'"):
        column_profiles(frame, {"day": "date"}, date_format="%Y-%m")
