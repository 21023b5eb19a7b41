"""Keep TensorFlow unimported on the other Keras backends.

Keras 3 asks "is TensorFlow available?" in a few backend-independent places (seeding,
model serialization) through one lazy module, and answering that question imports
TensorFlow: about 2.5 s and a screen of log lines, in a run that never uses it. While the
guard is active that question is answered "no" — only when TensorFlow is not imported yet
and the backend is not TensorFlow, so nothing that could hold a TensorFlow object is skipped.
How Keras is told so is a Keras internal (:func:`~dlworkflow.training.keras_compat.tensorflow_reported_absent`).

Example:
    >>> with tensorflow_left_unimported():  # doctest: +SKIP
    ...     model.save("model.keras")
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from dlworkflow.training.keras_compat import tensorflow_reported_absent


@contextlib.contextmanager
def tensorflow_left_unimported() -> Iterator[None]:
    """Within the block, Keras treats TensorFlow as absent unless it is needed or loaded.

    Yields:
        Nothing; restores Keras' cached answer afterwards.

    Example:
        >>> with tensorflow_left_unimported():  # doctest: +SKIP
        ...     keras.utils.set_random_seed(0)
    """
    import keras

    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        yield
        return
    with tensorflow_reported_absent():
        yield


def save_model(model: object, path: str) -> None:
    """Save a Keras model as a ``.keras`` file without importing TensorFlow on JAX.

    Args:
        model: The Keras model.
        path: Destination file, ending in ``.keras``.

    Example:
        >>> save_model(model, "run/model.keras")  # doctest: +SKIP
    """
    with tensorflow_left_unimported():
        model.save(path)  # type: ignore[attr-defined]
