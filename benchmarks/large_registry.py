"""A registry holding many runs, written straight through dlworkflow's schema, for timing ``dlw runs``.

The rows look like a busy workshop's: runs about ten minutes apart with ids as dlworkflow
makes them, six models on five test sets (three ranked by rmse, two by accuracy), values
scattered around plausible scores, the best baseline beside each, about 3% failed runs
(no value, no look at the test set), a few hundred commits of which some dirty, and a
comment on about one run in a hundred. Looks at each test set count up as the registry
does. The stored records (``run_records``) are left empty: ``dlw runs`` never reads that
table, and 100,000 real records would take about a gigabyte.

Example:
    >>> write_large_registry("sqlite:////tmp/dlw-bench/r.db", 100_000)  # doctest: +SKIP
    100000
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FAILED_SHARE = 0.03
"""Share of runs recorded as failed."""

COMMENTED_SHARE = 0.01
"""Share of runs with a comment."""

DIRTY_SHARE = 0.2
"""Share of runs made from a working tree with uncommitted changes."""

NUM_COMMITS = 300
"""Distinct commits the runs were made from."""

FIRST_RUN = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
"""When the first run started."""

INSERT_CHUNK = 10_000
"""Rows per INSERT batch."""


@dataclass(frozen=True)
class TestSetProfile:
    """A test set of the generated registry and the runs made on it.

    Attributes:
        name: The registered test-set name.
        metric: The headline metric.
        typical_value: Around which the models' values scatter.
        spread: Their standard deviation.
        baseline: The best baseline's name.
        baseline_value: Its value.
        models: ``(name, description)`` of the specs run on it.
    """

    name: str
    metric: str
    typical_value: float
    spread: float
    baseline: str
    baseline_value: float
    models: tuple[tuple[str, str], ...]


PROFILES = (
    TestSetProfile("weather_3_years_v1", "rmse", 3.4, 0.25, "linear_regression", 3.317,
                   (("weather", "All 89 features, 3 years. nn: 100-50"),
                    ("weather_small", "All 89 features, 3 years. nn: 10"),
                    ("weather_batchnorm", "All 89 features, 3 years. nn: 100-50 with batch normalization"))),
    TestSetProfile("weather_basel_10_years_v1", "rmse", 3.3, 0.2, "persistence", 4.249,
                   (("weather_basel", "Basel features only, 10 years. nn: 100-50"),)),
    TestSetProfile("penguins_v1", "accuracy", 0.85, 0.1, "logistic_regression", 0.971,
                   (("penguins", "Penguin species from 4 measurements. nn: 10"),)),
    TestSetProfile("cifar10_subset_test_1000", "accuracy", 0.45, 0.05, "logistic_regression", 0.369,
                   (("cifar10", "CIFAR-10 subset, 5000 images. cnn: conv50-pool-conv50-pool-dense50"),
                    ("cifar10_extra_layer", "CIFAR-10 subset. cnn: conv-pool-conv-pool-conv-dense50"),
                    ("cifar10_dropout", "CIFAR-10 subset. cnn with dropout 0.5"))),
    TestSetProfile("dollar_street_test_v1", "accuracy", 0.3, 0.05, "majority_class", 0.21,
                   (("dollar_street", "Dollar Street 64x64. cnn: conv-pool x3-dense"),
                    ("dollar_street_dense", "Dollar Street 64x64. dense only"))),
)
"""The generated registry's test sets, in the order of their shares of the runs."""

PROFILE_WEIGHTS = (0.4, 0.15, 0.1, 0.25, 0.1)
"""How the runs are shared among :data:`PROFILES`."""


def _hex_digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def plausible_value(generator: random.Random, profile: TestSetProfile) -> float:
    """A model's score on a test set: scattered around the typical value, within the metric's range.

    Example:
        >>> profile = PROFILES[2]  # penguins, accuracy
        >>> all(0 <= plausible_value(random.Random(n), profile) <= 1 for n in range(1000))
        True
    """
    value = max(0.0, generator.gauss(profile.typical_value, profile.spread))
    return min(value, 1.0) if profile.metric == "accuracy" else value


Rows = list[dict[str, Any]]
"""Rows of one table, as dictionaries keyed by column name."""


def generate_rows(num_runs: int, seed: int = 0) -> tuple[Rows, Rows, Rows]:
    """Generate the rows of ``runs``, ``test_sets`` and ``comments``.

    Args:
        num_runs: Runs to generate.
        seed: Seed of the generator, so that every benchmark run lists the same table.

    Returns:
        ``(runs rows, test_sets rows, comments rows)`` as dictionaries keyed by column.

    Example:
        >>> runs, sets, notes = generate_rows(1000)
        >>> len(runs), len(sets), sum(s["looks"] for s in sets) == sum(r["status"] == "finished" for r in runs)
        (1000, 5, True)
    """
    generator = random.Random(seed)
    commits = [_hex_digest("commit", index)[:40] for index in range(NUM_COMMITS)]
    fingerprints = {profile.name: _hex_digest("test set", profile.name) for profile in PROFILES}
    looks = {profile.name: 0 for profile in PROFILES}
    run_rows, comment_rows = [], []
    started = FIRST_RUN
    for index in range(num_runs):
        started += timedelta(seconds=generator.randint(60, 1200))
        profile = generator.choices(PROFILES, PROFILE_WEIGHTS)[0]
        name, description = generator.choice(profile.models)
        failed = generator.random() < FAILED_SHARE
        look = None
        if not failed:
            looks[profile.name] += 1
            look = looks[profile.name]
        run_id = f"{started:%Y%m%d-%H%M%S}-{generator.getrandbits(24):06x}"
        value = None if failed else plausible_value(generator, profile)
        run_rows.append({
            "id": run_id,
            "name": name,
            "description": description,
            "status": "failed" if failed else "finished",
            "created_at": _iso(started),
            "finished_at": _iso(started + timedelta(seconds=generator.randint(5, 600))),
            "spec_hash": _hex_digest("spec", name, generator.randint(0, 50)),
            "data_fingerprint": _hex_digest("data", profile.name),
            "test_set_fingerprint": fingerprints[profile.name],
            "test_set_look": look,
            "primary_metric": None if failed else profile.metric,
            "primary_value": value,
            "baseline_name": None if failed else profile.baseline,
            "baseline_value": None if failed else profile.baseline_value,
            "git_commit": commits[min(NUM_COMMITS - 1, index * NUM_COMMITS // num_runs)],
            "git_dirty": generator.random() < DIRTY_SHARE,
            "backend": "tensorflow" if profile.metric == "accuracy" else "jax",
        })
        if generator.random() < COMMENTED_SHARE:
            comment_rows.append({"run_id": run_id, "text": f"tried seed {generator.randint(0, 9)}; see notes",
                                 "created_at": _iso(started + timedelta(hours=1))})
    test_set_rows = [
        {"fingerprint": fingerprints[profile.name], "name": profile.name, "looks": looks[profile.name],
         "created_at": _iso(FIRST_RUN)}
        for profile in PROFILES
    ]
    return run_rows, test_set_rows, comment_rows


def write_large_registry(url: str, num_runs: int, seed: int = 0) -> int:
    """Create a registry at ``url`` and fill it with ``num_runs`` generated runs.

    Args:
        url: An SQLAlchemy URL of a new, empty registry (e.g. ``sqlite:////tmp/x/r.db``).
        num_runs: Runs to write.
        seed: Seed of :func:`generate_rows`.

    Returns:
        The number of runs in the registry afterwards.

    Example:
        >>> write_large_registry("sqlite:////tmp/dlw-bench/r.db", 1000)  # doctest: +SKIP
        1000
    """
    from sqlalchemy import func, insert, select

    from dlworkflow.registry.database import (
        WRITE,
        comments,
        open_database,
        runs,
        test_sets,
    )

    run_rows, test_set_rows, comment_rows = generate_rows(num_runs, seed)
    engine, _, _ = open_database(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                connection.execute(insert(test_sets), test_set_rows)
                for start in range(0, len(run_rows), INSERT_CHUNK):
                    connection.execute(insert(runs), run_rows[start : start + INSERT_CHUNK])
                if comment_rows:
                    connection.execute(insert(comments), comment_rows)
            return int(connection.execute(select(func.count()).select_from(runs)).scalar_one())
    finally:
        engine.dispose()
