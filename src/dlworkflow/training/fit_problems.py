"""Why a ``fit`` stopped short, as errors a researcher can act on: early stopping set wrong, a loss gone NaN.

:func:`stopping_problem` turns the early-stopping callback's findings (a monitored value Keras never
reports, a direction it cannot guess) into a :class:`~dlworkflow.errors.SpecError` at its spec path;
:func:`nan_error` names the likely causes of a loss that became NaN or infinite.

Example:
    >>> str(nan_error(spec, 3, float("nan")))  # doctest: +SKIP
    'weather.toml: train: the loss became NaN at epoch 3. Likely causes: a learning rate too high ...'
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError, TrainingError, suggestion

if TYPE_CHECKING:
    from dlworkflow.spec.schema import Spec


def raise_for_stopping_problems(stopping: Any, spec: Spec) -> None:
    """Raise the SpecError of a misconfigured ``train.early_stopping``, if the callback found one.

    Args:
        stopping: The run's early-stopping callback after ``fit``.
        spec: The run's spec.

    Raises:
        SpecError: at ``train.early_stopping.monitor`` or ``train.early_stopping.mode``.

    Example:
        >>> raise_for_stopping_problems(callback, spec)  # nothing wrong: returns None  # doctest: +SKIP
    """
    if stopping.missing_monitor is not None:
        available = list(stopping.missing_monitor)
        raise SpecError.single(
            spec.source, "train.early_stopping.monitor",
            "is not a value Keras reports each epoch", got=stopping.monitor,
            hint=suggestion(stopping.monitor, available),
        )
    if stopping.mode_problem is not None:
        raise SpecError.single(
            spec.source, "train.early_stopping.mode",
            f"Keras cannot tell whether {stopping.monitor!r} should go up or down", got="auto",
            hint="Set train.early_stopping.mode = 'min' (lower is better) or 'max' (higher is better).",
        )


def nan_error(spec: Spec, epoch: int, value: float | None) -> TrainingError:
    """The error of a loss that became NaN or infinite, with its likely causes and fixes.

    Args:
        spec: The run's spec (learning rate, scaling).
        epoch: The 1-based epoch where it happened.
        value: The bad value (None counts as NaN).

    Returns:
        The TrainingError to raise.

    Example:
        >>> nan_error(spec, 3, float("inf")).problems[0].what  # doctest: +SKIP
        'the loss became infinite at epoch 3'
    """
    became = "NaN" if value is None or math.isnan(value) else "infinite"
    learning_rate = spec.train.optimizer.learning_rate
    if learning_rate is not None:
        rate = f"train.optimizer.learning_rate = {learning_rate:g}: try {learning_rate / 10:g}"
    else:
        rate = "set train.optimizer.learning_rate below the optimizer's default"
    causes = [f"a learning rate too high ({rate})"]
    if spec.data.scaling == "none":
        causes.append("unscaled inputs (set data.scaling = 'standardize')")
    causes.append("missing or infinite values in the data (set data.dropna = true)")
    return TrainingError.single(
        spec.source, "train", f"the loss became {became} at epoch {epoch}",
        hint="Likely causes: " + "; ".join(causes) + ".",
    )
