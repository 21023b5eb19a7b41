"""The scaling statistics, computed with numpy alone, are scikit-learn's to the bit."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from dlworkflow.data.scaling import SCALING_METHODS


def _tables():
    rng = np.random.default_rng(7)
    for case in range(60):
        rows, columns = int(rng.integers(1, 150)), int(rng.integers(1, 9))
        x = rng.normal(rng.normal(0, 1e3), rng.uniform(1e-6, 1e4), size=(rows, columns))
        if case % 3 == 0:
            x[:, 0] = 7.123456789  # a constant column: scale 1
        if case % 5 == 0 and rows > 3:
            x[rng.integers(0, rows, 3), rng.integers(0, columns)] = np.nan  # gaps left out
        if case % 7 == 0:
            x = np.round(x)
        yield x


@pytest.mark.parametrize("x", list(_tables()))
def test_standardize_and_minmax_give_scikit_learns_numbers_to_the_bit(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        standard, minmax = StandardScaler().fit(x), MinMaxScaler().fit(x)
    offset, scale = SCALING_METHODS["standardize"].statistics(x.copy())
    np.testing.assert_array_equal(offset, standard.mean_)
    np.testing.assert_array_equal(scale, standard.scale_)
    low, spread = SCALING_METHODS["minmax"].statistics(x)
    np.testing.assert_array_equal(low, minmax.data_min_)
    np.testing.assert_array_equal(spread, np.where(minmax.data_range_ == 0.0, 1.0, minmax.data_range_))


def test_scaling_a_table_imports_no_scikit_learn_or_scipy():
    code = (
        "import sys, pandas as pd\n"
        "from dlworkflow.data.scaling import Scaler\n"
        "Scaler('standardize').fit(pd.DataFrame({'a': [1.0, 2.0, 4.0]}))\n"
        "Scaler('minmax').fit(pd.DataFrame({'a': [1.0, 2.0, 4.0]}))\n"
        "sys.exit(', '.join(m for m in ('sklearn', 'scipy') if m in sys.modules) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
