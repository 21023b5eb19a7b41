"""Tests of dlworkflow.data.preparation: the [data] steps, in order, and their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.preparation import prepare_table
from dlworkflow.data.sources import load_builtin
from dlworkflow.errors import DataError
from dlworkflow.spec import DataSpec


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return load_builtin("penguins")


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    return load_builtin("weather")


def small_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [1, 2, 3, 4, 5, 6],
            "a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "b": [10, 20, 30, 40, 50, 60],
            "kind": ["x", "y", "x", "y", "x", "y"],
            "y": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def prepare(table: pd.DataFrame, **data) -> object:
    data.setdefault("target", "y")
    return prepare_table(table, DataSpec(**data), source="t.toml", table_name="mine")


def test_penguins_as_in_the_lesson(penguins: pd.DataFrame):
    prepared = prepare(penguins, target="species", drop=("island", "sex"), dropna=True)
    lesson = penguins.drop(columns=["island", "sex"]).dropna()
    pd.testing.assert_frame_equal(prepared.features, lesson.drop(columns=["species"]))
    assert prepared.feature_names == ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
    assert prepared.task == "classification"
    assert prepared.class_names == ("Adelie", "Chinstrap", "Gentoo")
    dummies = pd.get_dummies(lesson["species"])
    assert list(dummies.columns) == list(prepared.class_names)
    np.testing.assert_array_equal(prepared.y, dummies.to_numpy(np.float32))
    assert prepared.y.dtype == np.float32
    assert prepared.labels.tolist() == dummies.to_numpy().argmax(axis=1).tolist()
    assert list(prepared.frame.columns) == list(penguins.columns)  # dropped columns stay in the raw rows
    assert prepared.frame.index.equals(lesson.index)


def test_integer_encoding(penguins: pd.DataFrame):
    prepared = prepare(penguins, target="species", drop=("island", "sex"), dropna=True, target_encoding="integer")
    assert prepared.y.dtype == np.int32
    assert prepared.y.shape == (342,)
    assert prepared.target_encoding == "integer"


def test_weather_shift_predicts_the_next_row(weather: pd.DataFrame):
    prepared = prepare(weather, target="BASEL_sunshine", shift=-1, rows=1096, drop=("DATE", "MONTH"))
    assert prepared.task == "regression"
    assert prepared.target_encoding is None and prepared.class_names is None
    assert len(prepared.features) == 1096
    assert prepared.features.index.equals(pd.RangeIndex(0, 1096))
    assert "BASEL_sunshine" in prepared.feature_names  # today's value is a feature
    assert len(prepared.feature_names) == 89
    lesson_y = weather.loc[1:1096, "BASEL_sunshine"].to_numpy()
    np.testing.assert_array_equal(prepared.target.to_numpy(), lesson_y)
    np.testing.assert_array_equal(prepared.labels, lesson_y)
    assert prepared.y.dtype == np.float32 and prepared.labels.dtype == np.float64
    assert "DATE" in prepared.frame.columns  # kept in the raw rows for reports


def test_shift_drops_rows_without_a_target():
    prepared = prepare(small_table(), shift=-2, drop=("kind",))
    assert prepared.features.index.tolist() == [10, 11, 12, 13]
    assert prepared.target.tolist() == [2.5, 3.5, 4.5, 5.5]
    forward = prepare(small_table(), shift=1, rows=3, drop=("kind",))
    assert forward.features.index.tolist() == [11, 12, 13]
    assert forward.target.tolist() == [0.5, 1.5, 2.5]


def test_shift_is_computed_before_the_row_window():
    prepared = prepare(small_table(), shift=-1, rows=2, drop=("kind",))
    assert prepared.target.tolist() == [1.5, 2.5]


def test_without_shift_the_target_is_never_a_feature():
    prepared = prepare(small_table(), drop=("kind",), select=("*",))
    assert prepared.feature_names == ("day", "a", "b")


def test_drop_and_select_take_glob_patterns(weather: pd.DataFrame):
    prepared = prepare(weather, target="BASEL_sunshine", shift=-1, drop=("DATE", "MONTH", "*_cloud_cover"),
                       select=("BASEL_*", "TOURS_humidity"))
    assert prepared.feature_names == (
        "BASEL_humidity", "BASEL_pressure", "BASEL_global_radiation", "BASEL_precipitation",
        "BASEL_sunshine", "BASEL_temp_mean", "BASEL_temp_min", "BASEL_temp_max", "TOURS_humidity",
    )
    assert len(prepared.features) == 3653


def test_bool_target_is_classification():
    table = small_table().assign(y=[True, False, True, False, True, False])
    prepared = prepare(table, drop=("kind",))
    assert prepared.task == "classification"
    assert prepared.class_names == ("False", "True")


def test_dropna_counts_the_persistence_column():
    table = small_table().assign(extra=[1.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    prepared = prepare_table(table, DataSpec(target="y", drop=("kind", "extra"), dropna=True), persistence="extra")
    assert prepared.features.index.tolist() == [10, 12, 13, 14, 15]


# Errors: where (file and spec path), what, and what to do.


def test_unknown_target_suggests_a_column(penguins: pd.DataFrame):
    with pytest.raises(DataError, match=r"^t\.toml: data\.target: no column 'specie' in mine\. Did you mean 'species'\?"):
        prepare(penguins, target="specie")


def test_unknown_drop_column_suggests_a_column(penguins: pd.DataFrame):
    with pytest.raises(DataError, match=r"t\.toml: data\.drop\[1\]: no column 'iland' in mine\. Did you mean 'island'\?"):
        prepare(penguins, target="species", drop=("sex", "iland"))


def test_drop_pattern_matching_nothing(penguins: pd.DataFrame):
    with pytest.raises(DataError, match=r"data\.drop\[0\]: pattern 'wing_\*' matches no column of mine"):
        prepare(penguins, target="species", drop=("wing_*",))


def test_dropping_the_target(penguins: pd.DataFrame):
    with pytest.raises(DataError, match=r"data\.drop\[0\]: removes the target column 'species'; got 's\*'\. Keep the target"):
        prepare(penguins, target="species", drop=("s*",))


def test_unknown_select_column():
    with pytest.raises(DataError, match=r"data\.select\[0\]: no column 'aa' in mine"):
        prepare(small_table(), drop=("kind",), select=("aa",))


def test_text_features_are_typed_not_refused(penguins: pd.DataFrame):
    prepared = prepare(penguins, target="species", dropna=True)
    types = {profile.name: profile.type for profile in prepared.profiles}
    assert types["island"] == types["sex"] == "category"
    assert prepared.feature_names == ("island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                      "body_mass_g", "sex")


def test_free_text_feature_is_typed_text_and_kept():
    table = pd.DataFrame({"a": [5, 3, 1, 0, 2, 4], "note": ["a long free text remark here"] * 6, "y": range(6)})
    prepared = prepare(table)
    assert {profile.name: profile.type for profile in prepared.profiles}["note"] == "text"
    assert prepared.feature_names == ("a", "note")


def test_impute_keeps_feature_gaps_and_drops_rows_without_target(penguins: pd.DataFrame):
    table = penguins.copy()
    table.loc[table.index[5], "species"] = None
    prepared = prepare(table, target="species", missing="impute")
    assert len(prepared.features) == len(penguins) - 1
    assert prepared.features["sex"].isna().sum() == 11
    assert prepared.notes == ("1 row(s) with a missing target were dropped (the target is never imputed)",)


def test_missing_values_without_dropna(penguins: pd.DataFrame):
    with pytest.raises(
        DataError,
        match=r"t\.toml: data\.dropna: 2 rows have missing values in used columns: 'bill_length_mm' \(2\), "
        r"'bill_depth_mm' \(2\), 'flipper_length_mm' \(2\), 'body_mass_g' \(2\)\. Set dropna = true",
    ):
        prepare(penguins, target="species", drop=("island", "sex"))


def test_missing_shifted_target_without_dropna():
    table = small_table().assign(y=[0.5, 1.5, np.nan, 3.5, 4.5, 5.5])
    with pytest.raises(DataError, match=r"data\.dropna: 2 rows have missing values in used columns: 'y' \(1\), "
                       r"shifted target 'y' \(1\)"):
        prepare(table, drop=("kind",), shift=-1)


def test_dropna_leaving_no_rows():
    table = small_table().assign(a=np.nan)
    with pytest.raises(DataError, match=r"data\.dropna: every row of mine has a missing value in a used column"):
        prepare(table, drop=("kind",), dropna=True)


def test_rows_larger_than_the_table(weather: pd.DataFrame):
    with pytest.raises(
        DataError,
        match=r"data\.rows: asks for more rows than mine has: 3653 rows that have a target after the shift of -1; "
        r"got 5000\. Set data\.rows to 3653 or less",
    ):
        prepare(weather, target="BASEL_sunshine", shift=-1, rows=5000, drop=("DATE", "MONTH"))


def test_shift_leaving_no_rows():
    with pytest.raises(DataError, match=r"data\.shift: a shift of -6 leaves no rows with a target \(mine has 6 rows\)"):
        prepare(small_table(), drop=("kind",), shift=-6)


def test_no_features_left():
    with pytest.raises(DataError, match=r"data\.drop: no feature columns are left"):
        prepare(small_table(), drop=("day", "a", "b", "kind"))


def test_regression_on_text_target(penguins: pd.DataFrame):
    with pytest.raises(DataError, match=r"data\.task: a regression target must be numeric, but 'species' holds object"):
        prepare(penguins, target="species", drop=("island", "sex"), dropna=True, task="regression")


def test_a_single_class_is_not_classification():
    with pytest.raises(DataError, match=r"data\.target: classification needs at least 2 classes, but 'kind' has 1"):
        prepare(small_table().assign(kind="x"), target="kind")


def test_unknown_persistence_column(weather: pd.DataFrame):
    with pytest.raises(DataError, match=r"t\.toml: evaluate\.persistence: no column 'BASEL_sunshin' in weather\. "
                       r"Did you mean 'BASEL_sunshine'\?"):
        prepare_table(weather, DataSpec(target="BASEL_sunshine", shift=-1, drop=("DATE", "MONTH")),
                      source="t.toml", table_name="weather", persistence="BASEL_sunshin")


def test_non_numeric_persistence_column():
    with pytest.raises(DataError, match=r"evaluate\.persistence: column 'kind' is not numeric \(object\)"):
        prepare_table(small_table(), DataSpec(target="y", drop=("kind",)), persistence="kind")


def test_a_copy_of_the_target_among_the_features_is_refused_as_leakage():
    table = small_table().assign(answer=lambda frame: frame["y"])
    with pytest.raises(DataError, match=r"^t\.toml: data\.drop: feature column is equal to the target 'y' on every "
                                        r"row: 'answer'; .*leaks the answer.* add 'answer' to data\.drop"):
        prepare(table, drop=("kind",))
    assert prepare(table, drop=("kind", "answer")).feature_names == ("day", "a", "b")


def test_a_copy_of_the_shifted_target_is_leakage_but_the_unshifted_target_is_a_feature():
    table = small_table().assign(tomorrow=lambda frame: frame["y"].shift(-1))
    with pytest.raises(DataError, match=r"equal to the target 'y' \(shifted by -1\) on every row: 'tomorrow'"):
        prepare(table, drop=("kind",), shift=-1, dropna=True)
    assert "y" in prepare(small_table(), drop=("kind",), shift=-1).feature_names


def test_infinite_values_count_as_missing():
    table = small_table().astype({"b": float})
    table.loc[11, "a"], table.loc[13, "b"] = np.inf, -np.inf
    with pytest.raises(DataError, match=r"data\.dropna: 2 rows have missing or infinite values in used columns: "
                                        r"'a' \(1\), 'b' \(1\)"):
        prepare(table, drop=("kind",))
    assert prepare(table, drop=("kind",), dropna=True).frame.index.tolist() == [10, 12, 14, 15]


def test_a_file_that_is_not_a_table_is_never_quoted(tmp_path):
    from dlworkflow.data.sources import load_table

    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "shadow.csv").write_text("root:$6$s3cr3tHASH:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n")
    spec_file = tmp_path / "project" / "spec.toml"
    spec_file.parent.mkdir()
    spec_file.write_text("")
    data = DataSpec(path="../secrets/shadow.csv", target="y")
    table, name = load_table(data, source=str(spec_file))
    with pytest.raises(DataError) as caught:
        prepare_table(table, data, table_name=name, source=str(spec_file))
    message = str(caught.value)
    assert "s3cr3t" not in message and "root:" not in message and "99999" not in message
    assert "data.target: no column 'y' in shadow. The file read has 1 column(s). Its first line does not look like a " \
           "CSV header, so it is not shown here" in message
    # A real table's columns are still offered.
    with pytest.raises(DataError, match=r"Did you mean 'a'\? Valid options: 'day', 'a', 'b'"):
        prepare_table(small_table()[["day", "a", "b"]], DataSpec(target="aa"), table_name="t")
