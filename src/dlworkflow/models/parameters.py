"""Count a model's parameters layer by layer and explain each count with its formula.

The lesson asks "how many parameters does this network have, and why?". The counts here
come from the model's actual weights (so they always agree with ``model.summary()``);
each layer also gets the arithmetic that produces its count, with the real numbers:
``89·100 + 100 = 9,000`` for a Dense layer with 89 inputs and 100 units. Image layers also
get a note on their output shape (``32×32 → 30×30: a 3×3 kernel without padding loses 1
border pixel on each side``, ``4·4·50 = 800 values``), and a pretrained base is one row
(``DenseNet121 (pretrained base, frozen)``), its inner layers not listed. Sequence layers get
theirs too: ``4·(32·(89 + 32) + 32) = 15,616`` for an LSTM of 32 units on 89 features (four
gates), ``3·32·(89 + 32 + 2)`` for a GRU (Keras 3's ``reset_after=True``: two biases per gate),
``20,000·64`` for an Embedding, and a note on the steps (``7 steps → 32: the 32 values after
the last step``).

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
        note: How the layer changes the shape of its input, for convolution, pooling and
            Flatten layers (see :func:`shape_note`); empty for the others.

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
    note: str = ""


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

    ``in·out + out`` for Dense, ``kh·kw·c_in·filters + filters`` for 2-D convolutions and
    ``kernel·c_in·filters + filters`` for Conv1D (in general: each weight's shape multiplied
    out, added up), ``input_dim·output_dim`` for Embedding, ``4·(units·(in + units) + units)``
    for LSTM, ``3·units·(in + units + 2)`` for GRU (``3·(units·(in + units) + units)`` with
    ``reset_after=False``), ``units·(in + units) + units`` for SimpleRNN, twice the wrapped
    layer's for Bidirectional, ``4·C`` for BatchNormalization
    with the non-trainable moving statistics spelled out, ``2·C`` for LayerNormalization,
    ``0 (no weights)`` for layers without weights and ``counted by Keras`` for the rest
    (for a nested model such as a pretrained base: ``counted by Keras: 428 layers``).
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
    if _is_nested_model(layer):
        return f"{COUNTED_BY_KERAS}: {len(layer.layers)} layers"
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
    recurrent = _recurrent_formula(layer, weights, names)
    if recurrent is not None:
        explained = f" ({recurrent[1]})" if recurrent[1] else ""
        return f"{recurrent[0]} = {total:,}{explained}{frozen}"
    if own == "Bidirectional":
        inner = _bidirectional_formula(layer)
        if inner is not None and 2 * inner[1] == total:
            return f"2·({inner[0]}) = {total:,} (one {inner[2]} forward, one backward){frozen}"
    if own == "Embedding" and len(weights) == 1 and len(weights[0].shape) == 2:
        tokens, width = (int(d) for d in weights[0].shape)
        return f"{tokens:,}·{width:,} = {total:,} (a vector of {width:,} for each of {tokens:,} token ids){frozen}"
    if own in _PRODUCT_LAYERS or own.startswith(_PRODUCT_PREFIXES):
        return " + ".join(_dims(w) for w in weights) + f" = {total:,}{frozen}"
    return f"{COUNTED_BY_KERAS}: {total:,}{frozen}"


_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
"""Recurrent layers: how many blocks of ``units`` their kernels hold (LSTM: input, forget, cell, output)."""


def _recurrent_formula(layer: Any, weights: list[Any], names: list[str]) -> tuple[str, str] | None:
    """``gates·(units·(inputs + units) + units)`` for SimpleRNN, GRU and LSTM, and what the terms are.

    Keras 3's GRU has ``reset_after=True`` by default: two bias vectors per gate (one for the
    input, one for the recurrent step), so ``3·units·(inputs + units + 2)``. None for other layers.
    """
    gates = _GATES.get(type(layer).__name__)
    shapes = {name: tuple(int(d) for d in weight.shape) for name, weight in zip(names, weights, strict=True)}
    kernel, recurrent = shapes.get("kernel"), shapes.get("recurrent_kernel")
    if gates is None or kernel is None or recurrent is None or len(kernel) != 2 or len(recurrent) != 2:
        return None
    inputs, units = kernel[0], recurrent[0]
    if kernel[1] != gates * units or recurrent[1] != gates * units:
        return None
    bias = shapes.get("bias")
    if bias is None and len(shapes) == 2:
        biases = 0
    elif bias == (gates * units,):
        biases = 1
    elif bias == (2, gates * units):
        biases = 2
    else:
        return None
    head = "" if gates == 1 else f"{gates}·"
    if biases == 1 and gates > 1:
        formula = f"{head}({units:,}·({inputs:,} + {units:,}) + {units:,})"
    elif biases == 1:
        formula = f"{units:,}·({inputs:,} + {units:,}) + {units:,}"
    else:
        formula = f"{head}{units:,}·({inputs:,} + {units:,}{' + 2' if biases == 2 else ''})"
    if gates == 1:
        return formula, ""
    each = ("units·(inputs + units)", "units·(inputs + units) + units", "units·(inputs + units + 2)")[biases]
    names = {3: "update, reset and candidate", 4: "input, forget, cell and output"}[gates]
    return formula, f"{names} gates, each {each}" + (": reset_after, 2 biases per unit" if biases == 2 else "")


def _bidirectional_formula(layer: Any) -> tuple[str, int, str] | None:
    """The forward layer's formula, its count and its type, when a Bidirectional wraps a recurrent layer."""
    forward = getattr(layer, "forward_layer", None)
    if forward is None:
        return None
    weights = list(forward.weights)
    formula = _recurrent_formula(forward, weights, [_short_name(w) for w in weights])
    if formula is None:
        return None
    return formula[0], sum(_size(w) for w in weights), type(forward).__name__


def _is_nested_model(layer: Any) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "inputs") and "Model" in _class_names(layer)


def _type_label(layer: Any, trainable: int) -> str:
    own = type(layer).__name__
    if not _is_nested_model(layer):
        return own
    from dlworkflow.models.base import base_kind, is_base

    weighted = [sublayer for sublayer in layer.layers if sublayer.weights]
    normalizations = [sub for sub in weighted if "BatchNormalization" in _class_names(sub)]
    others = [sub for sub in weighted if "BatchNormalization" not in _class_names(sub)]
    unfrozen = [sub for sub in others if sub.trainable]
    if trainable == 0:
        state = "frozen"
    elif len(unfrozen) == len(others):
        frozen_normalization = any(not sub.trainable for sub in normalizations)
        state = "trainable, BatchNormalization frozen" if frozen_normalization else "trainable"
    else:
        state = f"partly trainable: top {len(unfrozen)} of {len(others)} layers with weights"
    kind = base_kind(layer) if is_base(layer) else f"nested {own} model"
    label = str(layer.name) if is_base(layer) else own
    return f"{label} ({kind}, {state})" if weighted else f"{label} ({kind})"


def _spatial(shape: Any) -> tuple[int, ...] | None:
    """The spatial sizes of a channels-last shape such as (None, 32, 32, 3), or None if unknown."""
    try:
        sizes = tuple(shape)[1:-1]
    except TypeError:
        return None
    if not sizes or any(size is None for size in sizes):
        return None
    return tuple(int(size) for size in sizes)


def _times(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(int(v) for v in value)


def shape_note(layer: Any) -> str:
    """How a convolution, pooling or Flatten layer changes the shape of its input.

    Convolutions and pooling: the spatial size before and after, with the reason —
    ``32×32 → 30×30: a 3×3 kernel without padding loses 1 border pixel on each side``,
    ``30×30 → 15×15: 2×2 pooling halves each side``, ``padding='same' keeps the size``, the
    stride arithmetic otherwise. Flatten: ``4·4·50 = 800 values``. Global pooling: one
    value per channel. Embedding: one vector per token (``20 token ids → 20×16``). Cropping1D:
    the steps it keeps (``2,032 → 32: keeps the first 32``, the token ids of a text beside other
    inputs); Concatenate: ``32 + 2,000 = 2,032 values side by side``. SimpleRNN,
    GRU, LSTM (and Bidirectional): the steps in and what comes out (the values after the last
    step, or every step's with ``return_sequences``). Other layers (and channels-first data):
    an empty note.

    Args:
        layer: A built Keras layer.

    Returns:
        The note, or ``""``.

    Example:
        >>> shape_note(model.get_layer("max_pooling2d"))  # doctest: +SKIP
        '30×30 → 15×15: 2×2 pooling halves each side'
    """
    own = type(layer).__name__
    if own == "Concatenate":
        return _concatenate_note(layer)
    try:
        before = layer.input.shape
        after = layer.output.shape
    except (AttributeError, ValueError, TypeError):
        return ""
    if own == "Cropping1D":
        return _cropping_note(layer, tuple(before))
    if own == "Flatten":
        dims = [d for d in tuple(before)[1:]]
        if not dims or any(d is None for d in dims):
            return ""
        total = math.prod(int(d) for d in dims)
        if len(dims) == 1:
            return f"{total:,} values (already flat)"
        return f"{'·'.join(f'{int(d):,}' for d in dims)} = {total:,} values"
    sequence = _sequence_note(layer, tuple(before), tuple(after))
    if sequence is not None:
        return sequence
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return ""
    if own.startswith("Global"):
        channels = tuple(after)[-1]
        sizes = _spatial(before)
        if sizes is None or channels is None:
            return ""
        return f"{_times(sizes)}×{int(channels)} → {int(channels)}: global pooling keeps one value per channel"
    is_convolution = hasattr(layer, "kernel_size") and hasattr(layer, "strides")
    is_pooling = hasattr(layer, "pool_size") and hasattr(layer, "strides")
    if not (is_convolution or is_pooling) or own.endswith("Transpose"):
        return ""
    sizes_in, sizes_out = _spatial(before), _spatial(after)
    if sizes_in is None or sizes_out is None or len(sizes_in) != len(sizes_out):
        return ""
    rank = len(sizes_in)
    window = _tuple(layer.kernel_size if is_convolution else layer.pool_size, rank)
    strides = _tuple(layer.strides, rank)
    padding = str(getattr(layer, "padding", "valid")).lower()
    dilation = _tuple(getattr(layer, "dilation_rate", 1), rank) if is_convolution else (1,) * rank
    head = f"{_times(sizes_in)} → {_times(sizes_out)}"
    return f"{head}: {_shape_reason(is_convolution, window, strides, padding, dilation, sizes_in, sizes_out)}"


def _concatenate_note(layer: Any) -> str:
    """``32 + 5 = 37 values side by side`` for a Concatenate of flat inputs (a text branch beside other inputs)."""
    try:
        widths = [tuple(tensor.shape)[-1] for tensor in layer.input]
    except (AttributeError, ValueError, TypeError):
        return ""
    if len(widths) < 2 or any(width is None for width in widths):
        return ""
    return " + ".join(f"{int(width):,}" for width in widths) + f" = {sum(map(int, widths)):,} values side by side"


def _cropping_note(layer: Any, before: tuple[Any, ...]) -> str:
    """Which steps a Cropping1D keeps: ``2,032 → the first 32`` (a text's token ids), ``→ the last 2,000``."""
    try:
        start, end = (int(size) for size in layer.cropping)
    except (AttributeError, TypeError, ValueError):
        return ""
    if len(before) != 3 or before[1] is None:
        return ""
    steps = int(before[1])
    kept = steps - start - end
    if not start:
        return f"{steps:,} → {kept:,}: keeps the first {kept:,}"
    if not end:
        return f"{steps:,} → {kept:,}: keeps the last {kept:,}"
    return f"{steps:,} → {kept:,}: drops {start:,} at the start and {end:,} at the end"


def _sequence_note(layer: Any, before: tuple[Any, ...], after: tuple[Any, ...]) -> str | None:
    """Embedding and recurrent layers: what happens to the steps; None for other layers."""
    own = type(layer).__name__
    recurrent = own in _GATES or (own == "Bidirectional" and type(getattr(layer, "forward_layer", None)).__name__ in _GATES)
    if own != "Embedding" and not recurrent:
        return None
    if own == "Embedding":
        if len(before) != 2 or len(after) != 3 or before[1] is None:
            return ""
        return f"{int(before[1]):,} token ids → {int(before[1]):,}×{int(after[2]):,}: one vector of {int(after[2]):,} per token"
    if len(before) != 3 or before[1] is None or after[-1] is None:
        return ""
    steps, width = int(before[1]), int(after[-1])
    if own == "Bidirectional" and len(after) == 2 and width % 2 == 0:
        return f"{steps:,} steps → {width:,}: the {width // 2:,} values after the last step, forward and backward"
    if len(after) == 3:
        return f"{steps:,} steps → {steps:,}×{width:,}: return_sequences keeps the {width:,} values of every step"
    return f"{steps:,} steps → {width:,}: the {width:,} values after the last step"


def _shape_reason(
    is_convolution: bool,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
    sizes_in: tuple[int, ...],
    sizes_out: tuple[int, ...],
) -> str:
    flat = len(window) == 1
    side = "the length" if flat else "each side"
    if is_convolution:
        what = f"a kernel of size {window[0]}" if flat else f"a {_times(window)} kernel"
    else:
        what = f"pooling of size {window[0]}" if flat else f"{_times(window)} pooling"
    if any(d != 1 for d in dilation):
        spans = tuple((w - 1) * d + 1 for w, d in zip(window, dilation, strict=True))
        what += f" (dilation {_times(dilation)}: it spans {_times(spans)})"
        window = spans
    uniform_stride = len(set(strides)) == 1
    if padding == "same":
        if all(s == 1 for s in strides):
            return f"padding='same' keeps the size ({what} with zeros added around the border)"
        if uniform_stride:
            return (
                f"{what} with stride {strides[0]} and padding='same': {side} is divided by {strides[0]}, rounding up"
            )
        return f"{what} with strides {_times(strides)} and padding='same': each side is divided by its stride, rounding up"
    if not is_convolution and window == strides and len(set(window)) == 1 and window[0] > 1:
        factor = window[0]
        verb = f"halves {side}" if factor == 2 else f"divides {side} by {factor}"
        exact = all(n % factor == 0 for n in sizes_in)
        return f"{what} {verb}" + ("" if exact else ", rounding down")
    if all(s == 1 for s in strides):
        if len(set(window)) == 1 and window[0] % 2 == 1:
            lost = (window[0] - 1) // 2
            plural = "" if lost == 1 else "s"
            if flat:
                return f"{what} without padding loses {lost} step{plural} at each end"
            return f"{what} without padding loses {lost} border pixel{plural} on each side"
        shrink = tuple(w - 1 for w in window)
        return f"{what} without padding makes {side} {_times(shrink)} smaller (size − kernel + 1)"
    terms = [
        f"⌊({n} − {w}) / {s}⌋ + 1 = {out}"
        for n, w, s, out in zip(sizes_in, window, strides, sizes_out, strict=True)
    ]
    distinct = list(dict.fromkeys(terms))
    stride_text = f"stride {strides[0]}" if uniform_stride else f"strides {_times(strides)}"
    return f"{what} with {stride_text}, no padding: " + ", ".join(distinct)


def explain_parameters(model: Any) -> ParameterReport:
    """Count a model's parameters per layer and explain each count.

    Counts come from the weights themselves (trainable and non-trainable), so they equal
    what ``model.summary()`` shows; totals are taken over the model's distinct weights. A
    nested model, such as the pretrained base of ``[model.base]``, is one row: its type reads
    ``DenseNet121 (pretrained base, frozen)`` (or ``trainable, BatchNormalization frozen``,
    or ``partly trainable: top 20 of 120 layers with weights`` after fine-tuning unfroze the
    top layers) and its formula ``counted by Keras: 428 layers``. Called after :func:`dlworkflow.training.fit_model` with a fine-tune
    stage, the report shows the unfrozen counts.

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
                type=_type_label(layer, trainable),
                output_shape=_output_shape(layer),
                total=trainable + non_trainable,
                trainable=trainable,
                non_trainable=non_trainable,
                formula=layer_formula(layer),
                note=shape_note(layer),
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
