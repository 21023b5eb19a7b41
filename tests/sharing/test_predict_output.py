"""dlw predict: never writes over its input or an existing file without --force; finite predictions or an error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import DataError
from dlworkflow.sharing.bundle import BUNDLE_FILE, manifest

runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


@pytest.fixture(scope="module")
def bundle(weather_run, tmp_path_factory):
    return api.export(weather_run.id, tmp_path_factory.mktemp("out") / "weather", registry=weather_run.registry)


@pytest.fixture()
def rows(weather_run, tmp_path):
    path = tmp_path / "rows.csv"
    weather_run.test_rows.head(4).to_csv(path, index=False)
    return path


def test_the_input_is_never_the_output(bundle, rows):
    before = rows.read_bytes()
    for extra in ([], ["--force"]):
        result = invoke("predict", bundle, "--input", rows, "--output", rows, *extra)
        assert result.exit_code == 3
        assert "--output: is the input file" in " ".join(result.output.split())
    assert rows.read_bytes() == before


def test_an_existing_output_needs_force(bundle, rows, tmp_path):
    output = tmp_path / "predictions.csv"
    output.write_text("my own work\n")
    refused = invoke("predict", bundle, "--input", rows, "--output", output)
    assert refused.exit_code == 3 and "the file exists" in refused.output and "--force" in refused.output
    assert output.read_text() == "my own work\n"
    replaced = invoke("predict", bundle, "--input", rows, "--output", output, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert pd.read_csv(output).columns.tolist() == ["prediction"] and len(pd.read_csv(output)) == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == ["predictions.csv", "rows.csv"]


def test_the_bundles_own_files_are_never_the_output(bundle, rows):
    before = (bundle / "model.keras").read_bytes()
    with pytest.raises(DataError, match="model.keras: --output: is the input file"):
        api.predict(bundle, rows, bundle / "model.keras", force=True)
    assert (bundle / "model.keras").read_bytes() == before


@pytest.mark.parametrize("value, what", [
    (np.inf, r"1 row has infinite values \(inf\) in feature columns 'BASEL_cloud_cover' \(data row 3,"),
    (-np.inf, r"infinite values \(inf\) in feature columns 'BASEL_cloud_cover' \(data row 3,"),
    (1e300, r"1 row has values too large for the network once scaled .* 'BASEL_cloud_cover' \(data row 3,"),
])
def test_non_finite_and_overflowing_inputs_are_refused_naming_rows_and_columns(bundle, rows, tmp_path, value, what):
    table = pd.read_csv(rows)
    table["BASEL_cloud_cover"] = table["BASEL_cloud_cover"].astype(float)
    table.loc[2, "BASEL_cloud_cover"] = value
    table.to_csv(rows, index=False)
    output = tmp_path / "predictions.csv"
    with pytest.raises(DataError, match=what):
        api.predict(bundle, rows, output)
    assert not output.exists()


def test_a_model_giving_infinite_predictions_is_an_error_naming_the_rows(tmp_path):
    import keras

    folder = tmp_path / "overflowing"
    folder.mkdir()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.layers[0].set_weights([np.full((2, 1), 1e37, np.float32), np.zeros(1, np.float32)])
    model.save(folder / "model.keras")
    (folder / "preprocessing.json").write_text(json.dumps({
        "feature_names": ["a", "b"], "target": "y", "shift": 0, "task": "regression", "target_encoding": None,
        "class_names": None, "scaling": {"method": "none"},
    }))
    (folder / "spec.toml").write_text('name = "overflow"\n')
    record = {"id": "20250101-000000-c0ffee", "name": "overflow", "backend": keras.backend.backend(),
              "data": {"task": "regression", "target": "y"}}
    listed = manifest(folder, ["model.keras", "preprocessing.json", "spec.toml"], record)
    (folder / BUNDLE_FILE).write_text(json.dumps(listed))
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"a": [1.0, 1e30, 2.0, 3e37], "b": [1.0, 1e30, 2.0, 3e37]}).to_csv(rows, index=False)
    output = tmp_path / "predictions.csv"
    with pytest.raises(DataError, match=r"model.keras: the model gives NaN or infinite predictions for 2 rows "
                                        r"\(data rows 2, 4, counting from 1 after the header\); nothing was written"):
        api.predict(folder, rows, output)
    assert not output.exists()


def test_a_fifo_or_a_device_as_input_is_refused_without_reading_it(bundle, tmp_path):
    import os

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"rows.csv: is a FIFO \(named pipe\), not a regular file"):
        api.predict(bundle, fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(DataError, match="/dev/zero: is a character device, not a regular file"):
            api.predict(bundle, "/dev/zero")


def test_a_full_disk_leaves_no_file_and_no_temporary_file(bundle, rows, tmp_path, monkeypatch):
    import errno
    import os

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(DataError, match=r"predictions.csv: --output: cannot write the file \(No space left on device\)"):
        api.predict(bundle, rows, tmp_path / "predictions.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rows.csv"]
