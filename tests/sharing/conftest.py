"""Fixtures of the sharing tests: tiny finished runs (1–2 epochs) in a registry shared by the session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLES = REPOSITORY / "examples"


@dataclass(frozen=True)
class TrainedRun:
    """A finished run: its id, record, folder, registry URL and the raw rows of its test set."""

    id: str
    record: dict
    folder: Path
    registry: str
    test_rows: pd.DataFrame

    def saved_predictions(self, part: str = "test") -> pd.DataFrame:
        return pd.read_csv(self.folder / f"predictions_{part}.csv", float_precision="round_trip")


def _train(spec, registry: str, table: pd.DataFrame | None, **settings) -> TrainedRun:
    import dlworkflow

    result = dlworkflow.run(spec, registry=registry, train__backend="jax", **settings)
    folder = Path(result.record["artifacts"]["dir"])
    saved = pd.read_csv(folder / "predictions_test.csv")
    rows = table.loc[saved["row"]] if table is not None else pd.DataFrame()
    return TrainedRun(result.id, result.record, folder, registry, rows)


@pytest.fixture(scope="session")
def sharing_registry(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sharing') / 'dlw' / 'registry.db'}"


@pytest.fixture(scope="session")
def weather_run(sharing_registry) -> TrainedRun:
    """The lesson's weather model (regression, shift -1, DATE and MONTH dropped), 1 epoch."""
    from dlworkflow.data.sources import load_builtin

    return _train(EXAMPLES / "weather.toml", sharing_registry, load_builtin("weather"), train__epochs=1)


@pytest.fixture(scope="session")
def penguins_run(sharing_registry) -> TrainedRun:
    """The lesson's penguins classifier (island and sex dropped, rows with missing values dropped), 2 epochs."""
    from dlworkflow.data.sources import load_builtin

    return _train(EXAMPLES / "penguins.toml", sharing_registry, load_builtin("penguins"), train__epochs=2,
                  data__scaling="standardize")


@pytest.fixture(scope="session")
def image_arrays_run(sharing_registry, tmp_path_factory) -> TrainedRun:
    """A dense classifier of 8×8 RGB images from an .npz file, 1 epoch; its test images are in the record's folder."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("arrays")
    x_train = rng.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(12, 8, 8, 3), dtype=np.uint8)
    y_train, y_test = np.arange(40) % 2, np.arange(12) % 2
    path = folder / "tiny.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=np.array(["cat", "dog"]))
    spec = {
        "name": "tiny-images",
        "data": {"path": str(path), "scaling": "pixels"},
        "split": {"validation": 0.25},
        "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "train": {"epochs": 1, "loss": "auto"},
    }
    return _train(spec, sharing_registry, None)
