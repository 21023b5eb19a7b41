"""Workers of one study draw different values: each opens the study with its own sampler seed (tuning/study.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlworkflow.spec import load_spec
from dlworkflow.tuning.search_space import suggest
from dlworkflow.tuning.study import open_study, worker_seed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _first_trials(tmp_path: Path, sampler: str, workers: list[int]) -> list[dict]:
    """Each worker opens the study before any trial exists (workers started together), then asks for its first trial."""
    spec = load_spec(EXAMPLES / "weather_tune.toml", overrides=[f"tune.sampler={sampler}"])
    storage = f"sqlite:///{tmp_path}/studies.db"
    studies = [open_study(spec, storage, worker=worker) for worker in workers]
    return [suggest(study.ask(), spec.tune.parameters) for study in studies]


@pytest.mark.parametrize("sampler", ["tpe", "random", "grid"])
def test_two_workers_started_together_draw_different_first_trials(tmp_path, sampler):
    first, second = _first_trials(tmp_path, sampler, [0, 1])
    assert first != second


def test_six_workers_started_together_spread_over_the_search_space(tmp_path):
    firsts = _first_trials(tmp_path, "tpe", list(range(6)))
    assert len({tuple(sorted(first.items())) for first in firsts}) >= 4  # one and the same before, for every worker


def test_each_worker_draws_the_same_values_on_every_rerun(tmp_path):
    assert _first_trials(tmp_path / "a", "tpe", [0, 1]) == _first_trials(tmp_path / "b", "tpe", [0, 1])


def test_worker_0_keeps_the_seed_a_single_worker_study_always_had():
    assert [worker_seed(7, trials) for trials in (0, 5)] == [7, 12]
    seeds = {worker_seed(7, 0, worker) for worker in range(50)}
    assert len(seeds) == 50 and all(0 <= seed < 2**32 for seed in seeds)
