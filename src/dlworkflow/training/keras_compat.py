"""Every use of Keras internals, in one place: what each relies on, and why no public API does it.

dlworkflow uses Keras through its public API (``keras.Model``, ``keras.callbacks``,
``keras.metrics`` …) except for the few things below, each a small function here so that
the rest of the package never touches a ``keras.src`` module, a private method or an
undocumented attribute of a Keras object. Each one is exercised against the installed
Keras by ``tests/training/test_keras_compat.py``, which fails naming the internal when a
Keras upgrade removes or changes it. Written against Keras 3.15.

- :func:`registered_metric_names`: ``keras.src.metrics.ALL_OBJECTS_DICT``;
- :func:`tensorflow_reported_absent`: ``keras.src.utils.module_utils.tensorflow._available``;
- :func:`resolve_monitor_direction`: ``MonitorCallback.monitor_op`` and ``_set_monitor_op()``;
- :func:`early_stopping_counters`, :func:`set_early_stopping_counters`: ``EarlyStopping``'s
  ``wait``, ``best``, ``best_epoch``, ``stopped_epoch`` and ``best_weights``;
- :func:`is_compiled`: ``Trainer.compiled``;
- :func:`steps_per_execution_of`, :func:`set_steps_per_execution`: ``Trainer.steps_per_execution``
  and the cached ``train_function``, ``test_function`` and ``predict_function``;
- :func:`runs_jitted`, :func:`set_step_functions`: ``Trainer.run_eagerly``, ``Trainer.jit_compile``
  and the ``train_function`` and ``test_function`` slots (:mod:`dlworkflow.training.fused_epoch`).

Keras is imported inside the functions only: this module is imported by modules that must
not fix the backend when they are imported (:mod:`dlworkflow.training.tensorflow_guard`).

Example:
    >>> with tensorflow_reported_absent():  # doctest: +SKIP
    ...     keras.utils.set_random_seed(0)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


def registered_metric_names() -> list[str] | None:
    """Every name ``keras.metrics.get`` accepts, aliases included, or None when Keras no longer lists them.

    Relies on ``keras.src.metrics.ALL_OBJECTS_DICT``, the table ``keras.metrics.get`` looks
    names up in: class names, their snake_case forms and short aliases (``mae``, ``mse``,
    ``bce``). No public API lists these names: ``dir(keras.metrics)`` shows the classes and
    functions, not the aliases. Only the did-you-mean hint for an unknown metric uses them,
    so a Keras without the table makes the hint poorer, never a run fail.

    Returns:
        The names, in Keras' order, or None when the table is gone.

    Example:
        >>> "root_mean_squared_error" in registered_metric_names()
        True
    """
    try:
        from keras.src.metrics import ALL_OBJECTS_DICT
    except ImportError:
        return None
    return list(ALL_OBJECTS_DICT)


@contextlib.contextmanager
def tensorflow_reported_absent() -> Iterator[None]:
    """Within the block, Keras' "is TensorFlow available?" answers no; its cached answer is restored after.

    Relies on ``keras.src.utils.module_utils.tensorflow``, the lazy module through which
    Keras asks whether TensorFlow is installed (seeding, model saving), and on its cached
    answer ``_available``: asking imports TensorFlow (about 2.5 s and a screen of log lines),
    setting the cache to False skips that. No public API tells Keras not to use TensorFlow
    where it is optional. The caller decides when that is safe
    (:func:`~dlworkflow.training.tensorflow_guard.tensorflow_left_unimported`).

    Yields:
        Nothing.

    Example:
        >>> with tensorflow_reported_absent():  # doctest: +SKIP
        ...     model.save("model.keras")
    """
    from keras.src.utils import module_utils

    lazy_tensorflow = module_utils.tensorflow
    cached = lazy_tensorflow._available
    lazy_tensorflow._available = False
    try:
        yield
    finally:
        lazy_tensorflow._available = cached


def resolve_monitor_direction(callback: Any) -> None:
    """Let a monitoring callback decide now whether its value should go down or up.

    Relies on ``MonitorCallback.monitor_op`` staying None until the end of the first epoch
    and on ``MonitorCallback._set_monitor_op()``, which then sets it from ``mode`` (or, for
    ``mode="auto"``, from the model's compiled metrics) and raises ValueError when it cannot
    tell. Keras makes that decision inside its own ``on_epoch_end``, where the error would
    escape from ``fit`` mid-run; no public API makes it earlier, so that a subclass can turn
    the error into a spec error. Does nothing when the direction is already set.

    Args:
        callback: A ``keras.callbacks.EarlyStopping`` (or other ``MonitorCallback``) whose
            model is set.

    Raises:
        ValueError: Keras' message when ``mode="auto"`` cannot tell the direction.

    Example:
        >>> resolve_monitor_direction(stopping)  # in on_epoch_end, before Keras' own  # doctest: +SKIP
        >>> stopping.monitor_op is keras.ops.less  # doctest: +SKIP
        True
    """
    if callback.monitor_op is None:
        callback._set_monitor_op()


@dataclass(frozen=True)
class EarlyStoppingCounters:
    """Where a ``keras.callbacks.EarlyStopping`` stands, as Keras counts it (epochs 0-based).

    Attributes:
        wait: Epochs since the last improvement.
        best: The best monitored value so far, or None before the first one.
        best_epoch: The 0-based epoch of ``best`` (0 before the first one).
        stopped_epoch: The 0-based epoch after which it stopped training, 0 when it did not.
        kept_best_weights: Whether it holds the best epoch's weights, which it puts back
            at the end of training (``restore_best_weights``).

    Example:
        >>> early_stopping_counters(stopping).best_epoch  # doctest: +SKIP
        41
    """

    wait: int
    best: float | None
    best_epoch: int
    stopped_epoch: int
    kept_best_weights: bool


def early_stopping_counters(callback: Any) -> EarlyStoppingCounters:
    """Read the counters of an early-stopping callback.

    Relies on the attributes ``EarlyStopping`` keeps its state in: ``wait``, ``best``,
    ``best_epoch``, ``stopped_epoch`` and ``best_weights`` (``best_epoch`` exists only once
    training began). They are not documented; no public API reports which epoch was best or
    whether the callback stopped training, and a checkpoint needs them to go on counting.

    Args:
        callback: A ``keras.callbacks.EarlyStopping``.

    Returns:
        The :class:`EarlyStoppingCounters`.

    Example:
        >>> early_stopping_counters(stopping).stopped_epoch  # doctest: +SKIP
        51
    """
    best = getattr(callback, "best", None)
    return EarlyStoppingCounters(
        wait=int(getattr(callback, "wait", 0)),
        best=None if best is None else float(best),
        best_epoch=int(getattr(callback, "best_epoch", 0)),
        stopped_epoch=int(getattr(callback, "stopped_epoch", 0)),
        kept_best_weights=getattr(callback, "best_weights", None) is not None,
    )


def set_early_stopping_counters(callback: Any, *, wait: int, best: float | None, best_epoch: int) -> None:
    """Put an early-stopping callback's counters where a checkpoint left them.

    Relies on ``EarlyStopping.wait``, ``best`` and ``best_epoch`` being the whole of the
    state its ``on_epoch_end`` reads (they are reset by ``on_train_begin``, so call this
    after it). No public API sets them: ``EarlyStopping`` only takes a fixed ``baseline``.
    A resumed run then stops at the epoch the uninterrupted run would have.

    Args:
        callback: A ``keras.callbacks.EarlyStopping``, after its ``on_train_begin``.
        wait: Epochs since the last improvement.
        best: The best value so far; None leaves Keras' own (no value seen yet).
        best_epoch: The 0-based epoch of ``best``.

    Example:
        >>> set_early_stopping_counters(stopping, wait=3, best=2.5, best_epoch=41)  # doctest: +SKIP
    """
    callback.wait = int(wait)
    callback.best_epoch = int(best_epoch)
    if best is not None:
        callback.best = float(best)


def is_compiled(model: Any) -> bool:
    """Whether ``model.compile`` has been called on a model.

    Relies on ``Trainer.compiled``, the flag ``compile`` sets (and ``fit`` checks). It is not
    part of the documented ``keras.Model`` API, and nothing public answers the question.

    Args:
        model: A Keras model.

    Returns:
        True once compiled; False for a model (or any object) that was not.

    Example:
        >>> is_compiled(build_model(spec, dataset))  # doctest: +SKIP
        False
    """
    return bool(getattr(model, "compiled", False))


def steps_per_execution_of(model: Any) -> int:
    """The ``steps_per_execution`` a model was compiled with (1 when not compiled).

    Relies on ``Trainer.steps_per_execution``, where ``compile`` keeps its argument; no public
    getter returns it.

    Args:
        model: A Keras model.

    Returns:
        Batches per call into the backend.

    Example:
        >>> steps_per_execution_of(model)  # doctest: +SKIP
        24
    """
    return int(getattr(model, "steps_per_execution", 1) or 1)


def set_steps_per_execution(model: Any, steps: int) -> None:
    """Change a compiled model's batches per call into the backend without compiling it again.

    Relies on ``Trainer.steps_per_execution`` and on the backend functions Keras builds once
    and keeps in ``train_function``, ``test_function`` and ``predict_function``: setting them
    to None makes Keras rebuild them, for the new value, on their next use (``compile``
    does the same). No public API changes ``steps_per_execution``; compiling again would
    also reset the optimizer's and metrics' state.

    Args:
        model: A compiled Keras model.
        steps: The new batches per call.

    Example:
        >>> set_steps_per_execution(model, 1)  # evaluate and predict batch by batch  # doctest: +SKIP
    """
    model.steps_per_execution = int(steps)
    model.train_function = None
    model.test_function = None
    model.predict_function = None


def runs_jitted(model: Any) -> bool:
    """Whether a compiled model's steps are compiled by the backend (not eager).

    Relies on ``Trainer.run_eagerly`` and ``Trainer.jit_compile``, which ``compile`` resolves
    (``jit_compile="auto"`` becomes True or False); they are readable attributes but not
    documented as such.

    Args:
        model: A compiled Keras model.

    Returns:
        True when training steps are jitted.

    Example:
        >>> runs_jitted(model)  # doctest: +SKIP
        True
    """
    return not getattr(model, "run_eagerly", False) and bool(getattr(model, "jit_compile", False))


def set_step_functions(model: Any, *, train: Any, test: Any) -> None:
    """Give a compiled model the functions its ``fit`` calls for each execution of batches.

    Relies on ``Trainer.train_function`` and ``Trainer.test_function``: ``fit`` and
    ``evaluate`` call ``make_train_function()`` / ``make_test_function()``, which keep a
    function already there, then call it as ``function(state, iterator)`` once per execution
    (on JAX, with the trainer's state tuple: trainable, non-trainable, optimizer and metric
    variables for training; without the optimizer's for testing). ``compile`` and
    :func:`set_steps_per_execution` clear both. No public API replaces the loop over an
    execution's batches while keeping the rest of ``fit``.

    Args:
        model: A compiled Keras model.
        train: The ``train_function``, with Keras' signature for the backend in use.
        test: The ``test_function`` (validation during ``fit``, and ``evaluate``).

    Example:
        >>> set_step_functions(model, train=fused_step_function(model.train_step, 24),
        ...                    test=fused_step_function(model.test_step, 24))  # doctest: +SKIP
    """
    model.train_function = train
    model.test_function = test
