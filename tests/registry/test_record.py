"""RunRecord: the JSON shape of `dlw show --json` and its round trip."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from dlworkflow.errors import RegistryError
from dlworkflow.registry.record import RunRecord, finite_or_none
from dlworkflow.registry.record_sections import Headline, TestSetLook, TrainingSummary

EARLIER_KEYS = [
    "id",
    "name",
    "description",
    "status",
    "created_at",
    "finished_at",
    "spec",
    "spec_hash",
    "spec_file",
    "data",
    "split",
    "test_set",
    "params",
    "metrics",
    "baselines",
    "primary",
    "training",
    "git",
    "backend",
    "versions",
    "seed",
    "timings",
    "artifacts",
    "comments",
    "error",
]
"""The keys of `dlw show --json` before the image-classification sections; they must not change."""

TOP_LEVEL_KEYS = [*EARLIER_KEYS, "baselines_skipped", "classes", "diagnosis", "study", "warnings", "backend_requested", "devices", "explanation"]

SECTION_KEYS = {
    "data": ["name", "fingerprint", "task", "target", "features", "class_names"],
    "split": ["type", "seed", "train", "validation", "test"],
    "test_set": ["name", "fingerprint", "looks", "look"],
    "params": ["total", "trainable", "non_trainable", "layers"],
    "metrics": ["train", "validation", "test"],
    "primary": ["metric", "value", "baseline", "baseline_value", "skill"],
    "training": ["epochs_run", "evaluated_epoch", "best_epoch", "stopped_early"],
    "git": ["commit", "dirty"],
    "artifacts": ["dir", "files"],
}


def full_record() -> RunRecord:
    return RunRecord(
        id="20250101-120000-3f2a",
        name="dense-64",
        description="two dense layers",
        status="finished",
        created_at="2025-01-01T12:00:00+00:00",
        finished_at="2025-01-01T12:01:00+00:00",
        spec={"name": "dense-64", "model": {"layers": [{"type": "Dense", "units": 64}]}},
        spec_hash="ab" * 32,
        spec_file="weather.toml",
        data={
            "name": "weather",
            "fingerprint": "0" * 64,
            "task": "regression",
            "target": "BASEL_sunshine",
            "features": ["a", "b"],
            "class_names": None,
        },
        split={"type": "ordered", "seed": 0, "train": 600, "validation": 200, "test": 200},
        test_set={"name": "weather-test", "fingerprint": "1" * 64, "looks": 3, "look": 3},
        params={"total": 10, "trainable": 10, "non_trainable": 0, "layers": [
            {"name": "dense", "type": "Dense", "output_shape": "(None, 1)", "parameters": 10,
             "formula": "9 inputs × 1 unit + 1 bias = 10", "note": ""},
        ]},
        metrics={"train": {"rmse": 1.0}, "validation": {"rmse": 1.5}, "test": {"rmse": 2.0}},
        baselines={"persistence": {"test": {"rmse": 3.0}}},
        primary={"metric": "rmse", "value": 2.0, "baseline": "persistence", "baseline_value": 3.0, "skill": 0.33},
        training={"epochs_run": 20, "evaluated_epoch": 15, "best_epoch": 15, "stopped_early": True},
        git={"commit": "c" * 40, "dirty": False},
        backend="jax",
        versions={"python": "3.11.7", "keras": "3.15.1"},
        seed=0,
        timings={"data": 0.1, "train": 3.2},
        artifacts={"dir": "/tmp/.dlw/runs/20250101-120000-3f2a", "files": ["model.keras"]},
        comments=[{"text": "good", "created_at": "2025-01-02T00:00:00+00:00"}],
        error=None,
        baselines_skipped={"logistic_regression": "images streamed from disk"},
        classes=CLASSES,
    )


CLASSES = {
    "names": ["cat", "dog"],
    "confusion": {"train": [[5, 1], [2, 4]], "test": [[3, 0], [1, 0]]},
    "per_class_accuracy": {"train": {"cat": 5 / 6, "dog": 4 / 6}, "test": {"cat": 1.0, "dog": 0.0}},
}


def test_to_dict_has_the_documented_keys_in_order() -> None:
    shape = full_record().to_dict()
    assert list(shape) == TOP_LEVEL_KEYS
    for section, keys in SECTION_KEYS.items():
        assert list(shape[section]) == keys, section


def test_a_minimal_record_still_has_every_key() -> None:
    shape = RunRecord(id="r1", name="m").to_dict()
    assert list(shape) == TOP_LEVEL_KEYS
    for section, keys in SECTION_KEYS.items():
        assert list(shape[section]) == keys, section
    assert shape["test_set"] == {"name": None, "fingerprint": None, "looks": None, "look": None}
    assert shape["metrics"] == {"train": {}, "validation": {}, "test": {}}
    assert shape["comments"] == [] and shape["error"] is None


def test_partial_sections_are_completed() -> None:
    record = RunRecord(id="r1", name="m", test_set={"name": "t", "fingerprint": "f"})
    assert record.to_dict()["test_set"] == {"name": "t", "fingerprint": "f", "looks": None, "look": None}


def test_round_trip_through_dict_and_json() -> None:
    record = full_record()
    assert RunRecord.from_dict(record.to_dict()) == record
    assert RunRecord.from_json(record.to_json()) == record
    assert json.loads(record.to_json()) == record.to_dict()


def test_to_dict_is_a_copy() -> None:
    record = full_record()
    shape = record.to_dict()
    shape["metrics"]["test"]["rmse"] = 99.0
    assert record.metrics["test"]["rmse"] == 2.0


def test_from_dict_fills_missing_keys_and_ignores_unknown_ones() -> None:
    record = RunRecord.from_dict({"id": "r1", "name": "m", "primary": {"metric": "rmse"}, "added_later": 1})
    assert record.primary == Headline(metric="rmse")
    assert record.to_dict()["primary"] == {
        "metric": "rmse", "value": None, "baseline": None, "baseline_value": None, "skill": None
    }
    assert record.status == "finished"
    assert "added_later" not in record.to_dict()


def test_sections_are_typed_and_a_dict_given_for_one_is_read_into_its_type() -> None:
    record = RunRecord(id="r1", name="m", test_set={"name": "weather", "looks": 2}, comments=[{"text": "ok"}])
    assert isinstance(record.test_set, TestSetLook)
    assert (record.test_set.name, record.test_set.looks, record.test_set.look) == ("weather", 2, None)
    assert record.comments[0].text == "ok"


def test_a_section_keeps_keys_it_does_not_know_so_a_newer_record_survives_a_rewrite() -> None:
    shape = {"id": "r1", "name": "m", "training": {"epochs_run": 3, "added_by_a_newer_version": [1, 2]}}
    assert RunRecord.from_dict(shape).to_dict()["training"] == {
        "epochs_run": 3, "evaluated_epoch": None, "best_epoch": None, "stopped_early": None,
        "added_by_a_newer_version": [1, 2],
    }


def test_optional_training_keys_are_written_only_when_the_run_has_them() -> None:
    bare = RunRecord(id="r1", name="m", training=TrainingSummary(epochs_run=3)).to_dict()["training"]
    assert "stages" not in bare and "steps_per_execution" not in bare
    full = RunRecord(id="r1", name="m", training=TrainingSummary(epochs_run=3, stages={"train": 3})).to_dict()
    assert full["training"]["stages"] == {"train": 3}


@pytest.mark.parametrize("data", [None, [], {"name": "m"}, {"id": "", "name": "m"}, {"id": "r1"}])
def test_from_dict_refuses_what_is_not_a_record(data: object) -> None:
    with pytest.raises(RegistryError, match="run record: must be a dict with at least 'id' and 'name'"):
        RunRecord.from_dict(data)  # type: ignore[arg-type]


def test_from_json_refuses_broken_json() -> None:
    with pytest.raises(RegistryError, match="run record: is not valid JSON"):
        RunRecord.from_json("{not json")


def test_record_is_frozen_and_replace_makes_a_copy() -> None:
    record = full_record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "other"  # type: ignore[misc]
    failed = record.replace(status="failed", error="loss became NaN")
    assert (failed.status, failed.error) == ("failed", "loss became NaN")
    assert record.status == "finished"


def test_to_json_converts_numpy_and_paths() -> None:
    record = RunRecord(
        id="r1",
        name="m",
        metrics={"train": {"rmse": np.float32(1.5)}, "validation": {}, "test": {"rmse": np.float64(2.0)}},
        params={"total": np.int64(10), "trainable": 10, "non_trainable": 0},
        artifacts={"dir": Path("/tmp/run"), "files": []},
    )
    shape = json.loads(record.to_json())
    assert shape["metrics"]["train"]["rmse"] == 1.5
    assert shape["params"]["total"] == 10
    assert shape["artifacts"]["dir"] == "/tmp/run"


def test_to_json_names_the_run_when_a_value_cannot_be_written() -> None:
    record = RunRecord(id="r1", name="m", timings={"train": object()})
    with pytest.raises(RegistryError, match=r"run 'r1': the run record cannot be written as JSON"):
        record.to_json()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (np.float32(0.5), 0.5), (None, None), (float("nan"), None), (math.inf, None), ("x", None), (True, None)],
)
def test_finite_or_none(value: object, expected: float | None) -> None:
    assert finite_or_none(value) == expected


# --- image classification: classes and skipped baselines ------------------------------------


def test_new_keys_come_after_every_earlier_key() -> None:
    shape = RunRecord(id="r1", name="m").to_dict()
    assert list(shape)[: len(EARLIER_KEYS)] == EARLIER_KEYS
    assert shape["baselines_skipped"] == {}
    assert shape["classes"] is None


def test_classes_and_skipped_baselines_round_trip() -> None:
    record = full_record()
    again = RunRecord.from_json(record.to_json())
    assert again == record
    assert again.classes == CLASSES
    assert again.classes["confusion"]["test"] == [[3, 0], [1, 0]]
    assert again.baselines_skipped == {"logistic_regression": "images streamed from disk"}


def test_a_record_written_before_classes_existed_still_loads() -> None:
    old = {key: value for key, value in full_record().to_dict().items() if key in EARLIER_KEYS}
    record = RunRecord.from_dict(json.loads(json.dumps(old)))
    assert record.classes is None
    assert record.baselines_skipped == {}
    assert record.metrics == full_record().metrics
    assert list(record.to_dict()) == TOP_LEVEL_KEYS


def test_null_skipped_baselines_read_as_empty() -> None:
    record = RunRecord.from_dict({"id": "r1", "name": "m", "baselines_skipped": None, "classes": None})
    assert record.baselines_skipped == {}
    assert record.classes is None


def test_classes_with_numpy_values_are_written_as_plain_json() -> None:
    classes = {
        "names": ["a", "b"],
        "confusion": {"test": np.array([[1, 0], [0, 2]])},
        "per_class_accuracy": {"test": {"a": np.float64(1.0), "b": None}},
    }
    shape = json.loads(RunRecord(id="r1", name="m", classes=classes).to_json())
    assert shape["classes"]["confusion"]["test"] == [[1, 0], [0, 2]]
    assert shape["classes"]["per_class_accuracy"]["test"] == {"a": 1.0, "b": None}


def test_devices_are_kept_through_json_and_shown_in_the_provenance() -> None:
    devices = [{"kind": "gpu", "name": "cuda:0 NVIDIA H100 80GB HBM3"}, {"kind": "gpu", "name": "cuda:1 NVIDIA H100 80GB HBM3"}]
    record = RunRecord(id="r1", name="m", backend="jax", devices=devices)
    again = RunRecord.from_json(record.to_json())
    assert again.to_dict()["devices"] == devices
    assert [device.kind for device in again.provenance.devices] == ["gpu", "gpu"]
    older = RunRecord.from_dict({"id": "r1", "name": "m", "devices": None})
    assert older.devices == [] and older.provenance.devices is None
