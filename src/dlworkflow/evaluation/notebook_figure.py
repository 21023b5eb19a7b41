"""A matplotlib figure that a notebook shows as an image, with no ``%matplotlib inline`` first.

dlworkflow draws every plot on its own Agg canvas and never imports pyplot (no global figure
state, no display needed). IPython only registers its PNG formatter for matplotlib figures
once pyplot's inline backend is set up, so a plain :class:`~matplotlib.figure.Figure` returned
by ``Run.plot()`` showed in a fresh kernel as the text ``<Figure size 960x340 with 2 Axes>``.
:class:`NotebookFigure` is that figure with a ``_repr_png_``: IPython (Jupyter, VS Code,
nbclient) asks any object for it, so the figure shows as a PNG whichever backend is active.
Where the inline backend is active its own formatter draws the figure: still one image.

Importing this module imports matplotlib; :mod:`dlworkflow.evaluation.plots` imports it
inside the function that makes a figure.

Example:
    >>> figure = NotebookFigure(figsize=(2, 1), dpi=50)
    >>> figure._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` on its own Agg canvas that renders itself as PNG in a notebook.

    Everything else is matplotlib's: ``savefig``, ``axes``, ``add_subplot``.

    Args:
        *args: As for :class:`~matplotlib.figure.Figure` (``figsize``, ``dpi``, ...).
        **kwargs: As for :class:`~matplotlib.figure.Figure`.

    Example:
        >>> figure = NotebookFigure(figsize=(4, 3), dpi=100)
        >>> type(figure.canvas).__name__
        'FigureCanvasAgg'
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes at its own size and resolution (what IPython displays).

        Example:
            >>> len(NotebookFigure(figsize=(1, 1), dpi=20)._repr_png_()) > 0
            True
        """
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()
