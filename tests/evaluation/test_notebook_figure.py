"""Figures show as images in a notebook without ``%matplotlib inline`` (IPython's own formatter decides)."""

from __future__ import annotations

import pandas as pd
import pytest

from dlworkflow.evaluation.notebook_figure import NotebookFigure
from dlworkflow.evaluation.training_plots import history_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def display_formatter():
    """The formatter a fresh IPython shell uses for a cell's value (no pyplot, no inline backend)."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    return interactiveshell.InteractiveShell.instance().display_formatter


def test_the_history_figure_is_formatted_as_png(display_formatter):
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.4, 2.2]})
    figure = history_figure(history, best_epoch=3)
    data, _ = display_formatter.format(figure)
    assert isinstance(figure, NotebookFigure)
    assert data["image/png"][:8] == PNG_SIGNATURE


def test_a_plain_matplotlib_figure_is_not_so_the_subclass_is_what_shows_it(display_formatter):
    from matplotlib.figure import Figure

    data, _ = display_formatter.format(Figure())
    assert "image/png" not in data and data["text/plain"].startswith("<Figure size")
