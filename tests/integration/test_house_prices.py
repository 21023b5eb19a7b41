"""The house prices of the Sheffield course: 79 features with categories and gaps, typed and imputed by dlw."""

from __future__ import annotations

from pathlib import Path

import pytest

import dlworkflow
from dlworkflow.reporting.html_report import render_report

EXAMPLE = Path(__file__).parents[2] / "examples" / "house_prices.toml"


@pytest.mark.slow  # 1,460 rows, 300 inputs, early stopping: about 10 s
def test_every_column_of_the_house_prices_beats_both_baselines_and_the_report_lists_the_encodings(
    shared_data, monkeypatch, registry_url
):
    monkeypatch.setenv("DLW_DATA_HOME", str(shared_data))

    result = dlworkflow.run(EXAMPLE, registry=registry_url)

    record = result.record.to_dict()
    validation = record["metrics"]["validation"]["rmse"]
    for baseline in ("mean", "linear_regression"):
        assert validation < record["baselines"][baseline]["validation"]["rmse"], baseline
    assert "Id" not in record["data"]["features"]  # ignored, as the spec says
    summary = next(w for w in result.warnings if "data.missing: 'impute' filled" in w)
    assert "in 19 columns" in summary and "Alley 1,369 ('Pave')" in summary  # every gap named, with its fill
    assert any("PoolQC is missing in" in warning for warning in result.warnings)  # mostly empty: said on its own
    page = render_report(record, Path(result.record.artifacts.dir))
    assert "Inputs and their encodings" in page
    assert "Neighborhood: category, one-hot of 25 values + other" in page
