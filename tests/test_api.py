"""Spec resolution in the Python API: files, dicts and Spec objects, with overrides and keyword settings."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlworkflow
from dlworkflow.api import resolve_spec
from dlworkflow.workflow_warning import WorkflowWarning

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_keyword_settings_apply_after_overrides():
    spec = resolve_spec(
        EXAMPLES / "weather.toml",
        ["train.epochs=5", "train.batch_size=16"],
        {"train.epochs": 7, "train.optimizer.learning_rate": 0.01},
    )
    assert (spec.train.epochs, spec.train.batch_size, spec.train.optimizer.learning_rate) == (7, 16, 0.01)
    assert spec.source.endswith("weather.toml")


def test_spec_object_is_returned_as_is_without_overrides_and_revalidated_with_them():
    spec = resolve_spec(EXAMPLES / "penguins.toml")
    assert resolve_spec(spec) is spec
    changed = resolve_spec(spec, settings={"train.epochs": 3})
    assert changed.train.epochs == 3 and changed.source == spec.source


def repeated_rows(units: int = 4) -> tuple[dict, pd.DataFrame]:
    """A tiny regression spec and a frame whose 40 rows each appear twice (so test rows repeat in training)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame["y"] = 2 * frame["a"] - frame["b"]
    spec = {
        "name": "twice <b>",
        "data": {"target": "y"},
        "split": {"test": 0.25, "validation": 0.25, "seed": 1},
        "model": {"layers": [{"type": "Dense", "units": units, "activation": "relu"}, {"type": "Dense", "units": 1}]},
        "train": {"epochs": 1},
    }
    return spec, pd.concat([frame, frame], ignore_index=True)


def test_a_runs_notes_are_raised_as_python_warnings_and_shown_in_its_html(registry_url):
    spec, frame = repeated_rows()
    with pytest.warns(WorkflowWarning) as caught:
        result = dlworkflow.run(spec, data=frame, registry=registry_url)
    assert any("repeat" in warning for warning in result.warnings)
    ours = [warning for warning in caught if warning.category is WorkflowWarning]
    assert [str(warning.message) for warning in ours] == result.warnings
    assert {warning.filename for warning in ours} == {__file__}  # they point at the caller's line
    page = result._repr_html_()
    assert page.index("dlworkflow-warnings") < page.index("dlworkflow-run")
    assert all(html.escape(warning) in page for warning in result.warnings)


def test_a_summary_warns_and_renders_as_a_table(registry_url):
    spec, frame = repeated_rows(units=512)
    with pytest.warns(WorkflowWarning, match="trainable parameters for 40 training rows"):
        summary = dlworkflow.summary(spec, data=frame)
    page = summary._repr_html_()
    assert "<table>" in page and "3·512 + 512 = 2,048" in page and "twice &lt;b&gt;" in page
    assert "trainable parameters for 40 training rows" in page
    assert repr(summary).startswith("ModelSummary(name='twice <b>', backend=")
