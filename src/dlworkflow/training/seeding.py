"""Seed every random number generator a training run uses.

Example:
    >>> seed_everything(0)  # doctest: +SKIP
"""

from __future__ import annotations


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend with ``keras.utils.set_random_seed``.

    Call it right before building the model: the seed then fixes the initial weights, the
    dropout masks and the order of the shuffled batches, so two runs of the same spec give
    the same history. This is process-wide state by nature; the caller (``api``) decides
    when to call it, library functions never do.

    On a backend other than TensorFlow, TensorFlow's own generator is left alone unless
    TensorFlow is already imported: ``set_random_seed`` would otherwise import it (about 2.5 s
    and a screen of log lines) only to seed ``tf.data`` pipelines, which such runs do not use.

    Args:
        seed: ``train.seed``, 0 or more.

    Example:
        >>> seed_everything(spec.train.seed)  # doctest: +SKIP
        >>> model = build_model(spec, dataset)  # doctest: +SKIP
    """
    import keras

    from dlworkflow.training.tensorflow_guard import tensorflow_left_unimported

    with tensorflow_left_unimported():
        keras.utils.set_random_seed(int(seed))
