"""The fused epoch: on JAX, an execution's batches run as one compiled ``lax.scan``, not one call per batch.

With ``steps_per_execution`` above 1, Keras' JAX trainer still calls its jitted
``train_step`` once per batch from Python (``JAXTrainer._make_function`` unrolls the
execution as a Python loop): the batch-level callbacks run once per execution, but every
batch is one dispatch into XLA. On a small model that dispatch is most of a step's time.
:func:`fused_step_function` gives drop-in replacements for the model's ``train_function``
and ``test_function``: they take the execution's batches from the same iterator, in the same
order (Keras' own shuffle, ``np.random.permutation`` each epoch, so the same seed gives the
same order), stack the full-size ones and run them through the model's own ``train_step``
(``test_step``) as one jitted ``jax.lax.scan`` carrying the trainer's state (trainable,
non-trainable, optimizer and metric variables); a last, shorter batch follows through the
same step jitted on its own, as in Keras. Everything else is Keras' ``fit``: callbacks,
validation, early stopping, history. The arithmetic per batch is the same, so the history
matches Keras' loop to float32 rounding (``tests/training/test_fused_epoch.py``: 1e-5
relative; in practice identical). What stays per epoch is Keras' own work around the
steps: resetting metrics, writing the state back into the variables, the logs.

:func:`use_fused_epoch` decides and installs it: JAX, arrays in memory, jitted training, no
``keras.distribution`` and several batches per execution; ``DLW_FUSED_EPOCH=0`` turns it off.

Keras and JAX are imported inside the functions, so importing this module fixes no backend.

Example:
    >>> use_fused_epoch(model, streamed=False)  # after compile, before fit  # doctest: +SKIP
    True
    >>> model.fit(x, y, epochs=200, batch_size=32)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

SETTING = "DLW_FUSED_EPOCH"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) trains with Keras' own per-batch loop."""


def fused_epoch_enabled() -> bool:
    """Whether the fused epoch is allowed in this process (``DLW_FUSED_EPOCH``, on unless set to 0).

    Returns:
        False when the variable is ``0``, ``false``, ``no`` or ``off``; True otherwise.

    Example:
        >>> os.environ["DLW_FUSED_EPOCH"] = "off"; fused_epoch_enabled()
        False
        >>> os.environ["DLW_FUSED_EPOCH"] = "1"; fused_epoch_enabled()
        True
    """
    return os.environ.get(SETTING, "1").strip().lower() not in ("0", "false", "no", "off")


def can_fuse(model: Any, *, streamed: bool) -> bool:
    """Whether a compiled model's training can run as fused executions.

    Args:
        model: A compiled Keras model.
        streamed: Whether the training part is read from files batch by batch (a tf.data
            stream: its batches are produced while training, left to Keras' loop).

    Returns:
        True on the JAX backend, for in-memory data, a jitted, non-eager model without a
        ``keras.distribution`` or NNX, compiled with ``steps_per_execution`` above 1.

    Example:
        >>> can_fuse(model, streamed=False)  # weather on JAX, steps_per_execution 24  # doctest: +SKIP
        True
    """
    import keras

    from dlworkflow.training.keras_compat import runs_jitted, steps_per_execution_of

    return (
        not streamed
        and keras.backend.backend() == "jax"
        and keras.distribution.distribution() is None
        and not getattr(keras.config, "is_nnx_enabled", lambda: False)()  # Keras 3.10 has no NNX
        and runs_jitted(model)
        and steps_per_execution_of(model) > 1
    )


def use_fused_epoch(model: Any, *, streamed: bool) -> bool:
    """Install the fused ``train_function`` on a compiled model when it can and may be used.

    Call it after ``compile`` and before ``fit``; compiling again (or changing
    ``steps_per_execution``, :func:`one_batch_per_call`) puts Keras' own functions back.

    Args:
        model: A compiled Keras model.
        streamed: Whether the training part is streamed from files.

    Returns:
        Whether the model now trains with fused executions.

    Example:
        >>> use_fused_epoch(model, streamed=False)  # doctest: +SKIP
        True
    """
    if not fused_epoch_enabled() or not can_fuse(model, streamed=streamed):
        return False
    from dlworkflow.training.keras_compat import set_step_functions, steps_per_execution_of

    steps = steps_per_execution_of(model)
    set_step_functions(model, train=fused_step_function(model.train_step, steps),
                       test=fused_step_function(model.test_step, steps))
    return True


def one_batch_per_call(model: Any) -> None:
    """After training, evaluate and predict batch by batch again, with Keras' own functions.

    Several batches per call pay off in training; in TensorFlow's ``predict`` they cost more
    than they save (the outputs are gathered inside the call), and evaluation runs once.
    Keras rebuilds its train, evaluate and predict functions on their next use, so the fused
    ones go too.

    Args:
        model: A compiled Keras model.

    Example:
        >>> one_batch_per_call(model)  # after fit  # doctest: +SKIP
    """
    from dlworkflow.training.keras_compat import set_steps_per_execution, steps_per_execution_of

    if steps_per_execution_of(model) != 1:
        set_steps_per_execution(model, 1)


def fused_step_function(step: Callable[..., Any], steps: int) -> Callable[..., Any]:
    """A ``train_function`` (or ``test_function``) for Keras' JAX trainer: up to ``steps`` batches in one compiled call.

    Keras calls it as ``logs, state = function(state, iterator)`` once per execution.
    It draws up to ``steps`` batches from the iterator, as Keras' own function does. The
    leading run of batches with the first one's shapes (all of them but a shorter last one
    at the end of an epoch) is stacked and run as one jitted ``lax.scan`` of ``step``; a
    batch of another shape after them goes through ``step`` jitted on its own, as in Keras.
    An epoch is then one or two calls into XLA instead of one per batch, and the compiled
    programs are as many and about as large as Keras' own (the scan's body is the step).

    Args:
        step: The model's stateless ``train_step`` (or ``test_step``): ``(state, data) -> (logs, state)``.
        steps: Batches per execution (the model's ``steps_per_execution``).

    Returns:
        The function to set as the model's ``train_function`` (``test_function``).

    Example:
        >>> function = fused_step_function(model.train_step, 24)  # doctest: +SKIP
        >>> logs, state = function(state, iter(batches))  # doctest: +SKIP
    """
    import jax

    def scanned(state: Any, stacked: Any) -> Any:
        def body(carried: Any, batch: Any) -> tuple[Any, Any]:
            logs, carried = step(carried, batch)
            return carried, logs

        state, logs = jax.lax.scan(body, state, stacked)
        return jax.tree.map(lambda values: values[-1], logs), state

    scan_call = jax.jit(scanned, donate_argnums=0)
    step_call = jax.jit(step, donate_argnums=0)

    def function(state: Any, iterator: Iterator[Any]) -> Any:
        stacked, rest = _stack_leading(_take(iterator, steps))
        logs = None
        if stacked is not None:
            logs, state = scan_call(state, stacked)
        for batch in rest:
            logs, state = step_call(state, batch)
        return logs, state

    return function


def _take(iterator: Iterator[Any], steps: int) -> list[Any]:
    """Up to ``steps`` batches; an iterator already at its end raises StopIteration, as in Keras."""
    batches = [next(iterator)]
    for _ in range(steps - 1):
        try:
            batches.append(next(iterator))
        except StopIteration:
            break
    return batches


def _stack_leading(batches: list[Any]) -> tuple[Any, tuple[Any, ...]]:
    """The leading same-shaped batches stacked on a new first axis (None for fewer than two); the rest as they are."""
    import jax
    import numpy as np

    shapes = [jax.tree.map(np.shape, batch) for batch in batches]
    same = 1
    while same < len(batches) and shapes[same] == shapes[0]:
        same += 1
    if same < 2:
        return None, tuple(batches)

    def stack(*leaves: Any) -> Any:
        if all(isinstance(leaf, np.ndarray) for leaf in leaves):
            return np.stack(leaves)
        return jax.numpy.stack(leaves)

    return jax.tree.map(stack, *batches[:same]), tuple(batches[same:])
