"""Shared fixtures: a temporary registry (SQLite, or PostgreSQL on a server the tests start), tiny
synthetic datasets, the lesson's data files.

The whole test process uses one Keras backend (JAX, the fast one for small dense models),
set here before anything imports Keras.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Fix the backend for the whole process now: a spec whose automatic choice is TensorFlow
# (penguins' softmax, a builder) then trains on JAX with a BackendWarning, whichever test
# happens to run first.
import keras  # noqa: E402,F401

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.dataset import Dataset, Part

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The lesson's data mirror (../shared/data); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the lesson's data mirror at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def registry_url(tmp_path: Path) -> str:
    """A SQLite registry URL in a fresh temporary directory."""
    return f"sqlite:///{tmp_path / 'dlw' / 'registry.db'}"


def build_synthetic_dataset(
    task: str = "regression",
    rows: int = 60,
    features: int = 4,
    classes: int = 3,
    validation: bool = True,
    encoding: str = "onehot",
    seed: int = 0,
) -> Dataset:
    """Build a small, learnable Dataset directly (no spec, no files).

    Regression: y = x·w + noise. Classification: the class is the argmax of x·W.
    Rows are split 60/20/20 (or 80/20 without validation) in order.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    names = tuple(f"f{i}" for i in range(features))
    if task == "regression":
        labels = x @ rng.normal(size=features) + 0.1 * rng.normal(size=rows)
        y_all = labels.astype(np.float32)
        class_names = None
        encoding_used = None
    else:
        labels = np.argmax(x @ rng.normal(size=(features, classes)), axis=1)
        class_names = tuple(f"class_{i}" for i in range(classes))
        encoding_used = encoding
        y_all = np.eye(classes, dtype=np.float32)[labels] if encoding == "onehot" else labels.astype(np.int32)
    frame = pd.DataFrame(x, columns=list(names))
    cut_train = int(rows * (0.6 if validation else 0.8))
    cut_validation = int(rows * 0.8)
    bounds = {"train": (0, cut_train), "test": (cut_validation, rows)}
    if validation:
        bounds["validation"] = (cut_train, cut_validation)
    parts = {
        name: Part(
            name=name,
            x=np.ascontiguousarray(x[a:b]),
            y=y_all[a:b],
            labels=labels[a:b],
            frame=frame.iloc[a:b],
        )
        for name, (a, b) in bounds.items()
    }
    return Dataset(
        name="synthetic",
        task=task,  # type: ignore[arg-type]
        target="y",
        feature_names=names,
        class_names=class_names,
        target_encoding=encoding_used,  # type: ignore[arg-type]
        parts=parts,
        preprocessing={"feature_names": list(names), "scaling": {"method": "none"}},
        fingerprint="0" * 64,
        test_fingerprint="1" * 64,
    )


@pytest.fixture
def make_dataset():
    """Factory fixture: ``make_dataset(task="classification", rows=90)`` → a tiny Dataset."""
    return build_synthetic_dataset


# --------------------------------------------------------------------------- PostgreSQL
#
# The registry and the tuner's storage can live on PostgreSQL. One real server (Debian's
# package postgresql, see tests/postgres_server.py) is started for the whole session on
# 127.0.0.1; each test that asks gets a fresh database on it. Without the server programs
# the PostgreSQL variants skip, saying what to install.

if TYPE_CHECKING:
    from postgres_server import PostgresServer


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the PostgreSQL server ``postgresql`` (before ``-m`` selects)."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end); skips without one."""
    from postgres_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer.start()
    except PostgresUnavailable as err:
        pytest.skip(f"PostgreSQL: {err}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database: ``postgresql+psycopg://dlw:…@127.0.0.1:…/test_<n>``."""
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def any_registry_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh registry URL, once for SQLite (``registry_url``) and once for PostgreSQL (``postgres_url``).

    The current directory is ``tmp_path`` during the test, so a registry opened without
    ``home`` keeps its run folders in ``tmp_path/.dlw`` (a SQLite file URL keeps them beside
    its file, ``tmp_path/dlw``). Pass ``home=tmp_path / "dlw"`` to ``Registry.open`` to have
    the same artifacts root on both databases. Select one database with ``-k sqlite`` or
    ``-k postgresql``, or ``-m "not postgresql"``.
    """
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        return request.getfixturevalue("registry_url")
    return request.getfixturevalue("postgres_url")
