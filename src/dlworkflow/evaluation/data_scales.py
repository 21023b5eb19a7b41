"""How far a run's inputs and target are from unit scale (:class:`DataScales`), for the diagnosis.

A network trains best on features and a target of spread near 1. :func:`~dlworkflow.evaluation.diagnosis.diagnose`
names unscaled inputs, or an unscaled regression target, as the likely cause of a model that
does not beat its baselines; these are the facts it reads: the spreads of the raw training
features and target, and how each is scaled. Computed once from the prepared dataset
(:meth:`DataScales.from_dataset`), or given directly in a test.

Example:
    >>> scales = DataScales(feature_spreads=(0.5, 800.0), feature_scaling="none")
    >>> scales.inputs_far_from_unit, scales.target_far_from_unit
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dlworkflow.data.target_scaling import FAR_FROM_UNIT, far_from_unit

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset


@dataclass(frozen=True)
class DataScales:
    """The spreads of a run's training features and regression target, and how each is scaled.

    Every field may stay unknown (None): the diagnosis then names no scale as a cause.

    Attributes:
        feature_spreads: The smallest and the largest standard deviation of the raw training
            features, constant ones left out (tables; None for images).
        feature_scaling: ``data.scaling``.
        target_spread: The raw training target's standard deviation (regression only).
        target_mean: Its mean.
        target_scaling: ``data.target_scaling`` (``none`` or ``standardize``).

    Example:
        >>> DataScales(target_spread=77.0, target_mean=152.0).target_far_from_unit
        True
        >>> DataScales(target_spread=77.0, target_scaling="standardize").target_far_from_unit
        False
    """

    feature_spreads: tuple[float, float] | None = None
    feature_scaling: str | None = None
    target_spread: float | None = None
    target_mean: float | None = None
    target_scaling: str = "none"
    numeric_inputs: bool | None = None

    @property
    def inputs_far_from_unit(self) -> bool:
        """Whether the features are unscaled and some spread is far from 1, or the spreads differ widely.

        Example:
            >>> DataScales(feature_spreads=(0.5, 3.0), feature_scaling="none").inputs_far_from_unit
            False
        """
        if self.feature_scaling != "none" or self.feature_spreads is None:
            return False
        smallest, largest = self.feature_spreads
        return far_from_unit(largest) or far_from_unit(smallest) or largest > FAR_FROM_UNIT * smallest

    @property
    def target_far_from_unit(self) -> bool:
        """Whether the regression target is unscaled and its spread is far from 1 (:data:`FAR_FROM_UNIT`)."""
        return self.target_scaling == "none" and self.target_spread is not None and far_from_unit(self.target_spread)

    @classmethod
    def from_dataset(cls, dataset: Dataset, *, feature_scaling: str | None = None) -> DataScales:
        """The scales of a prepared dataset's training part.

        Args:
            dataset: The prepared dataset (its training part's raw rows and labels).
            feature_scaling: ``data.scaling`` (default: the saved preprocessing's method).

        Returns:
            The scales; the feature spreads are None for images, the target's for a classification.

        Example:
            >>> DataScales.from_dataset(dataset).target_spread  # doctest: +SKIP
            77.1
        """
        train = dataset.train
        method = feature_scaling if feature_scaling is not None else dataset.preprocessing.scaling.method
        names = [name for name in dataset.feature_names  # numbers only: categories are one-hot (0/1)
                 if name in train.frame.columns and pd.api.types.is_numeric_dtype(train.frame[name])]
        spreads = None
        if dataset.image is None and names and len(train.frame):
            deviations = np.nanstd(train.frame[names].to_numpy(dtype=np.float64, na_value=np.nan), axis=0)
            deviations = deviations[deviations > 0]
            spreads = (float(deviations.min()), float(deviations.max())) if deviations.size else None
        target_spread = target_mean = None
        if dataset.task == "regression" and train.size:
            labels = np.asarray(train.labels, dtype=np.float64)
            target_spread, target_mean = float(labels.std()), float(labels.mean())
        numeric = None if dataset.image is not None else bool(names)  # False: text and categories only
        return cls(spreads, method, target_spread, target_mean, dataset.preprocessing.target_scaling.method, numeric)
