"""Column encodings fitted on training rows, applied to new rows, saved as JSON (pandas only, fast)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.column_encoding import TableEncoding
from dlworkflow.data.column_types import column_profiles
from dlworkflow.errors import DataError


def fitted(train: pd.DataFrame, overrides=None, **options) -> TableEncoding:
    return TableEncoding.fit(train, column_profiles(train, overrides or {}), **options)


def test_category_onehot_with_out_of_vocabulary_bucket_and_note():
    encoding = fitted(pd.DataFrame({"island": ["Dream", "Biscoe", "Dream"]}))
    rows = encoding.transform(pd.DataFrame({"island": ["Biscoe", "Atlantis", "Atlantis", "Mars"]}))
    assert list(rows.values.columns) == ["island=Biscoe", "island=Dream", "island=<other>"]
    assert rows.values.to_numpy().tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]]
    assert rows.notes == (
        "island: 3 values never seen in training ('Atlantis', 'Mars') went to the out-of-vocabulary bucket",
    )


def test_many_categories_become_one_index_column():
    encoding = fitted(pd.DataFrame({"site": list("abcdef")}), max_onehot=3)
    assert encoding.output_names == ("site",) and encoding.unscaled == ("site",)
    assert encoding.transform(pd.DataFrame({"site": ["a", "f", "z"]})).values["site"].tolist() == [1.0, 6.0, 0.0]


def test_integer_codes_typed_category_match_their_float_form():
    encoding = fitted(pd.DataFrame({"grade": [1, 2, 2]}), {"grade": "category"})
    assert encoding.columns[0].vocabulary == ("1", "2")
    assert encoding.transform(pd.DataFrame({"grade": [2.0]})).values.to_numpy().tolist() == [[0, 1, 0]]


def test_booleans_and_dates():
    train = pd.DataFrame({"ok": ["Yes", "no"], "day": ["2024-01-01", "2024-07-01"]})
    encoded = fitted(train).transform(train).values
    assert encoded["ok"].tolist() == [1.0, 0.0]
    assert encoded["day_year"].tolist() == [2024.0, 2024.0]
    assert encoded["day_day_sin"].iloc[0] == pytest.approx(0.0)
    assert encoded["day_weekday_cos"].iloc[0] == pytest.approx(1.0)  # 2024-01-01 is a Monday (weekday 0)


def test_impute_uses_training_rows_only_and_adds_indicators_where_training_had_gaps():
    train = pd.DataFrame({"mass": [1.0, None, 3.0, 10.0], "sex": ["F", "M", None, "M"], "ok": [1.0, 2.0, 3.0, 4.0]})
    encoding = fitted(train, missing="impute")
    assert encoding.output_names == ("mass", "mass_missing", "sex=F", "sex=M", "sex=<other>", "sex_missing", "ok")
    assert encoding.imputed == {"mass": 1, "sex": 1}
    rows = encoding.transform(pd.DataFrame({"mass": [None], "sex": [None], "ok": [None]}))
    assert rows.values.iloc[0].tolist() == [3.0, 1.0, 0.0, 1.0, 0.0, 1.0, 2.5]
    assert rows.imputed == {"mass": 1, "sex": 1, "ok": 1}


def test_without_impute_a_gap_stays_missing():
    encoding = fitted(pd.DataFrame({"mass": [1.0, 2.0]}))
    assert encoding.is_plain
    assert np.isnan(encoding.transform(pd.DataFrame({"mass": [None]})).values["mass"].iloc[0])


def test_text_in_a_number_column_is_named():
    encoding = fitted(pd.DataFrame({"mass": [1.0, 2.0]}), missing="impute")
    with pytest.raises(DataError, match=r"new\.csv: mass: number column 'mass' holds text; got \['heavy'\]"):
        encoding.transform(pd.DataFrame({"mass": ["heavy"]}), source="new.csv")


def test_round_trip_through_json_gives_the_same_values():
    train = pd.DataFrame({"island": ["Dream", "Biscoe", None], "mass": [1.0, None, 3.0], "day": ["2024-01-01"] * 3})
    encoding = fitted(train, missing="impute")
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert again == encoding
    pd.testing.assert_frame_equal(again.transform(train).values, encoding.transform(train).values)
    assert again.describe()[0] == "island: category, one-hot of 2 values + other, gaps → 'Biscoe' + indicator (4 inputs)"


def test_a_broken_saved_encoding_is_a_data_error():
    with pytest.raises(DataError, match=r"p\.json: preprocessing\.encoding: is not a saved column encoding"):
        TableEncoding.from_dict({"columns": [{"type": "number"}]}, source="p.json")
