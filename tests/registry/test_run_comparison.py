"""Comparing runs: ranked on one test set, refused across test sets."""

from __future__ import annotations

import pytest

from dlworkflow.errors import RegistryError
from dlworkflow.registry.run_comparison import compare_runs


def record(run_id, name, value, *, fingerprint="f" * 64, test_set="weather", metric="rmse", status="finished"):
    return {
        "id": run_id, "name": name, "description": f"{name} model", "status": status,
        "test_set": {"name": test_set, "fingerprint": fingerprint},
        "primary": {"metric": metric, "value": value, "baseline": "persistence", "baseline_value": 3.9,
                    "skill": None if value is None else 1 - value / 3.9},
        "metrics": {"test": {} if value is None else {metric: value, "mae": value / 2, "loss": value**2}},
        "baselines": {"persistence": {"test": {metric: 3.9 if metric == "rmse" else 0.5, "mae": 2.0}}},
        "training": {"epochs_run": 10, "best_epoch": 4},
        "git": {"commit": "c" * 40},
    }


def test_runs_of_one_test_set_are_ranked_best_first_with_failed_runs_last():
    table = compare_runs([record("r1", "big", 3.6), record("r2", "crashed", None, status="failed"),
                          record("r3", "small", 3.2)])
    assert [(row["kind"], row["name"]) for row in table.rows] == [
        ("run", "small"), ("run", "big"), ("baseline", "persistence"), ("run", "crashed")
    ]
    assert (table.metric, table.test_set_name, table.metrics) == ("rmse", "weather", ["rmse", "mae"])
    best = table.rows[0]
    assert (best["baseline"], best["baseline_value"], best["test"]) == ("persistence", 3.9, {"rmse": 3.2, "mae": 1.6})
    assert table.rows[2]["test"] == {"rmse": 3.9, "mae": 2.0}


def test_higher_is_better_metrics_rank_the_other_way():
    table = compare_runs([record("a", "low", 0.7, metric="accuracy"), record("b", "high", 0.9, metric="accuracy")])
    assert [row["name"] for row in table.rows] == ["high", "low", "persistence"]


def test_runs_on_different_test_sets_are_refused_with_each_test_set_named():
    with pytest.raises(RegistryError) as info:
        compare_runs([record("r1", "weather", 3.6),
                      record("r2", "basel", 4.1, fingerprint="e" * 64, test_set="weather_basel")])
    message = str(info.value)
    assert "different test sets" in message and "cannot be ranked" in message
    assert "r1 (weather) on 'weather' [ffffffffffff]" in message
    assert "r2 (basel) on 'weather_basel' [eeeeeeeeeeee]" in message
    assert "dlw runs --test-set" in message


def test_one_run_is_not_a_comparison():
    with pytest.raises(RegistryError, match="needs two runs or more to compare; got 1"):
        compare_runs([record("r1", "only", 3.0)])


def test_different_headline_metrics_are_refused():
    with pytest.raises(RegistryError, match=r"rank by different headline metrics \(mae, rmse\)"):
        compare_runs([record("r1", "a", 3.0), record("r2", "b", 1.0, metric="mae")])
