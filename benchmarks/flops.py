"""Analytic floating-point operations of a spec's network, per sample, for achieved GFLOP/s.

Only multiply-adds of the weight layers count (a multiply and an add are 2 operations);
activations, biases, pooling and the optimizer's update are left out, so the figures are
a slight underestimate:

- ``Dense``: ``2 * inputs * units`` forward.
- ``Conv2D`` (stride 1, ``valid`` padding): ``2 * k_h * k_w * c_in * filters * h_out * w_out``.
- Backward pass: about twice the forward pass (gradients of the inputs and of the weights).

A training epoch therefore costs ``3 * forward * train rows`` plus ``forward * validation
rows`` for the validation pass.

Example:
    >>> layers = [{"type": "Dense", "units": 100}, {"type": "Dense", "units": 50}, {"type": "Dense", "units": 1}]
    >>> forward_flops_per_sample(layers, (89,))
    27900
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKWARD_TO_FORWARD = 2.0
"""Backward pass ≈ this many forward passes."""

FORMULA = (
    "FLOPs counted analytically: Dense 2·in·out, Conv2D 2·k·k·c_in·c_out·H_out·W_out per sample forward; "
    "training = 3 × forward (backward ≈ 2 × forward) per training sample, plus 1 × forward per validation "
    "sample each epoch; pooling, activations, biases and optimizer updates not counted."
)
"""The formula, as printed beside the results."""


@dataclass(frozen=True)
class FitWork:
    """The analytic work of one ``fit``.

    Attributes:
        forward_per_sample: Forward FLOPs for one sample.
        train_samples: Training rows per epoch.
        validation_samples: Validation rows scored per epoch.
        epochs: Epochs trained.
    """

    forward_per_sample: int
    train_samples: int
    validation_samples: int
    epochs: int

    @property
    def total(self) -> float:
        """All FLOPs of the fit: training steps and validation passes.

        Example:
            >>> FitWork(10, 100, 20, 2).total
            6400.0
        """
        per_epoch = (1 + BACKWARD_TO_FORWARD) * self.forward_per_sample * self.train_samples
        per_epoch += self.forward_per_sample * self.validation_samples
        return float(per_epoch * self.epochs)


def spec_layers(spec: Path) -> list[dict[str, Any]]:
    """Read ``[[model.layers]]`` of a spec file.

    Args:
        spec: A dlworkflow TOML spec.

    Returns:
        The layer tables, in order.

    Example:
        >>> [layer["type"] for layer in spec_layers(Path("examples/weather.toml"))]  # doctest: +SKIP
        ['Dense', 'Dense', 'Dense']
    """
    with spec.open("rb") as file:
        return list(tomllib.load(file)["model"]["layers"])


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def forward_flops_per_sample(layers: Sequence[Mapping[str, Any]], input_shape: tuple[int, ...]) -> int:
    """Count the forward FLOPs of one sample through ``Dense``/``Conv2D``/``MaxPooling2D``/``Flatten`` layers.

    Args:
        layers: Layer tables as in a spec (``type`` plus Keras arguments).
        input_shape: One sample's shape: ``(features,)`` or ``(height, width, channels)``.

    Returns:
        The FLOPs.

    Raises:
        ValueError: For a layer type or argument this count does not know.

    Example:
        >>> conv = [{"type": "Conv2D", "filters": 50, "kernel_size": [3, 3]}]
        >>> forward_flops_per_sample(conv, (32, 32, 3))
        2430000
    """
    shape = tuple(input_shape)
    flops = 0
    for index, layer in enumerate(layers):
        kind = layer["type"]
        if kind == "Dense":
            flops += 2 * shape[-1] * layer["units"]
            shape = (*shape[:-1], layer["units"])
        elif kind == "Conv2D":
            if layer.get("padding", "valid") != "valid" or _pair(layer.get("strides", 1)) != (1, 1):
                raise ValueError(f"layers[{index}]: only stride 1 and 'valid' padding are counted")
            kernel_height, kernel_width = _pair(layer["kernel_size"])
            height, width, channels = shape
            shape = (height - kernel_height + 1, width - kernel_width + 1, layer["filters"])
            flops += 2 * kernel_height * kernel_width * channels * math.prod(shape)
        elif kind == "MaxPooling2D":
            pool_height, pool_width = _pair(layer.get("pool_size", 2))
            height, width, channels = shape
            shape = (height // pool_height, width // pool_width, channels)
        elif kind in ("Flatten", "Dropout"):
            shape = (math.prod(shape),) if kind == "Flatten" else shape
        else:
            raise ValueError(f"layers[{index}]: no FLOP count for layer type {kind!r}")
    return flops
