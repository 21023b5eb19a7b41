"""Spec resolution in the Python API: files, dicts and Spec objects, with overrides and keyword settings."""

from __future__ import annotations

from pathlib import Path

from dlworkflow.api import resolve_spec

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
