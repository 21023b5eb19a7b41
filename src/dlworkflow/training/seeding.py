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

    Args:
        seed: ``train.seed``, 0 or more.

    Example:
        >>> seed_everything(spec.train.seed)  # doctest: +SKIP
        >>> model = build_model(spec, dataset)  # doctest: +SKIP
    """
    import keras

    keras.utils.set_random_seed(int(seed))
