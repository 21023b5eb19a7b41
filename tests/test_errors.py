"""Tests of dlworkflow.errors: suggestions for misspelt names."""

from __future__ import annotations

import pytest

from dlworkflow.errors import did_you_mean


@pytest.mark.parametrize(
    ("word", "options", "expected"),
    [
        ("adma", ["adamax", "adam", "adagrad"], "adam"),  # two letters swapped beats a look-alike
        ("Dnse", ["Dense", "Dropout"], "Dense"),
        ("dense", ["Dense", "Dropout"], "Dense"),
        ("stratifed", ["random", "stratified", "ordered"], "stratified"),
        ("epoch", ["epochs", "batch_size"], "epochs"),
        ("weathr", ["penguins", "weather"], "weather"),
        ("zzzz", ["penguins", "weather"], None),
    ],
)
def test_did_you_mean(word, options, expected):
    assert did_you_mean(word, options) == expected
