"""Diagnosis of a run from its training curves and baselines, with the workshop's remedies.

:func:`diagnose` reads a run's history (one row per epoch: ``epoch``, ``loss``, ``val_loss``,
Keras metrics) and, when given, the model's scores and the baselines' scores, and returns
a :class:`Finding` for each problem it sees:

* ``overfitting``: validation loss bottoms out and then rises while training loss keeps
  falling, or the gap between them widens (:data:`OVERFITTING_RISE`, :data:`GAP_WIDENING`);
* ``underfitting``: on the training split the model is no better than the best baseline;
* ``not_converged``: the monitored loss was still falling at the last epoch
  (:data:`CONVERGENCE_TOLERANCE`);
* ``no_better_than_baseline``: on the validation split (or the part the caller names) the
  model's metric does not beat the best baseline's;
* ``unstable``: NaN or infinite values, or training-loss spikes (:data:`SPIKE_FACTOR`).

Each finding names its evidence (epochs and values) and remedies in the workshop's order:
fewer parameters, Dropout, BatchNormalization, early stopping, more data, augmentation,
lower learning rate. A remedy the workshop does not list (scaling the inputs, more epochs)
comes where it fits best and is named as such. :class:`RunSettings` makes the remedies
specific (the spec keys and values to change); without it they are general.

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
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from dlworkflow.evaluation.comparison import best_baseline, selection_part
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.spec.schema import Spec

FindingKind = Literal["overfitting", "underfitting", "not_converged", "no_better_than_baseline", "unstable"]

FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)
"""Every kind of :class:`Finding`, in the order :func:`diagnose` reports them."""

TAIL_EPOCHS = 5
"""Epochs at the end of a run whose median stands for "the end", so that one noisy epoch does not decide."""

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

DEFAULT_LEARNING_RATES: dict[str, float] = {"sgd": 0.01}
"""Keras' default learning rate per optimizer where it is not 0.001 (used when the spec sets none)."""

HISTORY_METRICS: dict[str, tuple[str, ...]] = {
    "rmse": ("root_mean_squared_error", "rmse"),
    "mae": ("mean_absolute_error", "mae"),
    "r2": ("r2_score", "r2"),
    "accuracy": ("accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "acc"),
}
"""History columns (Keras names) that hold a metric of :data:`METRIC_DIRECTIONS`, tried in order; used only
when the model's own score on the training split is not given."""


@dataclass(frozen=True)
class Finding:
    """One problem seen in a run, with its evidence and what to try.

    Attributes:
        kind: One of :data:`FINDING_KINDS`.
        summary: One line for a reader in a hurry.
        evidence: The epochs and values the finding rests on.
        remedies: What to try, most promising first, in the workshop's order; each names
            the spec key to change where there is one.

    Example:
        >>> finding = Finding("unstable", "Unstable training.", "loss was NaN at epoch 3.", ("lower learning rate",))
        >>> finding.to_dict()["remedies"]
        ['lower learning rate']
        >>> Finding.from_dict(finding.to_dict()) == finding
        True
    """

    kind: FindingKind
    summary: str
    evidence: str
    remedies: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready plain data: ``{kind, summary, evidence, remedies}``.

        Returns:
            A dict of strings and a list of strings.

        Example:
            >>> Finding("underfitting", "s", "e").to_dict()
            {'kind': 'underfitting', 'summary': 's', 'evidence': 'e', 'remedies': []}
        """
        return {"kind": self.kind, "summary": self.summary, "evidence": self.evidence, "remedies": list(self.remedies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read back what :meth:`to_dict` wrote (e.g. from a run record).

        Args:
            data: ``{kind, summary, evidence, remedies}``.

        Returns:
            The finding.

        Example:
            >>> Finding.from_dict({"kind": "overfitting", "summary": "s", "evidence": "e", "remedies": ["a"]}).remedies
            ('a',)
        """
        return cls(data["kind"], data["summary"], data["evidence"], tuple(data.get("remedies", ())))


@dataclass(frozen=True)
class RunSettings:
    """What the remedies need to know about how a run was set up, to name what to change.

    Every field may stay unknown (None, or empty): the remedies then speak generally.

    Attributes:
        epochs: Epochs asked for (``train.epochs``, plus ``fine_tune.epochs``).
        optimizer: ``train.optimizer.type``, e.g. ``adam``.
        learning_rate: ``train.optimizer.learning_rate`` (None: the optimizer's default).
        early_stopping: Whether ``[train.early_stopping]`` is on (None: unknown).
        patience: ``train.early_stopping.patience``.
        restore_best_weights: ``train.early_stopping.restore_best_weights``.
        layer_types: The ``type`` of each ``[[model.layers]]`` entry (None: unknown, e.g. a builder).
        hidden_units: ``units`` of every layer but the output layer, in order.
        dropout_rates: ``rate`` of every Dropout layer, in order.
        scaling: ``data.scaling``.
        images: Whether the inputs are images (augmentation applies).
        parameters: Trainable parameters of the model.
        training_rows: Rows (or images) in the training split.

    Example:
        >>> RunSettings(epochs=200, hidden_units=(100, 50), layer_types=("Dense", "Dense", "Dense")).hidden_units
        (100, 50)
    """

    epochs: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    early_stopping: bool | None = None
    patience: int | None = None
    restore_best_weights: bool = False
    layer_types: tuple[str, ...] | None = None
    hidden_units: tuple[int, ...] = ()
    dropout_rates: tuple[float, ...] = ()
    scaling: str | None = None
    images: bool = False
    parameters: int | None = None
    training_rows: int | None = None

    @classmethod
    def from_spec(
        cls, spec: Spec, *, images: bool = False, parameters: int | None = None, training_rows: int | None = None
    ) -> RunSettings:
        """The settings of a validated spec, plus what only the built run knows.

        Args:
            spec: The run's spec.
            images: Whether the dataset holds images (``dataset.image is not None``).
            parameters: Trainable parameters of the built model.
            training_rows: Rows in the training split.

        Returns:
            The settings.

        Example:
            >>> RunSettings.from_spec(spec, parameters=14101, training_rows=767).hidden_units  # doctest: +SKIP
            (100, 50)
        """
        train = spec.train
        stopping = train.early_stopping
        layers = spec.model.layers
        return cls(
            epochs=train.epochs + (train.fine_tune.epochs if train.fine_tune is not None else 0),
            optimizer=train.optimizer.type,
            learning_rate=train.optimizer.learning_rate,
            early_stopping=stopping is not None,
            patience=None if stopping is None else stopping.patience,
            restore_best_weights=stopping is not None and stopping.restore_best_weights,
            layer_types=None if spec.model.builder is not None else tuple(layer.type for layer in layers),
            hidden_units=tuple(
                int(layer.arguments["units"]) for layer in layers[:-1] if isinstance(layer.arguments.get("units"), int)
            ),
            dropout_rates=tuple(
                float(layer.arguments.get("rate", 0.0)) for layer in layers if layer.type == "Dropout"
            ),
            scaling=spec.data.scaling,
            images=images,
            parameters=parameters,
            training_rows=training_rows,
        )


def diagnose(
    history: pd.DataFrame,
    *,
    metric: str | None = None,
    scores: Mapping[str, Mapping[str, float]] | None = None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    compare_on: str = "validation",
    evaluated_epoch: int | None = None,
    settings: RunSettings | None = None,
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
    epochs = _epochs(history)
    evaluated = evaluated_epoch if evaluated_epoch is not None else (int(epochs[-1]) if len(epochs) else None)
    loss = _curve(history, "loss", epochs)
    validation = _curve(history, "val_loss", epochs)
    best = None if metric is None or not baselines else _chosen_baseline(baselines, metric)
    diverged = _diverged(history)  # After a NaN the curves say nothing more: only "unstable" reads them.
    found = [
        None if diverged else _overfitting(loss, validation, evaluated_epoch, settings),
        _underfitting(history, epochs, metric, scores, baselines, best, evaluated, settings),
        None if diverged else _not_converged(loss, validation, settings),
        _no_better(metric, scores, baselines, best, compare_on, settings),
        _unstable(history, epochs, loss, settings),
    ]
    return [finding for finding in found if finding is not None]


# --- curves ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Curve:
    """The finite values of one history column, with their epochs."""

    name: str
    epochs: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def at(self, epoch: int) -> float:
        """The value at an epoch (the nearest earlier finite one)."""
        index = max(int(np.searchsorted(self.epochs, epoch, side="right")) - 1, 0)
        return float(self.values[index])


def _epochs(history: pd.DataFrame) -> np.ndarray:
    if "epoch" in history.columns:
        return history["epoch"].to_numpy(dtype=np.int64)
    return np.arange(1, len(history) + 1, dtype=np.int64)


def _curve(history: pd.DataFrame, column: str, epochs: np.ndarray) -> _Curve | None:
    if column not in history.columns:
        return None
    values = history[column].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    return _Curve(column, epochs[finite], values[finite])


def _diverged(history: pd.DataFrame) -> bool:
    """Whether ``loss`` or ``val_loss`` holds a NaN or infinite value."""
    columns = [column for column in ("loss", "val_loss") if column in history.columns]
    return bool(columns) and not np.isfinite(history[columns].to_numpy(dtype=np.float64)).all()


def _smoothed(values: np.ndarray) -> np.ndarray:
    """A running median over :data:`TAIL_EPOCHS` epochs (centred, shorter at the ends): the curve without its noise."""
    half = TAIL_EPOCHS // 2
    if len(values) < TAIL_EPOCHS:
        return values
    padded = np.pad(values, half, constant_values=np.nan)
    return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def _tail(curve: _Curve) -> tuple[float, int]:
    """Median of the last :data:`TAIL_EPOCHS` values, and the first epoch of that tail."""
    count = min(TAIL_EPOCHS, len(curve))
    return float(np.median(curve.values[-count:])), int(curve.epochs[-count])


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


def _validation_minimum(loss: _Curve | None, validation: _Curve | None) -> _Minimum | None:
    """The validation minimum, when it lies well before the end and training loss fell after it."""
    if loss is None or validation is None or len(validation) <= OVERFITTING_EPOCHS_AFTER_MINIMUM:
        return None
    lowest = int(np.argmin(validation.values))
    epoch, last_epoch = int(validation.epochs[lowest]), int(validation.epochs[-1])
    end_validation, tail_start = _tail(validation)
    end_loss, _ = _tail(loss)
    if last_epoch - epoch < OVERFITTING_EPOCHS_AFTER_MINIMUM or end_loss >= loss.at(epoch):
        return None  # Still at its best, or both rising (instability or divergence, not overfitting).
    floor = float(np.min(_smoothed(validation.values)))
    return _Minimum(epoch, float(validation.values[lowest]), floor, loss.at(epoch),
                    _span(tail_start, last_epoch), end_validation, end_loss)


def _overfitting(
    loss: _Curve | None, validation: _Curve | None, evaluated_epoch: int | None, settings: RunSettings
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
    remedies = (
        _fewer_parameters(settings),
        _dropout(settings),
        _batch_normalization(settings, "it regularises a little"),
        _early_stopping(settings, minimum.epoch),
        _more_data(settings),
        _augmentation(settings),
    )
    return Finding("overfitting", summary, evidence, _present(remedies))


def _underfitting(
    history: pd.DataFrame,
    epochs: np.ndarray,
    metric: str | None,
    scores: Mapping[str, Mapping[str, float]] | None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
    best: str | None,
    evaluated: int | None,
    settings: RunSettings,
) -> Finding | None:
    """On the training split, the model's metric no better than the best baseline's."""
    if metric is None or best is None or baselines is None:
        return None
    baseline_value = _value(baselines[best].get("train", {}), metric)
    model_value, source = _value((scores or {}).get("train", {}), metric), ""
    if model_value is None and evaluated is not None:
        model_value, source = _history_metric(history, epochs, metric, evaluated)
    if baseline_value is None or model_value is None or _better(metric, model_value, baseline_value):
        return None
    summary = f"Underfitting: on the training data the model is no better than the {best} baseline."
    evidence = f"training {metric}: {_versus(model_value, baseline_value, best)}{source}."
    remedies = (
        _scale_inputs(settings),
        _more_parameters(settings),
        _less_dropout(settings),
        _batch_normalization(settings, "it makes gradient descent faster"),
        _lower_learning_rate(settings, "if the training loss jumps around instead of falling"),
    )
    return Finding("underfitting", summary, evidence, _present(remedies))


def _not_converged(loss: _Curve | None, validation: _Curve | None, settings: RunSettings) -> Finding | None:
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
    if improvement <= CONVERGENCE_TOLERANCE or int(np.argmin(_smoothed(curve.values))) < len(curve) - window:
        return None
    what = "validation loss" if curve is validation else "training loss"
    first, middle, last = (int(curve.epochs[i]) for i in (-2 * window, -window, -1))
    summary = f"Not converged: {what} was still falling at the last epoch ({last})."
    span = "the last epoch" if window == 1 else f"the last {window} epochs"
    evidence = (f"{what} fell {improvement:.1%} over {span}: median {_number(before)} over "
                f"{_span(first, int(curve.epochs[-window - 1]))}, {_number(recent)} over {_span(middle, last)}; "
                f"lowest at epoch {int(curve.epochs[lowest])} ({_number(float(curve.values[lowest]))}).")
    return Finding("not_converged", summary, evidence, _present((_more_epochs(settings, last),)))


def _no_better(
    metric: str | None,
    scores: Mapping[str, Mapping[str, float]] | None,
    baselines: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
    best: str | None,
    part: str,
    settings: RunSettings,
) -> Finding | None:
    """On ``part``, the model's metric not better than the best baseline's."""
    if metric is None or best is None or baselines is None or scores is None:
        return None
    model_value = _value(scores.get(part, {}), metric)
    baseline_value = _value(baselines[best].get(part, {}), metric)
    if model_value is None or baseline_value is None or _better(metric, model_value, baseline_value):
        return None
    summary = f"No better than the baseline: on the {part} data the model does not beat the {best} baseline."
    evidence = f"{part} {metric}: {_versus(model_value, baseline_value, best)}."
    remedies = (
        _scale_inputs(settings),
        _batch_normalization(settings, "it makes gradient descent faster"),
        _early_stopping(settings, None),
        _more_data(settings),
        _lower_learning_rate(settings, "if the loss curves are jagged"),
    )
    return Finding("no_better_than_baseline", summary, evidence, _present(remedies))


def _unstable(
    history: pd.DataFrame, epochs: np.ndarray, loss: _Curve | None, settings: RunSettings
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
    remedies = (
        _scale_inputs(settings),
        _batch_normalization(settings, "it stabilises the learning process"),
        _lower_learning_rate(settings, ""),
        "missing values: [data] dropna = true if the data has missing or infinite values" if non_finite else None,
    )
    return Finding("unstable", summary, evidence, _present(remedies))


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


def _spikes(loss: _Curve) -> list[tuple[int, float, float, int]]:
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
        curve = _curve(history, column, epochs)
        if curve is not None:
            return curve.at(epoch), f" (history column {column!r} at epoch {epoch}, averaged during training)"
    return None, ""


# --- remedies -------------------------------------------------------------------------------------------------


def _present(remedies: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(remedy for remedy in remedies if remedy)


def _has_layer(settings: RunSettings, layer_type: str) -> bool | None:
    return None if settings.layer_types is None else layer_type in settings.layer_types


def _fewer_parameters(settings: RunSettings) -> str:
    size = ""
    if settings.parameters is not None:
        rows = f" for {settings.training_rows:,} training rows" if settings.training_rows is not None else ""
        size = f"; the model has {settings.parameters:,} trainable parameters{rows}"
    filters = " or filters" if settings.layer_types and any(t.startswith("Conv") for t in settings.layer_types) else ""
    if settings.hidden_units:
        now = ", ".join(str(units) for units in settings.hidden_units)
        halved = ", ".join(str(max(1, units // 2)) for units in settings.hidden_units)
        return (f"fewer parameters: fewer units{filters} in [[model.layers]] (units {now} now: try {halved} or less) "
                f"or fewer layers{size}")
    return f"fewer parameters: fewer units{filters} or layers in [[model.layers]]{size}"


def _more_parameters(settings: RunSettings) -> str:
    now = ", ".join(str(units) for units in settings.hidden_units)
    units = f" (units {now} now)" if now else ""
    return f"more parameters: more units or layers in [[model.layers]]{units}, so the model can learn the function"


def _dropout(settings: RunSettings) -> str:
    if settings.dropout_rates:
        rates = ", ".join(f"{rate:g}" for rate in settings.dropout_rates)
        return f"Dropout: raise the rate of the Dropout layer(s) (rate {rates} now)"
    return ('Dropout: add { type = "Dropout", rate = 0.2 } after a hidden layer in [[model.layers]] '
            "(active in training only)")


def _less_dropout(settings: RunSettings) -> str | None:
    if not settings.dropout_rates:
        return None
    rates = ", ".join(f"{rate:g}" for rate in settings.dropout_rates)
    return f"less Dropout: lower the rate of the Dropout layer(s) (rate {rates} now) or remove them"


def _batch_normalization(settings: RunSettings, why: str) -> str | None:
    if _has_layer(settings, "BatchNormalization"):
        return None
    return f'BatchNormalization: add {{ type = "BatchNormalization" }} as the first of [[model.layers]] ({why})'


def _early_stopping(settings: RunSettings, best_epoch: int | None) -> str | None:
    lowest = f" — validation loss was lowest at epoch {best_epoch}" if best_epoch is not None else ""
    if settings.early_stopping and settings.restore_best_weights:
        return None
    if settings.early_stopping:
        return (f"early stopping: [train.early_stopping] restore_best_weights = true, so the best epoch's weights are "
                f"evaluated, not the last{lowest}")
    return ("early stopping: [train.early_stopping] monitor = 'val_loss', patience = 10, "
            f"restore_best_weights = true{lowest}")


def _more_data(settings: RunSettings) -> str:
    if settings.images:
        return "more data: more training images"
    rows = f" than the {settings.training_rows:,} now" if settings.training_rows is not None else ""
    return (f"more data: more training rows{rows}, e.g. a longer period ([data] rows); with fewer features "
            "([data] select) the same rows go further")


def _augmentation(settings: RunSettings) -> str | None:
    if not settings.images or (settings.layer_types and any(t.startswith("Random") for t in settings.layer_types)):
        return None
    return ('augmentation: add { type = "RandomFlip", mode = "horizontal" }, RandomRotation and RandomZoom layers '
            "first in [[model.layers]] (active in training only)")


def _lower_learning_rate(settings: RunSettings, when: str) -> str:
    if settings.learning_rate is not None:
        now = f"now {settings.learning_rate:g}"
        rate = settings.learning_rate
    else:
        rate = DEFAULT_LEARNING_RATES.get((settings.optimizer or "adam").lower(), 0.001)
        now = f"now the default, {rate:g} for {settings.optimizer or 'adam'}"
    suffix = f", {when}" if when else ""
    return f"lower learning rate: [train.optimizer] learning_rate = {rate / 10:g} ({now}){suffix}"


def _scale_inputs(settings: RunSettings) -> str | None:
    """Not in the workshop's list, but its first step: unscaled features stall or derail training."""
    if settings.scaling != "none":
        return None
    value = "pixels" if settings.images else "standardize"
    return f"scale the inputs: [data] scaling = '{value}' (the features are unscaled now)"


def _more_epochs(settings: RunSettings, last_epoch: int) -> str:
    epochs = settings.epochs or last_epoch
    stop = "" if settings.early_stopping else (
        " with [train.early_stopping] monitor = 'val_loss', patience = 10, restore_best_weights = true, so training "
        "stops by itself when validation loss stops improving"
    )
    return f"more epochs: [train] epochs = {2 * epochs} (now {epochs}){stop}"
