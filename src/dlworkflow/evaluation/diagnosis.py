"""Diagnosis of a run from its training curves and baselines, with the workshop's remedies.

:func:`diagnose` reads a run's history (one row per epoch: ``epoch``, ``loss``, ``val_loss``,
Keras metrics) and, when given, the model's scores and the baselines' scores, and returns
a :class:`Finding` for each problem it sees:

* ``overfitting``: validation loss bottoms out and then rises while training loss keeps
  falling, or the gap between them widens (:data:`OVERFITTING_RISE`, :data:`GAP_WIDENING`);
* ``underfitting``: on the training split the model is no better than the best baseline
  (never when the model's score is the best the metric allows, or within :data:`FITS_TRAINING` of
  it: a classifier that fits its training rows tied with a perfect baseline has nothing left to
  learn, :data:`METRIC_CEILINGS`);
* ``not_converged``: the monitored loss was still falling at the last epoch
  (:data:`CONVERGENCE_TOLERANCE`);
* ``no_better_than_baseline``: on the validation split (or the part the caller names) the
  model's metric does not beat the best baseline's (again, never at the ceiling);
* ``unstable``: NaN or infinite values, or training-loss spikes (:data:`SPIKE_FACTOR`).

Each finding names its evidence (epochs and values) and remedies in the workshop's order:
fewer parameters, Dropout, BatchNormalization, early stopping, more data, augmentation,
lower learning rate. A remedy the workshop does not list (scaling the inputs or the target,
more epochs) comes where it fits best and is named as such. :class:`RunSettings` makes the
remedies specific (the spec keys and values to change); without it they are general.
:class:`~dlworkflow.evaluation.data_scales.DataScales` tells how far the features and a
regression target are from unit scale: when a model does not beat its baselines and either is
unscaled and far from it, the finding names that as the likely cause, and its fix comes first.

This module holds :func:`diagnose` and its rules, one per kind of finding; what they build on
lives beside it, one concept per module, and is importable from here as before:
:class:`Finding` (:mod:`~dlworkflow.evaluation.finding`), :class:`RunSettings`
(:mod:`~dlworkflow.evaluation.run_settings`), the history's curves
(:mod:`~dlworkflow.evaluation.history_curve`) and the remedies' wording
(:mod:`~dlworkflow.evaluation.remedies`).

Pure: numpy only (plus the numpy-free comparison helpers), no Keras, nothing written.

Example:
    >>> import pandas as pd
    >>> history = pd.DataFrame({"epoch": range(1, 21),
    ...                         "loss": [10 - 0.4 * e for e in range(20)],
    ...                         "val_loss": [abs(e - 5) * 0.3 + 8 for e in range(20)]})
    >>> [finding.kind for finding in diagnose(history)]
    ['overfitting']
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dlworkflow.evaluation import remedies
from dlworkflow.evaluation.comparison import best_baseline, selection_part
from dlworkflow.evaluation.data_scales import DataScales
from dlworkflow.evaluation.finding import FINDING_KINDS, Finding, FindingKind
from dlworkflow.evaluation.history_curve import (
    TAIL_EPOCHS,
    HistoryCurve,
    diverged,
    history_curve,
    history_epochs,
    smoothed,
    tail,
)
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.evaluation.remedies import DEFAULT_LEARNING_RATES
from dlworkflow.evaluation.run_settings import RunSettings

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONVERGENCE_TOLERANCE",
    "CONVERGENCE_WINDOW",
    "DEFAULT_LEARNING_RATES",
    "FINDING_KINDS",
    "FITS_TRAINING",
    "GAP_WIDENING",
    "HISTORY_METRICS",
    "METRIC_CEILINGS",
    "OVERFITTING_EPOCHS_AFTER_MINIMUM",
    "OVERFITTING_RISE",
    "SPIKE_FACTOR",
    "SPIKE_SETBACK",
    "TAIL_EPOCHS",
    "DataScales",
    "Finding",
    "FindingKind",
    "RunSettings",
    "diagnose",
]

OVERFITTING_RISE = 0.10
"""Overfitting: the median validation loss of the last :data:`TAIL_EPOCHS` epochs is at least 10% above the lowest
level of the curve (the minimum of its running median over :data:`TAIL_EPOCHS` epochs, so one lucky epoch does not
set the bar). Epoch-to-epoch noise of a validation loss on a few hundred rows is a few percent; the lesson's weather
model ends at about 1.7 times its minimum."""

OVERFITTING_EPOCHS_AFTER_MINIMUM = 5
"""Overfitting: the validation minimum lies at least this many epochs before the last one (else the curve is
still at its best, and any rise is noise)."""

GAP_WIDENING = 0.20
"""Overfitting without a rise: the relative gap ``(validation loss - training loss) / validation loss`` grew by
at least 0.2 from the epoch of the validation minimum to the end (median of the last :data:`TAIL_EPOCHS`).
A healthy fit keeps the gap nearly constant; 0.2 means training loss fell a fifth of the validation loss further
while validation loss did not follow."""

CONVERGENCE_WINDOW = 5
"""Not converged: the last this-many epochs are compared with the this-many before them (fewer in short runs)."""

CONVERGENCE_TOLERANCE = 0.02
"""Not converged: the median of the last window is more than 2% below the median of the window before, and the
running median (over :data:`TAIL_EPOCHS` epochs) is lowest in the last window. Below 2% the curve is flat for
practical purposes (more epochs would gain little); the medians keep a single lucky epoch from deciding."""

SPIKE_FACTOR = 2.0
"""Unstable: an epoch's training loss is more than twice the lowest training loss of the epochs before it."""

SPIKE_SETBACK = 0.25
"""Unstable: and the jump gives back at least a quarter of the fall from the first epoch to that lowest value,
so that doubling a loss that is already near zero (0.004 → 0.009) is not called a spike."""

HISTORY_METRICS: dict[str, tuple[str, ...]] = {
    "rmse": ("root_mean_squared_error", "rmse"),
    "mae": ("mean_absolute_error", "mae"),
    "r2": ("r2_score", "r2"),
    "accuracy": ("accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "acc"),
}
"""History columns (Keras names) that hold a metric of :data:`METRIC_DIRECTIONS`, tried in order; used only
when the model's own score on the training split is not given (and the target is not scaled: the history's
values are then on the standardized target)."""

METRIC_CEILINGS: dict[str, float] = {
    "rmse": 0.0, "mae": 0.0, "r2": 1.0, "accuracy": 1.0, "balanced_accuracy": 1.0, "f1_macro": 1.0, "log_loss": 0.0,
}
"""The best value each metric can take. A model there is not underfitting, nor to be blamed for not beating a
baseline that is there too (scikit-learn's wine classes: the model's accuracy 1.0, logistic regression's 1.0)."""

FITS_TRAINING = 0.03
"""Underfitting: a model within this of the ceiling of a metric bounded by 1 (accuracy, balanced accuracy, F1, R²)
on the training rows fits them (two wine samples in 106 wrong is 0.9811), so it is not underfitting, whatever a
perfect baseline scores there; whether it generalises as well is the baseline finding's question."""


def diagnose(
    history: pd.DataFrame,
    *,
    metric: str | None = None,
    scores: Mapping[str, Mapping[str, float]] | None = None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    compare_on: str = "validation",
    evaluated_epoch: int | None = None,
    settings: RunSettings | None = None,
    scales: DataScales | None = None,
) -> list[Finding]:
    """Look at a run's curves and scores and say what went wrong, with evidence and remedies.

    The curve rules read ``loss`` and ``val_loss``; a history without ``val_loss`` gets no
    overfitting finding, and its convergence is judged on the training loss. Once either loss
    holds a NaN or infinite value the run diverged, and only "unstable" reads the curves. The
    baseline rules need ``metric`` and ``baselines``: the best baseline is chosen as
    :func:`~dlworkflow.evaluation.comparison.compare_to_baselines` chooses it (on
    validation, or train when there is none; never on test). Underfitting compares the
    training split; "no better than baseline" compares ``compare_on``, which is never the
    test split unless the caller asks for it.

    Args:
        history: One row per epoch: ``epoch`` (1-based; the row number when absent),
            ``loss``, optionally ``val_loss`` and metric columns. Other columns (``stage``)
            are ignored except in the NaN check.
        metric: The run's primary metric (a key of
            :data:`~dlworkflow.evaluation.metric_directions.METRIC_DIRECTIONS`, e.g. ``rmse``).
        scores: The evaluated model's ``{part: {metric: value}}`` (the record's ``metrics``).
            Without a training score the history's metric column at ``evaluated_epoch``
            stands in (Keras' running average over that epoch, see :data:`HISTORY_METRICS`).
        baselines: ``{baseline: {part: {metric: value}}}`` (the record's ``baselines``).
        compare_on: The part on which "no better than baseline" is judged.
        evaluated_epoch: The epoch whose weights were evaluated (default: the last).
        settings: How the run was set up, to make remedies specific.
        scales: How far the training features and target are from unit scale, to name an
            unscaled one as the likely cause (:meth:`DataScales.from_dataset`).

    Returns:
        The findings, in the order of :data:`FINDING_KINDS`; empty for a healthy run.

    Raises:
        ValueError: When ``metric`` is not a known metric.

    Example:
        >>> import pandas as pd
        >>> history = pd.DataFrame({"loss": [5.0, 4.0, 3.9], "val_loss": [5.0, 4.1, 4.05]})
        >>> findings = diagnose(history, metric="rmse", scores={"train": {"rmse": 2.0}},
        ...                     baselines={"mean": {"train": {"rmse": 1.5}}})
        >>> [f.kind for f in findings], findings[0].evidence
        (['underfitting'], "training rmse: the model's 2 against 1.5 for the mean baseline.")
    """
    if metric is not None and metric not in METRIC_DIRECTIONS:
        known = ", ".join(repr(name) for name in METRIC_DIRECTIONS)
        raise ValueError(f"diagnose: unknown metric {metric!r}; known metrics: {known}.")
    settings = settings or RunSettings()
    scales = scales or DataScales()
    epochs = history_epochs(history)
    evaluated = evaluated_epoch if evaluated_epoch is not None else (int(epochs[-1]) if len(epochs) else None)
    loss = history_curve(history, "loss", epochs)
    validation = history_curve(history, "val_loss", epochs)
    best = None if metric is None or not baselines else _chosen_baseline(baselines, metric)
    has_diverged = diverged(history)  # After a NaN the curves say nothing more: only "unstable" reads them.
    found = [
        None if has_diverged else _overfitting(loss, validation, evaluated_epoch, settings),
        _underfitting(history, epochs, metric, scores, baselines, best, evaluated, settings, scales),
        None if has_diverged else _not_converged(loss, validation, settings),
        _no_better(metric, scores, baselines, best, compare_on, settings, scales),
        _unstable(history, epochs, loss, settings, scales),
    ]
    return [finding for finding in found if finding is not None]


# --- evidence text --------------------------------------------------------------------------------------------


def _span(first: int, last: int) -> str:
    return f"epoch {first}" if first == last else f"epochs {first}–{last}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


# --- rules ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Minimum:
    """Where validation loss was lowest, and how both losses ended (medians of the last :data:`TAIL_EPOCHS`)."""

    epoch: int
    value: float
    floor: float  # the lowest level of the running median: what the decisions compare with
    loss: float  # training loss at ``epoch``
    tail: str
    end_validation: float
    end_loss: float

    @property
    def gap_at_minimum(self) -> float:
        return (self.floor - self.loss) / self.floor if self.floor else 0.0

    @property
    def gap_at_end(self) -> float:
        return (self.end_validation - self.end_loss) / self.end_validation if self.end_validation else 0.0


def _validation_minimum(loss: HistoryCurve | None, validation: HistoryCurve | None) -> _Minimum | None:
    """The validation minimum, when it lies well before the end and training loss fell after it."""
    if loss is None or validation is None or len(validation) <= OVERFITTING_EPOCHS_AFTER_MINIMUM:
        return None
    lowest = int(np.argmin(validation.values))
    epoch, last_epoch = int(validation.epochs[lowest]), int(validation.epochs[-1])
    end_validation, tail_start = tail(validation)
    end_loss, _ = tail(loss)
    if last_epoch - epoch < OVERFITTING_EPOCHS_AFTER_MINIMUM or end_loss >= loss.at(epoch):
        return None  # Still at its best, or both rising (instability or divergence, not overfitting).
    floor = float(np.min(smoothed(validation.values)))
    return _Minimum(epoch, float(validation.values[lowest]), floor, loss.at(epoch),
                    _span(tail_start, last_epoch), end_validation, end_loss)


def _overfitting(
    loss: HistoryCurve | None, validation: HistoryCurve | None, evaluated_epoch: int | None, settings: RunSettings
) -> Finding | None:
    """Validation loss lowest well before the end and then rising, or a widening gap; training loss falling."""
    minimum = _validation_minimum(loss, validation)
    if minimum is None:
        return None
    lowest = f"validation loss was lowest at epoch {minimum.epoch} ({_number(minimum.value)})"
    falling = (f"training loss fell from {_number(minimum.loss)} at epoch {minimum.epoch} to a median of "
               f"{_number(minimum.end_loss)}")
    if minimum.floor and (minimum.end_validation - minimum.floor) / abs(minimum.floor) >= OVERFITTING_RISE:
        summary = (f"Overfitting: validation loss was lowest at epoch {minimum.epoch} and rose afterwards "
                   "while training loss kept falling.")
        evidence = (f"{lowest}; over {minimum.tail} its median was {_number(minimum.end_validation)} "
                    f"({(minimum.end_validation - minimum.value) / abs(minimum.value):.0%} higher) while {falling}.")
    elif minimum.gap_at_end - minimum.gap_at_minimum >= GAP_WIDENING:
        summary = (f"Overfitting: after epoch {minimum.epoch} training loss kept falling while validation loss "
                   "did not; the gap between them widened.")
        evidence = (f"{lowest} and its median over {minimum.tail} was {_number(minimum.end_validation)} while "
                    f"{falling}; the gap (validation − training) / validation grew from "
                    f"{minimum.gap_at_minimum:.2f} to {minimum.gap_at_end:.2f}.")
    else:
        return None
    if evaluated_epoch is not None:
        evidence += f" The evaluated weights are those of epoch {evaluated_epoch}."
    proposed = (
        remedies.fewer_parameters(settings),
        remedies.dropout(settings),
        remedies.batch_normalization(settings, "it regularises a little"),
        remedies.early_stopping(settings, minimum.epoch),
        remedies.more_data(settings),
        remedies.augmentation(settings),
    )
    return Finding("overfitting", summary, evidence, remedies.present(proposed))


def _underfitting(
    history: pd.DataFrame,
    epochs: np.ndarray,
    metric: str | None,
    scores: Mapping[str, Mapping[str, float]] | None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
    best: str | None,
    evaluated: int | None,
    settings: RunSettings,
    scales: DataScales,
) -> Finding | None:
    """On the training split, the model's metric no better than the best baseline's (and not at the ceiling)."""
    if metric is None or best is None or baselines is None:
        return None
    baseline_value = _value(baselines[best].get("train", {}), metric)
    model_value, source = _value((scores or {}).get("train", {}), metric), ""
    if model_value is None and evaluated is not None and scales.target_scaling == "none":
        model_value, source = _history_metric(history, epochs, metric, evaluated)
    if (baseline_value is None or model_value is None or _better(metric, model_value, baseline_value)
            or _at_ceiling(metric, model_value, FITS_TRAINING)):
        return None
    summary = (f"Underfitting: on the training data the model is no better than the {best} baseline."
               f"{_likely_cause(settings, scales)}")
    evidence = f"training {metric}: {_versus(model_value, baseline_value, best)}{source}."
    proposed = (
        remedies.scale_target(scales),
        remedies.scale_inputs(settings, scales),
        remedies.more_parameters(settings),
        remedies.less_dropout(settings),
        remedies.batch_normalization(settings, "it makes gradient descent faster"),
        remedies.lower_learning_rate(settings, "if the training loss jumps around instead of falling"),
    )
    return Finding("underfitting", summary, evidence, remedies.present(proposed))


def _not_converged(loss: HistoryCurve | None, validation: HistoryCurve | None, settings: RunSettings) -> Finding | None:
    """The monitored loss (validation, else training) still falling over the last epochs, lowest at the end."""
    curve = validation if validation is not None and len(validation) >= 2 else loss
    if curve is None:
        return None
    window = min(CONVERGENCE_WINDOW, len(curve) // 2)
    if window < 1:
        return None
    before = float(np.median(curve.values[-2 * window:-window]))
    recent = float(np.median(curve.values[-window:]))
    lowest = int(np.argmin(curve.values))
    improvement = (before - recent) / abs(before) if before else 0.0
    if improvement <= CONVERGENCE_TOLERANCE or int(np.argmin(smoothed(curve.values))) < len(curve) - window:
        return None
    what = "validation loss" if curve is validation else "training loss"
    first, middle, last = (int(curve.epochs[i]) for i in (-2 * window, -window, -1))
    summary = f"Not converged: {what} was still falling at the last epoch ({last})."
    span = "the last epoch" if window == 1 else f"the last {window} epochs"
    evidence = (f"{what} fell {improvement:.1%} over {span}: median {_number(before)} over "
                f"{_span(first, int(curve.epochs[-window - 1]))}, {_number(recent)} over {_span(middle, last)}; "
                f"lowest at epoch {int(curve.epochs[lowest])} ({_number(float(curve.values[lowest]))}).")
    if settings.early_stopping and settings.epochs and last < settings.epochs:  # early stopping ended it too soon
        summary = (f"Not converged: early stopping ended training at epoch {last}, but the {what} was still falling "
                   "over the last epochs.")
        return Finding("not_converged", summary, evidence, remedies.present((remedies.more_patience(settings, last),)))
    return Finding("not_converged", summary, evidence, remedies.present((remedies.more_epochs(settings, last),)))


def _no_better(
    metric: str | None,
    scores: Mapping[str, Mapping[str, float]] | None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
    best: str | None,
    part: str,
    settings: RunSettings,
    scales: DataScales,
) -> Finding | None:
    """On ``part``, the model's metric not better than the best baseline's (and not at the ceiling)."""
    if metric is None or best is None or baselines is None or scores is None:
        return None
    model_value = _value(scores.get(part, {}), metric)
    baseline_value = _value(baselines[best].get(part, {}), metric)
    if (model_value is None or baseline_value is None or _better(metric, model_value, baseline_value)
            or _at_ceiling(metric, model_value)):
        return None
    summary = (f"No better than the baseline: on the {part} data the model does not beat the {best} baseline."
               f"{_likely_cause(settings, scales)}")
    evidence = f"{part} {metric}: {_versus(model_value, baseline_value, best)}."
    proposed = (
        remedies.scale_target(scales),
        remedies.scale_inputs(settings, scales),
        remedies.batch_normalization(settings, "it makes gradient descent faster"),
        remedies.early_stopping(settings, None),
        remedies.more_data(settings),
        remedies.lower_learning_rate(settings, "if the loss curves are jagged"),
    )
    return Finding("no_better_than_baseline", summary, evidence, remedies.present(proposed))


def _unstable(
    history: pd.DataFrame, epochs: np.ndarray, loss: HistoryCurve | None, settings: RunSettings, scales: DataScales
) -> Finding | None:
    """NaN or infinite values anywhere, or training-loss spikes (:data:`SPIKE_FACTOR`, :data:`SPIKE_SETBACK`)."""
    non_finite = _non_finite(history, epochs)
    spikes = _spikes(loss) if loss is not None else []
    if not non_finite and not spikes:
        return None
    problems = list(non_finite)
    if spikes:
        epoch, value, before, before_epoch = spikes[0]
        problems.append(f"training loss jumped to {_number(value)} at epoch {epoch}, {value / before:.1f}× its lowest "
                        f"value before ({_number(before)} at epoch {before_epoch})")
        if len(spikes) > 1:
            problems.append(f"{len(spikes) - 1} more spike(s), at epoch(s) {', '.join(str(s[0]) for s in spikes[1:])}")
    what = [text for text, seen in (("values became NaN or infinite", non_finite), ("the loss spiked", spikes)) if seen]
    summary = f"Unstable training: {' and '.join(what)}."
    evidence = "; ".join(problems) + "."
    proposed = (
        remedies.scale_inputs(settings, scales),
        remedies.scale_target(scales),
        remedies.batch_normalization(settings, "it stabilises the learning process"),
        remedies.lower_learning_rate(settings, ""),
        "missing values: [data] dropna = true if the data has missing or infinite values" if non_finite else None,
    )
    return Finding("unstable", summary, evidence, remedies.present(proposed))


def _non_finite(history: pd.DataFrame, epochs: np.ndarray) -> list[str]:
    """``'loss was NaN at epoch 7'`` for the first non-finite value of each numeric column."""
    problems = []
    for column in history.select_dtypes("number").columns:
        if column == "epoch":
            continue
        values = history[column].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            value = values[bad[0]]
            problems.append(f"{column} was {'NaN' if math.isnan(value) else value} at epoch {int(epochs[bad[0]])}")
    return problems


def _spikes(loss: HistoryCurve) -> list[tuple[int, float, float, int]]:
    """``(epoch, value, lowest before, its epoch)`` for each epoch whose training loss spiked."""
    values = loss.values
    if len(values) < 2:
        return []
    lowest_before = np.minimum.accumulate(values)[:-1]
    setback = (values[1:] - lowest_before) >= SPIKE_SETBACK * (values[0] - lowest_before)
    found = np.flatnonzero((values[1:] > SPIKE_FACTOR * lowest_before) & setback) + 1
    spikes = []
    for index in found:
        low_index = int(np.argmin(values[:index]))
        spikes.append((int(loss.epochs[index]), float(values[index]), float(values[low_index]),
                       int(loss.epochs[low_index])))
    return spikes


# --- baselines ------------------------------------------------------------------------------------------------


def _chosen_baseline(baselines: Mapping[str, Mapping[str, Mapping[str, float]]], metric: str) -> str | None:
    chosen = best_baseline(baselines, selection_part(baselines), metric)
    return None if chosen is None else chosen[0]


def _at_ceiling(metric: str, model_value: float, margin: float = 0.0) -> bool:
    """Whether the model's score is the best the metric allows (:data:`METRIC_CEILINGS`), or within ``margin`` of
    it for a metric bounded by 1."""
    ceiling = METRIC_CEILINGS[metric]
    allowed = margin if ceiling == 1.0 else 0.0
    return model_value >= ceiling - allowed - 1e-12 if ceiling == 1.0 else abs(model_value - ceiling) <= 1e-12


def _likely_cause(settings: RunSettings, scales: DataScales) -> str:
    """`` Likely cause: ...`` naming an unscaled target, then unscaled inputs, far from unit scale; else empty."""
    causes = []
    if scales.target_far_from_unit:
        causes.append(f"the target is unscaled (standard deviation {_number(scales.target_spread or 0.0)}, "
                      f"mean {_number(scales.target_mean or 0.0)} on the training rows)")
    if settings.images and settings.scaling == "none":
        causes.append("the pixels are unscaled (0–255)")
    elif settings.scaling in (None, "none") and scales.inputs_far_from_unit and scales.feature_spreads is not None:
        smallest, largest = scales.feature_spreads
        causes.append(f"the inputs are unscaled (standard deviations from {_number(smallest)} to {_number(largest)} "
                      "on the training rows)")
    return f" Likely cause: {' and '.join(causes)}." if causes else ""


def _value(values: Mapping[str, float], metric: str) -> float | None:
    value = values.get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def _better(metric: str, model_value: float, baseline_value: float) -> bool:
    if METRIC_DIRECTIONS[metric] == "min":
        return model_value < baseline_value
    return model_value > baseline_value


def _versus(model_value: float, baseline_value: float, baseline: str) -> str:
    return f"the model's {_number(model_value)} against {_number(baseline_value)} for the {baseline} baseline"


def _history_metric(history: pd.DataFrame, epochs: np.ndarray, metric: str, epoch: int) -> tuple[float | None, str]:
    for column in HISTORY_METRICS.get(metric, ()):
        curve = history_curve(history, column, epochs)
        if curve is not None:
            return curve.at(epoch), f" (history column {column!r} at epoch {epoch}, averaged during training)"
    return None, ""
