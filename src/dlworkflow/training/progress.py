"""A progress bar for training: one step per epoch, the epoch's metrics after it.

Keras' own printing is turned off (``verbose=0``); this callback draws a
:mod:`rich` progress bar instead, on a console the caller passes (standard error by
default, so standard output stays free for results). It only acts at the start and end of
training and at the end of each epoch: no Python work per batch.

In a Jupyter kernel a rich live display needs ``ipywidgets`` (without it rich only warns
``install "ipywidgets" for Jupyter support``); there the bar is one line of text that the cell
redraws in place through an IPython display handle (:class:`NotebookLine`), which every
notebook front end and nbclient show, with nothing more to install.

Importing this module imports Keras; activate the backend first.

Example:
    >>> progress = EpochProgress(Console(stderr=True), label="weather")  # doctest: +SKIP
    >>> model.fit(x, y, epochs=20, verbose=0, callbacks=[progress])  # doctest: +SKIP
    weather ━━━━━━━━━━━━━━━━━━━━━━━━ epoch 20/20 0:00:04 loss 3.21 · val_loss 3.54
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column

from dlworkflow.formatting import format_number
from dlworkflow.plain_text import PlainConsole, printable

SHORT_NAMES = {
    "root_mean_squared_error": "rmse",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
}
"""Long Keras metric names shortened so an epoch's values fit on one terminal line."""


def format_logs(logs: dict[str, Any] | None) -> str:
    """One line with an epoch's logged values, e.g. ``loss 3.214 · val_loss 3.541``.

    Args:
        logs: The logs Keras passes to ``on_epoch_end``.

    Returns:
        The values as every dlworkflow output prints numbers
        (:func:`dlworkflow.formatting.format_number`), separated by ``·``.

    Example:
        >>> format_logs({"loss": 3.21449, "val_root_mean_squared_error": 3.5412})
        'loss 3.214 · val_rmse 3.541'
    """
    parts = []
    for key, value in (logs or {}).items():
        prefix, name = ("val_", key[4:]) if key.startswith("val_") else ("", key)
        try:
            parts.append(f"{prefix}{SHORT_NAMES.get(name, name)} {format_number(float(value))}")
        except (TypeError, ValueError):
            continue
    return " · ".join(parts)


BAR_WIDTH = 20
"""Characters of the bar, in a terminal and in a notebook."""


def _elapsed(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"


class NotebookLine:
    """One line of text that a notebook cell redraws in place: the progress bar in Jupyter.

    The first :meth:`show` displays the line with a display id; later ones update that output
    (``update_display_data``), at most every ``min_interval`` seconds unless forced, so a
    fast epoch loop does not flood the front end.

    Args:
        display: IPython's ``display`` (the default) or a fake with its signature: called as
            ``display(bundle, raw=True, display_id=True)``, it returns a handle with
            ``update(bundle, raw=True)``, or None outside a kernel.
        min_interval: Seconds between two redraws that are not forced.
        clock: Monotonic seconds (tests pass a fake).

    Example:
        >>> line = NotebookLine()  # doctest: +SKIP
        >>> line.show("weather ━━━━━━━━━━ epoch 1/200", force=True)  # doctest: +SKIP
    """

    def __init__(self, display: Callable[..., Any] | None = None, *, min_interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        if display is None:
            from IPython.display import display
        self._display = display
        self._handle: Any = None
        self._shown = False
        self._min_interval = min_interval
        self._clock = clock
        self._last = -float("inf")
        self._pending: str | None = None

    def show(self, text: str, *, force: bool = False) -> None:
        """Display the line, or redraw it in place.

        Args:
            text: The whole line.
            force: Redraw even if the last redraw was less than ``min_interval`` ago.

        Example:
            >>> line.show("weather ━━━━━━━━━━ epoch 200/200", force=True)  # doctest: +SKIP
        """
        now = self._clock()
        if self._shown and not force and now - self._last < self._min_interval:
            self._pending = text
            return
        self._pending = None
        bundle = {"text/plain": text}
        if not self._shown:
            self._handle = self._display(bundle, raw=True, display_id=True)
            self._shown = True
        elif self._handle is not None:
            self._handle.update(bundle, raw=True)
        self._last = now

    def flush(self) -> None:
        """Redraw the latest line if a redraw was skipped (training ends between two redraws).

        Example:
            >>> line.flush()  # doctest: +SKIP
        """
        if self._pending is not None:
            self.show(self._pending, force=True)


class EpochProgress(keras.callbacks.Callback):
    """Show training progress as a rich progress bar advancing once per epoch.

    Args:
        console: Where to draw; a new :class:`~dlworkflow.plain_text.PlainConsole` on stderr when None.
        quiet: Draw nothing.
        label: Text in front of the bar, e.g. the spec name (shown as text, never as markup).
        display: In a Jupyter kernel (``console.is_jupyter``), IPython's ``display`` or a fake
            (see :class:`NotebookLine`); default IPython's.

    Attributes:
        last_description: The text shown after the latest epoch (handy in tests and logs).
        label: Text in front of the bar; may be changed between two ``fit`` calls (the
            fine-tune stage shows ``<name> (fine-tune)``).
        initial_epoch: Epochs done before this ``fit`` (its ``initial_epoch``), so a second
            stage's bar goes on from there: ``epoch 6/7`` after 5 frozen epochs.

    Example:
        >>> model.fit(x, y, epochs=5, verbose=0, callbacks=[EpochProgress(label="penguins")])  # doctest: +SKIP
    """

    def __init__(self, console: Console | None = None, *, quiet: bool = False, label: str = "training",
                 display: Callable[..., Any] | None = None):
        super().__init__()
        self.console = console if console is not None else PlainConsole(stderr=True)
        self.quiet = quiet
        self.label = label
        self.last_description = ""
        self.initial_epoch = 0
        self._display = display
        self._progress: Progress | None = None
        self._line: NotebookLine | None = None
        self._started = 0.0
        self._task: Any = None

    @property
    def label(self) -> str:
        """Text in front of the bar, control characters escaped (see :func:`~dlworkflow.plain_text.printable`)."""
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        self._label = printable(text)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.close()
        total = (self.params or {}).get("epochs")
        self.last_description = f"{self.label}  epoch {self.initial_epoch}/{total}"
        if self.console.is_jupyter:
            if not self.quiet:
                self._started = time.monotonic()
                self._line = NotebookLine(self._display)
                self._line.show(self._notebook_text(self.initial_epoch, total, ""), force=True)
            return
        self._progress = Progress(
            TextColumn("{task.description}", markup=False,
                       table_column=Column(no_wrap=True, min_width=len(self.label))),
            BarColumn(bar_width=BAR_WIDTH),
            TextColumn("epoch {task.completed}/{task.total}", table_column=Column(no_wrap=True, min_width=13)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            # The metrics give way first when the terminal is narrow.
            TextColumn(
                "{task.fields[metrics]}",
                markup=False,
                table_column=Column(no_wrap=True, overflow="ellipsis", max_width=max(20, self.console.width - 60)),
            ),
            console=self.console,
            disable=self.quiet,
            refresh_per_second=4,
        )
        self._task = self._progress.add_task(self.label, total=total, completed=self.initial_epoch, metrics="")
        self._progress.start()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        total = (self.params or {}).get("epochs")
        metrics = format_logs(logs)
        if self._line is not None:
            self.last_description = f"{self.label}  epoch {epoch + 1}/{total}  {metrics}"
            self._line.show(self._notebook_text(epoch + 1, total, metrics))
        if self._progress is None:
            return
        self.last_description = f"{self.label}  epoch {epoch + 1}/{total}  {metrics}"
        self._progress.update(self._task, completed=epoch + 1, metrics=metrics)

    def _notebook_text(self, done: int, total: int | None, metrics: str) -> str:
        filled = round(BAR_WIDTH * done / total) if total else 0
        bar = "━" * filled + "─" * (BAR_WIDTH - filled)
        elapsed = _elapsed(time.monotonic() - self._started)
        return "  ".join(part for part in (self.label, bar, f"epoch {done}/{total}", elapsed, metrics) if part)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (also after an exception, when Keras does not call ``on_train_end``).

        Example:
            >>> progress.close()  # doctest: +SKIP
        """
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self._line is not None:
            self._line.flush()
            self._line = None
