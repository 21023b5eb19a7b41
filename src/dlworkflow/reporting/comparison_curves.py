"""The overlaid loss curves of ``dlw compare``: one figure, every compared run's history.

Example:
    >>> draw_comparison_curves([weather, weather_batchnorm], home / COMPARISONS_DIR)  # doctest: +SKIP
    PosixPath('.dlw/comparisons/20261123-215917-474e44_vs_20261123-220104-9c1e27.png')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlworkflow.registry import artifacts

if TYPE_CHECKING:
    from dlworkflow.registry.record import RunRecord

COMPARISONS_DIR = "comparisons"
"""The folder under the registry home with the overlaid curves of ``dlw compare``."""


def draw_comparison_curves(records: Sequence[RunRecord], folder: Path) -> Path | None:
    """Draw the compared runs' curves overlaid, named by their ids, into ``folder``.

    Args:
        records: The compared runs' records.
        folder: Where the PNG goes (created when needed).

    Returns:
        The PNG, or None when fewer than two runs still have their history.
    """
    import pandas as pd

    from dlworkflow.evaluation.training_plots import overlaid_histories_plot

    histories = {}
    for record in records:
        history_file = Path(record.artifacts.dir or "") / artifacts.HISTORY
        if history_file.is_file():
            histories[f"{record.name} ({record.id})"] = pd.read_csv(history_file)
    if len(histories) < 2:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return overlaid_histories_plot(histories, folder / f"{'_vs_'.join(record.id for record in records)[:200]}.png")
