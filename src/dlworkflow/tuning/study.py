"""The Optuna study of a spec: where it is stored, its sampler and pruner, and no silent reuse.

A study lives in an Optuna RDB storage so that worker processes, on one machine or on
several, share it: by default ``studies.db`` beside a SQLite registry, else the registry's
own database (a PostgreSQL registry then holds the group's studies too); ``--storage``
names another, or ``journal:///shared/path/study.log`` for Optuna's journal file where no
database server exists (:mod:`dlworkflow.tuning.journal_storage`). A study is tied to the spec it was created from: its hash (the resolved
spec without ``tune.n_trials``, so a study may be given more trials) is stored with it,
and opening the study with another spec is refused instead of mixing two experiments.

Example:
    >>> study = open_study(spec, default_storage(None))  # doctest: +SKIP
    >>> study.study_name, study.direction.name  # doctest: +SKIP
    ('weather_tune', 'MINIMIZE')
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.registry.location import registry_url, sqlite_file
from dlworkflow.registry.network_filesystem import warn_if_on_network_filesystem
from dlworkflow.spec.schema import Spec, TuneSpec
from dlworkflow.tuning.search_space import grid

if TYPE_CHECKING:
    import optuna

JOURNAL_SCHEME = "journal://"
"""The prefix of ``--storage`` for an Optuna journal file (:mod:`dlworkflow.tuning.journal_storage`)."""

STUDIES_FILE = "studies.db"
"""The SQLite file of the studies, beside a SQLite registry."""

SPEC_HASH_ATTRIBUTE = "dlw_spec_hash"
"""The study's user attribute that ties it to its spec."""

SPEC_FILE_ATTRIBUTE = "dlw_spec_file"
"""The study's user attribute naming the spec file it was created from."""

HEARTBEAT_SECONDS = 10
"""How often a running trial tells the storage it is alive."""

GRACE_SECONDS = 30
"""After this long without a heartbeat a running trial counts as dead (its worker was killed)."""

PRUNER_STARTUP_TRIALS = 3
"""Trials that always run to the end before pruning compares with them."""

PRUNER_WARMUP_EPOCHS = 2
"""Epochs of a trial that are never pruned (the first epochs say little)."""


def default_storage(registry: str | None) -> str:
    """The storage URL of the studies for a registry.

    Args:
        registry: The registry URL (None: ``$DLW_REGISTRY``, else ``./.dlw/registry.db``).

    Returns:
        ``sqlite:///<registry folder>/studies.db`` for a SQLite file registry, else the
        registry's own URL.

    Example:
        >>> default_storage("sqlite:////tmp/dlw/registry.db")
        'sqlite:////tmp/dlw/studies.db'
    """
    url, _ = registry_url(registry)
    path = sqlite_file(url)
    if path is None:
        return url
    return f"sqlite:///{path.parent / STUDIES_FILE}"


def study_name(spec: Spec) -> str:
    """The study's name: ``tune.study``, else the spec's name.

    Example:
        >>> study_name(spec)  # doctest: +SKIP
        'weather_tune'
    """
    tune = spec.tune
    return (tune.study if tune is not None and tune.study else None) or spec.name


def study_spec_hash(spec: Spec) -> str:
    """The hash that ties a study to its spec: the resolved spec without ``tune.n_trials``.

    Example:
        >>> len(study_spec_hash(spec))  # doctest: +SKIP
        64
    """
    document = spec.resolved()
    document.get("tune", {}).pop("n_trials", None)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def direction(tune: TuneSpec) -> str:
    """``minimize`` or ``maximize``: ``tune.direction``, or for ``auto`` the objective's nature.

    Accuracy-like metrics (``accuracy``, ``r2``, ``val_accuracy``, ...) are maximized; losses
    and errors minimized.

    Example:
        >>> direction(TuneSpec(parameters={"a": [1]}, objective="val_accuracy"))
        'maximize'
    """
    if tune.direction != "auto":
        return tune.direction
    name = tune.objective.removeprefix("val_")
    if METRIC_DIRECTIONS.get(name) == "max" or name in ("accuracy", "categorical_accuracy", "auc", "precision", "recall"):
        return "maximize"
    return "minimize"


def make_storage(url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage with heartbeats, so a killed worker's trial is recognised and retried.

    An SQLAlchemy URL gives an RDB storage; ``journal:///shared/path/study.log`` a journal file
    (:mod:`dlworkflow.tuning.journal_storage`), for clusters without a database server.

    Args:
        url: An SQLAlchemy URL or a ``journal://`` URL.

    Returns:
        The storage.

    Example:
        >>> storage = make_storage("sqlite:////tmp/dlw/studies.db")  # doctest: +SKIP
    """
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    if url.startswith(JOURNAL_SCHEME):  # a log file on a shared filesystem, where no database server exists
        from dlworkflow.tuning.journal_storage import make_journal_storage

        return make_journal_storage(url, HEARTBEAT_SECONDS, GRACE_SECONDS)
    if url.startswith("sqlite:///"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            warn_if_on_network_filesystem(path, "studies database")
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
    with quiet_optuna():
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Hide Optuna's notes that a feature dlworkflow relies on is "experimental" (heartbeats, plots).

    Example:
        >>> with quiet_optuna():
        ...     pass
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"optuna\b.*")
        warnings.filterwarnings("ignore", message=r".*experimental.*")
        yield


def worker_seed(seed: int, trials_so_far: int = 0, worker: int = 0) -> int:
    """The sampler seed of one worker of a study: distinct per worker, the same on every rerun.

    Worker 0 (the only one of a single-worker study) keeps ``seed + trials so far``, as a
    study always had. Another worker gets a seed derived from the seed, the trials so far and
    its index (numpy's ``SeedSequence``, made for independent streams): workers started together
    would otherwise draw the same values, so their first trials would repeat each other. Two
    workers may still draw the same values by chance, as one worker may twice, where the
    search space has few combinations (``sampler = "grid"`` tries each once).

    Args:
        seed: ``tune.seed``.
        trials_so_far: Trials the study held when the worker opened it.
        worker: The worker's index (0, 1, ... for ``--workers N``; a SLURM array's task index).

    Returns:
        A seed in ``[0, 2**32)`` for Optuna's samplers.

    Example:
        >>> worker_seed(0), worker_seed(0, trials_so_far=3)
        (0, 3)
        >>> worker_seed(0, worker=1) == worker_seed(0, worker=1) != worker_seed(0, worker=2)
        True
    """
    if worker == 0:
        return seed + trials_so_far
    import numpy as np

    return int(np.random.SeedSequence([seed, trials_so_far, worker]).generate_state(1)[0])


def make_sampler(tune: TuneSpec, *, trials_so_far: int = 0, worker: int = 0) -> optuna.samplers.BaseSampler:
    """The sampler of ``tune.sampler``, seeded with ``tune.seed`` (plus the trials already run, and the worker).

    A continued study's sampler is seeded with ``seed + trials so far``: seeded with the
    seed alone it would draw its first random values again and repeat earlier trials. An
    uninterrupted study with one worker therefore gives the same trials in the same order.
    Each further worker of a study gets its own seed (:func:`worker_seed`).

    Example:
        >>> type(make_sampler(TuneSpec(parameters={"a": [1, 2]}, sampler="grid"))).__name__
        'GridSampler'
    """
    import optuna

    seed = worker_seed(tune.seed, trials_so_far, worker)
    if tune.sampler == "grid":
        return optuna.samplers.GridSampler(grid(tune.parameters), seed=seed)
    if tune.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(tune: TuneSpec) -> optuna.pruners.BasePruner:
    """A median pruner when ``tune.pruning``, else none.

    Example:
        >>> type(make_pruner(TuneSpec(parameters={"a": [1]}, pruning=False))).__name__
        'NopPruner'
    """
    import optuna

    if not tune.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS)


def open_study(spec: Spec, storage: str | optuna.storages.BaseStorage, *, worker: int = 0) -> optuna.Study:
    """Create the spec's study, or continue it when it exists and was made from the same spec.

    Args:
        spec: The validated spec with ``[tune]``.
        storage: An SQLAlchemy URL or an Optuna storage.
        worker: The index of the worker that opens it (its sampler's seed, :func:`worker_seed`).

    Returns:
        The study (its sampler and pruner from ``[tune]``).

    Raises:
        SpecError: at ``tune.study`` when a study of that name exists but was created from a
            different spec (hash shown) — it is never silently reused.

    Example:
        >>> open_study(spec, "sqlite:////tmp/dlw/studies.db").study_name  # doctest: +SKIP
        'weather_tune'
    """
    import optuna

    tune = spec.tune
    assert tune is not None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if isinstance(storage, str):
        storage = make_storage(storage)
    name = study_name(spec)
    wanted = study_spec_hash(spec)
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=make_sampler(tune, worker=worker), pruner=make_pruner(tune),
        direction=direction(tune), load_if_exists=True,
    )
    trials_so_far = len(study.get_trials(deepcopy=False))
    if trials_so_far:
        study.sampler = make_sampler(tune, trials_so_far=trials_so_far, worker=worker)
    existing = study.user_attrs.get(SPEC_HASH_ATTRIBUTE)
    if existing is None:
        study.set_user_attr(SPEC_HASH_ATTRIBUTE, wanted)
        study.set_user_attr(SPEC_FILE_ATTRIBUTE, spec.source)
    elif existing != wanted:
        raise SpecError.single(
            spec.source, "tune.study",
            f"a study named {name!r} already exists, made from a different spec "
            f"({study.user_attrs.get(SPEC_FILE_ATTRIBUTE)}, spec hash {existing[:12]}; this one is {wanted[:12]})",
            got=name,
            hint="Give this search its own name (tune.study = 'new name', or --set tune.study=NAME); "
            "to continue the old study, run it with the spec it was made from.",
        )
    return study
