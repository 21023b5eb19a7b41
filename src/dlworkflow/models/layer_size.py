"""How many weights a spec's layer will hold, counted before Keras builds it, so that a huge one is refused.

Keras creates a layer's weights when the layer is first called, and fills them at once: ``units =
100000000000`` in a Dense layer asks for 400 GB and ends in an out-of-memory traceback. The count
here comes from the layer's arguments and its input shape alone, for the layers whose weights grow
with an argument (Dense, convolutions, Embedding, recurrent layers, attention); the model is refused
with a :class:`~dlworkflow.errors.SpecError` naming the layer when its weights, as float32, exceed
the memory available (:func:`dlworkflow.data.memory.available_memory`).

Example:
    >>> estimated_parameters("Dense", {"units": 10}, (None, 4))
    50
    >>> estimated_parameters("Conv2D", {"filters": 8, "kernel_size": 3}, (None, 28, 28, 1))
    80
    >>> estimated_parameters("Flatten", {}, (None, 28, 28, 1)) is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dlworkflow.errors import SpecError

BYTES_PER_WEIGHT = 4
"""float32, Keras' default weight type."""

_RECURRENT_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
_SIZE_ARGUMENTS = ("units", "filters", "output_dim", "input_dim", "num_heads", "key_dim", "depth_multiplier")


def estimated_parameters(layer_type: str, arguments: Mapping[str, Any], input_shape: Sequence[int | None]) -> int | None:
    """The number of weights a layer will create for an input shape, from its arguments, without building it.

    Args:
        layer_type: The ``keras.layers`` class name.
        arguments: The layer's arguments as the spec gives them.
        input_shape: The shape of its input, batch dimension first.

    Returns:
        The count (close to Keras' for these layers), or None for a layer whose weights do not grow with an
        argument (Flatten, Dropout, pooling...) or whose arguments are not plain whole numbers.

    Example:
        >>> estimated_parameters("Embedding", {"input_dim": 1000, "output_dim": 16}, (None, 20))
        16000
        >>> estimated_parameters("LSTM", {"units": 8}, (None, 10, 3))
        384
    """
    try:
        channels = _whole(input_shape[1] if arguments.get("data_format") == "channels_first" else input_shape[-1])
        if layer_type == "Dense":
            units = _whole(arguments["units"])
            return channels * units + units
        if layer_type == "Embedding":
            return _whole(arguments["input_dim"]) * _whole(arguments["output_dim"])
        if layer_type in _RECURRENT_GATES:
            units = _whole(arguments["units"])
            biases = 2 if layer_type == "GRU" else 1  # Keras' GRU keeps two biases (reset_after)
            return _RECURRENT_GATES[layer_type] * (units * (channels + units) + biases * units)
        if layer_type == "MultiHeadAttention":
            heads, key = _whole(arguments["num_heads"]), _whole(arguments["key_dim"])
            return 4 * heads * key * channels + 3 * heads * key + channels
        if layer_type.startswith(("Conv", "Convolution", "SeparableConv", "DepthwiseConv")):
            return _convolution(layer_type, arguments, channels)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return None


def check_layer_size(
    layer_type: str, arguments: Mapping[str, Any], input_shape: Sequence[int | None], *, path: str, source: str,
    total_before: int = 0,
) -> int:
    """Refuse a layer whose weights (with the model's so far) cannot fit in memory; return its weight count.

    Args:
        layer_type: The ``keras.layers`` class name.
        arguments: Its arguments.
        input_shape: Its input's shape, batch dimension first.
        path: Its spec path, ``model.layers[2]``.
        source: The spec file.
        total_before: Weights of the layers before it.

    Returns:
        Its estimated weight count (0 when it cannot be estimated).

    Raises:
        SpecError: at the layer's size argument when the weights exceed the memory available.

    Example:
        >>> check_layer_size("Dense", {"units": 10}, (None, 4), path="model.layers[0]", source="s.toml")
        50
    """
    # Imported here, not at the top: importing dlworkflow.data imports pandas.
    from dlworkflow.data.memory import available_memory, format_bytes

    count = estimated_parameters(layer_type, arguments, input_shape) or 0
    available = available_memory()
    if available is None or (total_before + count) * BYTES_PER_WEIGHT <= available:
        return count
    argument = next((name for name in _SIZE_ARGUMENTS if name in arguments), None)
    raise SpecError.single(
        source, f"{path}.{argument}" if argument else path,
        f"keras.layers.{layer_type} would hold {count:,} weights ({format_bytes(count * BYTES_PER_WEIGHT)} as "
        f"float32) on an input of shape {tuple(input_shape)}, more than the {format_bytes(available)} of memory "
        "available", got=arguments.get(argument) if argument else layer_type,
        hint=f"Lower {argument or 'its size'} (real networks hold thousands to millions of weights per layer). "
        "Nothing was built.",
    )


def _convolution(layer_type: str, arguments: Mapping[str, Any], channels: int) -> int:
    rank = int(next((character for character in layer_type if character.isdigit()), "2"))
    kernel_size = arguments["kernel_size"]
    kernel = (
        _whole(kernel_size) ** rank if not isinstance(kernel_size, (list, tuple))
        else math.prod(_whole(size) for size in kernel_size)
    )
    if layer_type.startswith("DepthwiseConv"):
        return kernel * channels * _whole(arguments.get("depth_multiplier", 1)) + channels
    filters = _whole(arguments["filters"])
    if layer_type.startswith("SeparableConv"):
        multiplier = _whole(arguments.get("depth_multiplier", 1))
        return kernel * channels * multiplier + channels * multiplier * filters + filters
    return kernel * channels * filters + filters


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a whole number")
    return value
