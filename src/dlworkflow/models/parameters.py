"""Count a model's parameters layer by layer and explain each count with its formula.

The lesson asks "how many parameters does this network have, and why?". The counts here
come from the model's actual weights (so they always agree with ``model.summary()``);
each layer also gets the arithmetic that produces its count, with the real numbers:
``89·100 + 100 = 9,000`` for a Dense layer with 89 inputs and 100 units.

Works on any built Keras model without importing Keras itself.

Example:
    >>> report = explain_parameters(model)  # doctest: +SKIP
    >>> report.total, report.layers[1].formula  # doctest: +SKIP
    (14101, '89·100 + 100 = 9,000')
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

NO_WEIGHTS = "0 (no weights)"
COUNTED_BY_KERAS = "counted by Keras"

_PRODUCT_LAYERS = ("Dense", "EinsumDense", "Embedding", "SimpleRNN", "LSTM", "GRU")
_PRODUCT_PREFIXES = ("Conv", "DepthwiseConv", "SeparableConv")
_VECTOR_NORMALIZATIONS = ("LayerNormalization", "GroupNormalization", "RMSNormalization")


@dataclass(frozen=True)
class LayerParameters:
    """The parameters of one layer.

    Attributes:
        name: The layer's name, e.g. ``dense_1``.
        type: Its class name, e.g. ``Dense``.
        output_shape: Its output shape with ``None`` for the batch, e.g. ``(None, 100)``;
            None when Keras cannot tell.
        total: All its weights' sizes added up.
        trainable: The part updated by the optimizer.
        non_trainable: The rest (e.g. BatchNormalization's moving mean and variance).
        formula: How ``total`` comes about, with the real numbers.

    Example:
        >>> row = explain_parameters(model).layers[1]  # doctest: +SKIP
        >>> row.name, row.output_shape, row.total, row.formula  # doctest: +SKIP
        ('dense', (None, 100), 9000, '89·100 + 100 = 9,000')
    """

    name: str
    type: str
    output_shape: tuple[int | None, ...] | None
    total: int
    trainable: int
    non_trainable: int
    formula: str


@dataclass(frozen=True)
class ParameterReport:
    """Parameters of a whole model, layer by layer, with totals like ``model.summary()``.

    Attributes:
        model_name: The Keras model name.
        layers: One row per layer, the input layer first.
        total: All parameters of the model.
        trainable: Parameters the optimizer updates.
        non_trainable: The others.

    Example:
        >>> report = explain_parameters(model)  # doctest: +SKIP
        >>> report.total, report.trainable, report.non_trainable  # doctest: +SKIP
        (14457, 14279, 178)
    """

    model_name: str
    layers: tuple[LayerParameters, ...]
    total: int
    trainable: int
    non_trainable: int

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-compatible dicts (output shapes as lists).

        Returns:
            One dict per layer.

        Example:
            >>> report.records()[1]["formula"]  # doctest: +SKIP
            '89·100 + 100 = 9,000'
        """
        rows = []
        for layer in self.layers:
            row = asdict(layer)
            row["output_shape"] = None if layer.output_shape is None else list(layer.output_shape)
            rows.append(row)
        return rows


def _size(variable: Any) -> int:
    return int(math.prod(int(d) for d in variable.shape))


def _short_name(variable: Any) -> str:
    name = str(getattr(variable, "name", "") or getattr(variable, "path", ""))
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _dims(variable: Any) -> str:
    shape = [int(d) for d in variable.shape]
    return "·".join(f"{d:,}" for d in shape) if shape else "1"


def _output_shape(layer: Any) -> tuple[int | None, ...] | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError, TypeError):
        return None
    return tuple(None if d is None else int(d) for d in shape)


def _class_names(layer: Any) -> tuple[str, ...]:
    return tuple(klass.__name__ for klass in type(layer).__mro__)


def layer_formula(layer: Any) -> str:
    """Explain one layer's parameter count with its formula and real numbers.

    ``in·out + out`` for Dense, ``kh·kw·c_in·filters + filters`` for 2-D convolutions (in
    general: each weight's shape multiplied out, added up), ``4·C`` for BatchNormalization
    with the non-trainable moving statistics spelled out, ``2·C`` for LayerNormalization,
    ``0 (no weights)`` for layers without weights and ``counted by Keras`` for the rest.
    ``use_bias=False`` simply drops the bias term, as the weights do.

    Args:
        layer: A built Keras layer.

    Returns:
        The formula, ending in ``= <count>``.

    Example:
        >>> layer_formula(model.get_layer("dense"))  # doctest: +SKIP
        '89·100 + 100 = 9,000'
    """
    weights = list(layer.weights)
    total = sum(_size(w) for w in weights)
    if not weights:
        return NO_WEIGHTS
    classes = _class_names(layer)
    own = type(layer).__name__
    names = [_short_name(w) for w in weights]
    frozen = "" if getattr(layer, "trainable", True) else " (layer frozen: all non-trainable)"
    if "BatchNormalization" in classes and weights[0].shape and all(len(w.shape) == 1 for w in weights):
        channels = int(weights[0].shape[0])
        moving = sum(1 for n in names if n.startswith("moving_"))
        if moving == 2 and all(int(w.shape[0]) == channels for w in weights):
            return (
                f"{len(weights)}·{channels:,} = {total:,} ({moving}·{channels:,} = {moving * channels:,} "
                f"non-trainable: moving mean and variance){frozen}"
            )
    if own in _VECTOR_NORMALIZATIONS and all(len(w.shape) == 1 for w in weights):
        channels = int(weights[0].shape[0])
        if all(int(w.shape[0]) == channels for w in weights):
            return f"{len(weights)}·{channels:,} = {total:,}{frozen}"
    if own in _PRODUCT_LAYERS or own.startswith(_PRODUCT_PREFIXES):
        return " + ".join(_dims(w) for w in weights) + f" = {total:,}{frozen}"
    return f"{COUNTED_BY_KERAS}: {total:,}{frozen}"


def explain_parameters(model: Any) -> ParameterReport:
    """Count a model's parameters per layer and explain each count.

    Counts come from the weights themselves (trainable and non-trainable), so they equal
    what ``model.summary()`` shows; totals are taken over the model's distinct weights.

    Args:
        model: A built Keras model.

    Returns:
        The report.

    Example:
        >>> report = explain_parameters(build_model(weather_spec, weather))  # doctest: +SKIP
        >>> report.total, report.trainable, report.non_trainable  # doctest: +SKIP
        (14101, 14101, 0)
    """
    rows = []
    for layer in model.layers:
        trainable = sum(_size(w) for w in layer.trainable_weights)
        non_trainable = sum(_size(w) for w in layer.non_trainable_weights)
        rows.append(
            LayerParameters(
                name=str(layer.name),
                type=type(layer).__name__,
                output_shape=_output_shape(layer),
                total=trainable + non_trainable,
                trainable=trainable,
                non_trainable=non_trainable,
                formula=layer_formula(layer),
            )
        )
    trainable = sum(_size(w) for w in model.trainable_weights)
    non_trainable = sum(_size(w) for w in model.non_trainable_weights)
    return ParameterReport(
        model_name=str(model.name),
        layers=tuple(rows),
        total=trainable + non_trainable,
        trainable=trainable,
        non_trainable=non_trainable,
    )


def overparameterized_warning(report: ParameterReport, train_rows: int, ratio: float = 10) -> str | None:
    """Explain when the trainable parameters greatly outnumber the training rows.

    Such a network can memorize the training set instead of learning from it; the
    lesson's weather model has 14,101 parameters for about 767 training rows.

    Args:
        report: The model's parameter report.
        train_rows: Rows in the training split.
        ratio: Warn when trainable parameters exceed ``ratio`` × training rows.

    Returns:
        The warning text, or None when the model is small enough.

    Example:
        >>> overparameterized_warning(report, train_rows=767)  # doctest: +SKIP
        'The model has 14,101 trainable parameters for 767 training rows (18 per row). ...'
    """
    if train_rows <= 0 or report.trainable <= ratio * train_rows:
        return None
    per_row = report.trainable / train_rows
    return (
        f"The model has {report.trainable:,} trainable parameters for {train_rows:,} training rows "
        f"({per_row:,.0f} per row). With many more parameters than rows a network can memorize the "
        "training set: compare the training and validation loss for overfitting, add early stopping "
        "(train.early_stopping), or use fewer units per layer."
    )
