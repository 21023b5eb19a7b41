"""Which way each metric improves: the one table that ranking, skill scores and the results table share.

Kept free of numpy and scikit-learn so that ``dlw runs`` can rank runs without importing them.

Example:
    >>> METRIC_DIRECTIONS["rmse"], METRIC_DIRECTIONS["accuracy"]
    ('min', 'max')
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["min", "max"]

METRIC_DIRECTIONS: dict[str, Direction] = {
    "rmse": "min",
    "mae": "min",
    "r2": "max",
    "accuracy": "max",
    "balanced_accuracy": "max",
    "f1_macro": "max",
    "log_loss": "min",
}
"""Whether a lower (``min``) or higher (``max``) value of each metric is better."""
