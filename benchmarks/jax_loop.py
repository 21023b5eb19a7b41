"""A hand-written, jitted JAX training loop for the lesson's weather model: the practical limit.

The same data and split as ``lesson_weather.py`` (767 training and 164 validation rows,
as float32), the same network (Dense 100 relu - Dense 50 relu - Dense 1), the same
initialisation as Keras (Glorot-uniform kernels, zero biases), Adam with Keras' defaults
(learning rate 0.001, epsilon 1e-7; optax), mean squared error, batch 32, 200 epochs.

Each epoch is one jitted call: a fresh permutation of the training rows, then one
``lax.scan`` over all batches. The last, partial batch (767 = 23 x 32 + 31) is padded to 32
rows with a mask, so its loss and gradient are exactly those of its 31 real rows, as in
Keras. The call also returns the epoch's mean training loss and the validation loss, which
are brought to the host after every epoch, as Keras does for its per-epoch logs.

``fit_seconds`` counts what ``model.fit`` counts: from initialised weights to the last
epoch, creating the optimizer's state and compiling included (compiling also alone, as
``compile_seconds``). The script prints one JSON line.

Example:
    python benchmarks/jax_loop.py --epochs 200
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lesson_weather import (
    LESSON_BATCH_SIZE,
    LESSON_EPOCHS,
    as_float32_arrays,
    load_lesson_split,
)
from measurement import default_data_home, print_result

LAYER_WIDTHS = (100, 50, 1)
"""The lesson's Dense layers, input side first."""

KERAS_ADAM = {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-7}
"""``keras.optimizers.Adam()``'s defaults, in optax's names."""

Parameters = list[tuple[Any, Any]]
"""One ``(kernel, bias)`` pair per Dense layer."""


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``epochs``, ``batch_size``, ``seed`` and ``data_home``.

    Example:
        >>> parse_options([]).batch_size
        32
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=LESSON_EPOCHS, help="Epochs to train.")
    parser.add_argument("--batch-size", type=int, default=LESSON_BATCH_SIZE, help="Rows per step.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the initial weights and the shuffles.")
    parser.add_argument("--data-home", type=Path, default=default_data_home(), help="Folder with the shared data.")
    return parser.parse_args(argv)


def glorot_uniform_parameters(key: Any, num_inputs: int, widths: tuple[int, ...]) -> Parameters:
    """Initialise Dense layers as Keras does: Glorot-uniform kernels, zero biases.

    Args:
        key: A JAX random key.
        num_inputs: The input width.
        widths: Units per layer.

    Returns:
        The parameters, float32.

    Example:
        >>> [w.shape for w, _ in glorot_uniform_parameters(jax.random.key(0), 89, (100, 50, 1))]  # doctest: +SKIP
        [(89, 100), (100, 50), (50, 1)]
    """
    import jax
    import jax.numpy as jnp

    parameters = []
    fan_ins = (num_inputs, *widths[:-1])
    for fan_in, fan_out in zip(fan_ins, widths, strict=True):
        key, layer_key = jax.random.split(key)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        kernel = jax.random.uniform(layer_key, (fan_in, fan_out), jnp.float32, -limit, limit)
        parameters.append((kernel, jnp.zeros((fan_out,), jnp.float32)))
    return parameters


def predict(parameters: Parameters, x: Any) -> Any:
    """The network's output, one value per row.

    Args:
        parameters: From :func:`glorot_uniform_parameters`.
        x: Inputs ``(rows, features)``.

    Returns:
        Predictions ``(rows,)``.
    """
    import jax

    *hidden, (kernel, bias) = parameters
    for hidden_kernel, hidden_bias in hidden:
        x = jax.nn.relu(x @ hidden_kernel + hidden_bias)
    return (x @ kernel + bias)[:, 0]


def masked_mean_squared_error(parameters: Parameters, x: Any, y: Any, mask: Any) -> Any:
    """Mean squared error over the rows whose mask is 1 (padding rows count for nothing).

    Args:
        parameters: The network's parameters.
        x: A batch of inputs.
        y: Its targets.
        mask: 1.0 for real rows, 0.0 for padding.

    Returns:
        The scalar loss.
    """
    import jax.numpy as jnp

    squared_errors = (predict(parameters, x) - y) ** 2
    return jnp.sum(squared_errors * mask) / jnp.sum(mask)


def make_epoch(optimizer: Any, num_rows: int, batch_size: int) -> Callable[..., Any]:
    """Build the jitted function that trains one epoch and scores the validation set.

    Args:
        optimizer: An optax optimizer.
        num_rows: Training rows.
        batch_size: Rows per step.

    Returns:
        ``epoch(parameters, optimizer_state, key, x, y, x_val, y_val)`` returning
        ``(parameters, optimizer_state, mean training loss, validation loss)``.
    """
    import jax
    import jax.numpy as jnp
    import optax

    num_batches = math.ceil(num_rows / batch_size)
    padded_rows = num_batches * batch_size
    mask = (jnp.arange(padded_rows) < num_rows).astype(jnp.float32).reshape(num_batches, batch_size)
    loss_and_gradients = jax.value_and_grad(masked_mean_squared_error)

    def epoch(parameters: Parameters, state: Any, key: Any, x: Any, y: Any, x_val: Any, y_val: Any) -> Any:
        order = jax.random.permutation(key, num_rows)
        order = jnp.concatenate([order, jnp.zeros(padded_rows - num_rows, order.dtype)])
        batches = order.reshape(num_batches, batch_size)

        def step(carry: Any, batch: tuple[Any, Any]) -> tuple[Any, Any]:
            parameters, state = carry
            rows, batch_mask = batch
            loss, gradients = loss_and_gradients(parameters, x[rows], y[rows], batch_mask)
            updates, state = optimizer.update(gradients, state, parameters)
            return (optax.apply_updates(parameters, updates), state), loss * jnp.sum(batch_mask)

        (parameters, state), weighted_losses = jax.lax.scan(step, (parameters, state), (batches, mask))
        validation_loss = jnp.mean((predict(parameters, x_val) - y_val) ** 2)
        return parameters, state, jnp.sum(weighted_losses) / num_rows, validation_loss

    return jax.jit(epoch)


def train(options: argparse.Namespace) -> dict[str, Any]:
    """Load the lesson's split, compile the epoch function and train; time it.

    Args:
        options: From :func:`parse_options`.

    Returns:
        The measurement: ``fit_seconds`` (compile included), ``compile_seconds``, sizes and
        the last epoch's losses.

    Example:
        >>> train(parse_options(["--epochs", "2"]))["train_samples"]  # doctest: +SKIP
        767
    """
    import jax
    import optax

    x, y, x_val, y_val = (jax.device_put(part) for part in as_float32_arrays(*load_lesson_split(options.data_home)))
    initial_key, shuffle_key = jax.random.split(jax.random.key(options.seed))
    optimizer = optax.adam(**KERAS_ADAM)

    parameters = jax.block_until_ready(glorot_uniform_parameters(initial_key, x.shape[1], LAYER_WIDTHS))
    started = time.perf_counter()  # as Keras' fit: the weights exist, the optimizer's state does not
    state = optimizer.init(parameters)
    epoch = make_epoch(optimizer, x.shape[0], options.batch_size)
    epoch = epoch.lower(parameters, state, shuffle_key, x, y, x_val, y_val).compile()
    compile_seconds = time.perf_counter() - started
    history: list[tuple[float, float]] = []
    for _ in range(options.epochs):
        shuffle_key, epoch_key = jax.random.split(shuffle_key)
        parameters, state, train_loss, validation_loss = epoch(parameters, state, epoch_key, x, y, x_val, y_val)
        history.append((float(train_loss), float(validation_loss)))
    fit_seconds = time.perf_counter() - started
    return {
        "script": "jax_loop",
        "backend": "jax",
        "steps_per_execution": math.ceil(x.shape[0] / options.batch_size),
        "epochs": len(history),
        "batch_size": options.batch_size,
        "train_samples": int(x.shape[0]),
        "validation_samples": int(x_val.shape[0]),
        "fit_seconds": fit_seconds,
        "compile_seconds": compile_seconds,
        "last_epoch": {"loss": history[-1][0], "val_loss": history[-1][1]},
    }


def main(argv: list[str] | None = None) -> None:
    """Run the script: train once and print the JSON line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    print_result(train(parse_options(argv)))


if __name__ == "__main__":
    main()
