"""Tests of dlworkflow.data.fingerprint: stable across processes, sensitive to any change."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.fingerprint import table_fingerprint


@pytest.fixture
def features() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.5, 2.5, -0.0, 4.0], "b": [10, 20, 30, 40]}, index=[3, 5, 7, 9])


@pytest.fixture
def target() -> pd.Series:
    return pd.Series(["x", "y", "x", "z"], name="kind", index=[3, 5, 7, 9])


def test_same_data_same_digest(features, target):
    digest = table_fingerprint(features, target)
    assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    assert table_fingerprint(features.copy(), target.copy()) == digest


def test_stable_across_processes(features, target):
    code = (
        "import pandas as pd; from dlworkflow.data.fingerprint import table_fingerprint; "
        "f = pd.DataFrame({'a': [1.5, 2.5, -0.0, 4.0], 'b': [10, 20, 30, 40]}); "
        "print(table_fingerprint(f, pd.Series(['x', 'y', 'x', 'z'], name='kind')))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == table_fingerprint(features, target)


def test_known_digest():
    # Pinned: a change here means every registry's fingerprints change; bump FORMAT on purpose.
    digest = table_fingerprint(pd.DataFrame({"a": [1, 2]}), pd.Series([0.5, 1.5], name="y"))
    assert digest[:12] == "28fa13256d2a"


def test_storage_type_does_not_matter(features, target):
    assert table_fingerprint(features.astype({"b": "float64"}), target) == table_fingerprint(features, target)
    assert table_fingerprint(features, target.astype("category")) == table_fingerprint(features, target)
    assert table_fingerprint(features.reset_index(drop=True), target.reset_index(drop=True)) == table_fingerprint(
        features, target
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda f, t: (f.assign(a=[1.5, 2.5, 0.0, 4.000001]), t),
        lambda f, t: (f, t.replace("z", "w")),
        lambda f, t: (f.iloc[::-1], t.iloc[::-1]),
        lambda f, t: (f.iloc[:3], t.iloc[:3]),
        lambda f, t: (f.rename(columns={"a": "c"}), t),
        lambda f, t: (f, t.rename("other")),
        lambda f, t: (f[["b", "a"]], t),
        lambda f, t: (f.drop(columns=["b"]), t),
        lambda f, t: (f.assign(c=0.0), t),
        lambda f, t: (f.assign(a=[1.5, np.nan, 0.0, 4.0]), t),
    ],
    ids=["value", "target-value", "order", "row", "column-name", "target-name", "column-order",
         "fewer-columns", "more-columns", "nan"],
)
def test_any_change_changes_the_digest(features, target, change):
    changed = table_fingerprint(*change(features, target))
    assert changed != table_fingerprint(features, target)


def test_numbers_and_text_do_not_collide():
    numbers = pd.DataFrame({"a": [1.0, 2.0]})
    assert table_fingerprint(numbers, pd.Series([1, 2], name="y")) != table_fingerprint(
        numbers, pd.Series(["1", "2"], name="y")
    )


def test_lengths_must_match(features, target):
    with pytest.raises(ValueError, match="features have 4 rows but the target has 3"):
        table_fingerprint(features, target.iloc[:3])
