"""The one number rule (:mod:`dlworkflow.formatting`), and every output that prints numbers following it."""

from __future__ import annotations

import numpy as np
import pytest

from dlworkflow.formatting import BRIEF_DIGITS, MISSING, format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.877323350410224, "3.877"),  # the lesson's persistence RMSE
        (14101, "14,101"),  # the lesson's parameter count
        (12345.6, "12,346"),  # never 1.235e+04
        (123456.7, "123,457"),
        (1234.5678, "1,235"),  # thousands separated below 10,000 too, as whole numbers are
        (9999.7, "10,000"),  # rounding up to a fifth digit does not bring an exponent back
        (-12345.6, "-12,346"),
        (0.012345, "0.01235"),
        (2.0, "2"),
        (0.0000123456, "1.235e-05"),  # small values keep their exponent
        (None, MISSING),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (True, "True"),
        ("persistence", "persistence"),
        (np.float32(0.5), "0.5"),
        (np.int64(1096), "1,096"),
        (np.float64(12345.6), "12,346"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(-0.011104, "-0.0111"), (0.9, "0.9"), (1.0, "1"), (1234.5, "1,234"), (12345.6, "12,346")]
)
def test_brief_digits(value, text):
    assert format_number(value, BRIEF_DIGITS) == text


def test_the_model_card_the_page_and_the_plot_titles_print_a_value_alike():
    from dlworkflow.evaluation.regression_plots import format_value
    from dlworkflow.reporting.notebook_html import template_environment
    from dlworkflow.sharing.model_card import number

    page_number = template_environment().filters["number"]
    for value in (3.877323350410224, 12345.6, 14101, None, 0.0000123456):
        assert number(value) == page_number(value) == format_number(value)
    assert format_value(12345.6) == format_number(12345.6, BRIEF_DIGITS) == "12,346"
