"""Shared fixtures: a temporary registry (SQLite, or PostgreSQL on a server the tests start), tiny
synthetic datasets, the lesson's data files.

The whole test process uses one Keras backend (JAX, the fast one for small dense models),
set here before anything imports Keras, and one JAX compilation cache for the session. The
session fails when a process a test started is still alive at its end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Every process the suite starts inherits this mark, also one its parent left behind (an
# orphan is adopted by init but keeps its environment): see no_process_outlives_the_suite.
SESSION_MARK = f"DLW_TEST_SESSION={os.getpid()}-{time.time_ns()}"
os.environ["DLW_TEST_SESSION"] = SESSION_MARK.split("=", 1)[1]
# A warm worker the developer started (`dlw worker start`) must not run the tests' commands;
# tests/warm starts its own.
os.environ["DLW_WORKER"] = "off"

# Fix the backend for the whole process now: a spec whose automatic choice is TensorFlow
# (penguins' softmax, a builder) then trains on JAX with a BackendWarning, whichever test
# happens to run first.
import keras  # noqa: E402,F401
import jax  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from dlworkflow.data.dataset import Dataset, Part  # noqa: E402
from dlworkflow.training.backend import enable_compilation_cache  # noqa: E402

# JAX's persistent compilation cache, as `dlw run` uses it, in a folder of this session's own
# (the processes the tests start inherit it): the many runs of the same example model
# compile their steps once. Fresh per session, so no test depends on an earlier session.
# Here it keeps every compiled function, also the quick ones (`dlw run` keeps those over
# 0.1 s): the tests train many small models, and their weight initialisers recur.
_COMPILATION_CACHE = tempfile.mkdtemp(prefix="dlw-test-xla-")
atexit.register(shutil.rmtree, _COMPILATION_CACHE, ignore_errors=True)
os.environ["DLW_COMPILATION_CACHE"] = _COMPILATION_CACHE
enable_compilation_cache()
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data"


# multiprocessing's helpers (the tuner's workers start them) that this process started read a
# pipe from it and exit when it exits: they end with the suite, not before.
_ENDS_WITH_THE_SUITE = ("from multiprocessing.resource_tracker import main", "from multiprocessing.forkserver import main")


def processes_started_by_the_suite() -> dict[int, str]:
    """The live processes (zombies aside) that carry this session's mark → their command lines.

    Empty where there is no ``/proc`` (the check is Linux-only).
    """
    mark = SESSION_MARK.encode()
    found = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
        if state in ("Z", "X"):
            continue
        if int(parent) == os.getpid() and any(helper in command for helper in _ENDS_WITH_THE_SUITE):
            continue
        found[int(entry.name)] = command
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_suite() -> Iterator[None]:
    """Fail the session when a process started by a test is still alive once every other fixture is done.

    Set up before any other fixture, so torn down after all of them (the PostgreSQL server
    included). A process gets 10 s to finish exiting; those still alive then are killed (by
    their id) and named in the error.
    """
    yield
    deadline = time.monotonic() + 10
    while (left := processes_started_by_the_suite()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if left:
        listing = "\n".join(f"  {pid}: {command[:200]}" for pid, command in sorted(left.items()))
        pytest.fail(f"{len(left)} process(es) started by the tests outlived them (now killed):\n{listing}", pytrace=False)


@pytest.fixture
def shared_data() -> Path:
    """The lesson's data mirror (../shared/data); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the lesson's data mirror at {SHARED_DATA}")
    return SHARED_DATA


def tiny_weather_spec(name: str) -> str:
    """A spec that trains one Dense unit for one epoch on 60 weather rows: a real run in about a second."""
    return f"""
name = "{name}"

[data]
dataset = "weather"
target = "BASEL_sunshine"
rows = 60
drop = ["DATE", "MONTH"]

[[model.layers]]
type = "Dense"
units = 1

[train]
epochs = 1
"""


def wordnet_glosses_sample(per_category: int, random_state: int) -> pd.DataFrame:
    """``per_category`` definitions of each of the six WordNet categories; skips the test without the data mirror."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the lesson's data mirror at {SHARED_DATA}")
    table = pd.read_csv(SHARED_DATA / "wordnet_glosses" / "noun_glosses.csv", dtype={"synset_offset": str})
    return table.groupby("category", group_keys=False).sample(per_category, random_state=random_state)


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


# Variants made by a shared fixture's parameters (no decorator of their own to carry the
# mark), in the slow set: node id → why, and which default test covers the same ground.
SLOW_VARIANTS = {
    "tests/tuning/test_tune.py::test_two_workers_record_every_trial_exactly_once[postgresql]":
        "two worker processes, each starting Keras; the [sqlite] variant runs the same workers by default",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the PostgreSQL server ``postgresql``, and the slow variants ``slow`` (before ``-m`` selects)."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)
        if "slurm_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slurm)
        if item.nodeid in SLOW_VARIANTS:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """A single-node SLURM cluster for the session (tests/slurm_cluster.py): yields ``SLURM_CONF``, set for jobs; skips without one."""
    from slurm_cluster import SlurmCluster, SlurmUnavailable

    try:
        cluster = SlurmCluster.start()
    except SlurmUnavailable as err:
        pytest.skip(f"SLURM: {err}")
    previous = os.environ.get("SLURM_CONF")
    os.environ.update(cluster.environment)
    try:
        yield cluster.conf
    finally:
        cluster.stop()
        os.environ.pop("SLURM_CONF") if previous is None else os.environ.update(SLURM_CONF=previous)


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
