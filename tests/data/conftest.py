"""Fixtures of the data-layer tests: spec factories and the lesson's tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dlworkflow.spec import Spec, validate_spec

ONE_LAYER = {"layers": [{"type": "Dense", "units": 1}]}


def spec_from(
    data: dict[str, Any],
    split: dict[str, Any] | None = None,
    evaluate: dict[str, Any] | None = None,
    source: str = "test.toml",
) -> Spec:
    """A validated spec with the given [data], [split] and [evaluate] tables."""
    document: dict[str, Any] = {"name": "test", "data": data, "model": ONE_LAYER}
    if split is not None:
        document["split"] = split
    if evaluate is not None:
        document["evaluate"] = evaluate
    return validate_spec(document, source=source)


@pytest.fixture
def make_spec() -> Callable[..., Spec]:
    """Factory: ``make_spec({"dataset": "penguins", "target": "species"}, split={...})``."""
    return spec_from


@pytest.fixture
def lesson_penguins(shared_data: Path) -> pd.DataFrame:
    """The lesson's penguins table (seaborn's CSV), as read from the shared data mirror."""
    return pd.read_csv(shared_data / "penguins" / "penguins.csv")


@pytest.fixture
def lesson_weather(shared_data: Path) -> pd.DataFrame:
    """The lesson's light weather table, as read from the shared data mirror."""
    return pd.read_csv(shared_data / "weather" / "weather_prediction_dataset_light.csv")
