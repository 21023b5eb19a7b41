"""A run's training curves as data for the browser's chart: epochs and one series per logged value.

A finished run's curves are its ``history.csv`` (what ``history.png`` is drawn from); a running
run's are the history its last epoch checkpoint holds (:mod:`dlworkflow.ui.live`). The page
draws them with uPlot; nothing is computed here, values are passed on as logged.

Example:
    >>> curves = Curves.from_rows([{"loss": 2.0, "val_loss": 2.5}, {"loss": 1.5, "val_loss": 2.1}])
    >>> curves.epochs, curves.series["val_loss"]
    ([1, 2], [2.5, 2.1])
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlworkflow.registry import artifacts


@dataclass(frozen=True)
class Curves:
    """Training curves: the epochs (from 1) and each logged value per epoch (None where missing).

    Attributes:
        epochs: The epoch numbers, from 1.
        series: Name (``loss``, ``val_loss``, ``root_mean_squared_error``, ...) → one value per epoch.

    Example:
        >>> Curves.from_rows([]).to_dict()
        {'epochs': [], 'series': {}}
    """

    epochs: list[int] = field(default_factory=list)
    series: dict[str, list[float | None]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Curves:
        """Curves from one mapping per epoch (``{"loss": 1.2, "val_loss": 1.4}``); an ``epoch`` key is left out.

        Example:
            >>> Curves.from_rows([{"epoch": 0, "loss": "nan"}]).series
            {'loss': [None]}
        """
        rows = list(rows)
        names: list[str] = []
        for row in rows:
            names += [name for name in row if name != "epoch" and name not in names]
        return cls(
            epochs=list(range(1, len(rows) + 1)),
            series={name: [_number(row.get(name)) for row in rows] for name in names},
        )

    @classmethod
    def of_run_folder(cls, folder: Path | None) -> Curves:
        """The curves of a finished run: its ``history.csv`` (empty when the folder or file is missing).

        Example:
            >>> Curves.of_run_folder(None).epochs
            []
        """
        path = None if folder is None else Path(folder) / artifacts.HISTORY
        if path is None or not path.is_file():
            return cls()
        with open(path, newline="") as file:
            return cls.from_rows(csv.DictReader(file))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"epochs": [...], "series": {name: [...]}}``."""
        return {"epochs": list(self.epochs), "series": {name: list(values) for name, values in self.series.items()}}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
