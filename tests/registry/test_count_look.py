"""A look at a registered test set counted outside a run (dlw predict on its rows)."""

from __future__ import annotations

from pathlib import Path

from dlworkflow.registry import Registry, RunRecord


def test_count_look_counts_only_a_registered_test_set(registry_url: str, tmp_path: Path) -> None:
    with Registry.open(registry_url, home=tmp_path / "dlw") as registry:
        record = RunRecord(id="20250101-120000-aaaaaa", name="m", status="finished",
                           test_set={"name": None, "fingerprint": "f" * 64},
                           primary={"metric": "rmse", "value": 1.0}, metrics={"test": {"rmse": 1.0}})
        registry.record(record, looked_at_test=True, test_set_name="weather")
        assert registry.count_look("0" * 64) is None
        look = registry.count_look("f" * 64)
        assert (look.name, look.look, look.looks) == ("weather", 2, 2)
        assert registry.get("20250101-120000-aaaaaa").test_set.looks == 2
