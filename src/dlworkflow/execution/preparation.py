"""The prepare stage: the spec's data prepared and split, then the Keras backend chosen.

Data errors come before Keras is imported, except for Keras' own image sets, which Keras
loads (so for them the backend comes first).

Example:
    >>> prepared = prepare(spec)  # doctest: +SKIP
    >>> prepared.dataset.sizes(), prepared.backend  # doctest: +SKIP
    ({'train': 767, 'validation': 164, 'test': 165}, 'jax')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dlworkflow.stage_clock import StageClock

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec import Spec


@dataclass(frozen=True)
class PreparedData:
    """The outcome of the prepare stage.

    Attributes:
        dataset: The prepared, split dataset.
        backend: The active Keras backend.
        seconds: Wall-clock time it took.
        timings: The same time per stage (a run record's ``timings``): ``imports`` (Keras and its
            backend), ``read``, ``split``, ``encode``, ``fingerprint`` (the data's steps that took
            place) and ``prepare`` (the rest of the data's preparation).
    """

    dataset: Dataset
    backend: str
    seconds: float
    timings: Mapping[str, float] = field(default_factory=dict)


def prepare(spec: Spec, frame: pd.DataFrame | None = None) -> PreparedData:
    """Prepare and split a spec's data, then activate the Keras backend.

    Args:
        spec: The validated spec.
        frame: A DataFrame to use instead of the spec's data source (from a notebook).

    Returns:
        The dataset, the backend and the time taken, per stage.

    Raises:
        DataError: when the data cannot be prepared as asked.
        SpecError: for a backend that cannot be used.

    Example:
        >>> prepare(spec).backend  # doctest: +SKIP
        'jax'
    """
    clock = StageClock()
    with clock.active(), clock.measure("prepare"):
        with clock.measure("imports"):  # the data layer's libraries (pandas, numpy), then Keras below
            from dlworkflow.data import build_dataset
            from dlworkflow.data.keras_datasets import KERAS_IMAGE_DATASETS
            from dlworkflow.training.backend import activate_backend, choose_backend
        if spec.data.dataset in KERAS_IMAGE_DATASETS and frame is None:
            with clock.measure("imports"):
                backend = activate_backend(choose_backend(spec), source=spec.source)
            dataset = build_dataset(spec, frame=frame)
        else:
            dataset = build_dataset(spec, frame=frame)
            with clock.measure("imports"):
                backend = activate_backend(choose_backend(spec), source=spec.source)
    return PreparedData(dataset, backend, clock.covered, dict(clock.seconds))
