"""The lesson's penguins classifier in plain Keras, timed: the species from four body measurements.

The code follows the lesson's notes (episode 2) step by step: the penguins table (the lesson's
``sns.load_dataset('penguins')``, read here from the data mirror's CSV), ``island`` and ``sex``
dropped, then the rows with missing values, the species one-hot encoded with
``pd.get_dummies``, ``train_test_split(test_size=0.2, random_state=0, shuffle=True,
stratify=target)`` (273 / 69 rows), numpy's ``seed(0)`` and ``set_seed(2)``, a Dense 10 (relu)
→ Dense 3 (softmax) network, Adam and categorical cross-entropy, ``model.fit(X_train, y_train,
epochs=100)`` (batch 32, no validation set). As in the lesson, the DataFrames go to
``model.fit`` as they are.

Options turn the same script into "the identical Keras call" of a dlworkflow run (same
backend, ``steps_per_execution``, seed, ``verbose=0``, float32 arrays). It prints one JSON line:
``fit_seconds`` (``model.fit`` alone, tracing and compiling included), ``process_seconds``,
the sizes and the last epoch's loss.

Example:
    python benchmarks/lesson_penguins.py --backend tensorflow
    python benchmarks/lesson_penguins.py --backend jax --steps-per-execution 9 --verbose 0 --float32 --seed 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lesson_weather import as_float32_arrays
from measurement import (
    fit_verbosity,
    keras_script_options,
    output_silenced,
    print_result,
    seed_if_asked,
    select_backend,
)

PENGUINS_FILE = Path("penguins") / "penguins.csv"
"""The penguins table, relative to the data home."""

LESSON_EPOCHS = 100
"""``model.fit(X_train, y_train, epochs=100)`` in the lesson."""

LESSON_BATCH_SIZE = 32
"""Keras' default batch size, which the lesson keeps."""


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The options of :func:`measurement.keras_script_options`.

    Example:
        >>> parse_options(["--epochs", "5"]).epochs
        5
    """
    parser = keras_script_options(__doc__.splitlines()[0], default_epochs=LESSON_EPOCHS, default_verbose="auto")
    return parser.parse_args(argv)


def load_lesson_split(data_home: Path) -> tuple[Any, Any, Any, Any]:
    """Load, clean, encode and split the penguins as the lesson's notes do.

    Args:
        data_home: The folder holding ``penguins/``.

    Returns:
        ``(X_train, X_test, y_train, y_test)`` as pandas objects (273 and 69 rows).

    Example:
        >>> X_train, X_test, y_train, y_test = load_lesson_split(default_data_home())  # doctest: +SKIP
        >>> X_train.shape, y_train.shape  # doctest: +SKIP
        ((273, 4), (273, 3))
    """
    import pandas as pd
    from sklearn.model_selection import train_test_split

    penguins = pd.read_csv(data_home / PENGUINS_FILE)
    penguins["species"] = penguins["species"].astype("category")
    penguins_filtered = penguins.drop(columns=["island", "sex"]).dropna()
    penguins_features = penguins_filtered.drop(columns=["species"])
    target = pd.get_dummies(penguins_filtered["species"])
    return train_test_split(penguins_features, target, test_size=0.2, random_state=0, shuffle=True, stratify=target)


def create_nn(num_features: int) -> Any:
    """The lesson's network: Dense 10 (relu), Dense 3 (softmax); 83 parameters.

    Args:
        num_features: Input width (4).

    Returns:
        The functional Keras model.

    Example:
        >>> create_nn(4).count_params()  # doctest: +SKIP
        83
    """
    import keras

    inputs = keras.Input(shape=(num_features,))
    hidden_layer = keras.layers.Dense(10, activation="relu")(inputs)
    output_layer = keras.layers.Dense(3, activation="softmax")(hidden_layer)
    return keras.Model(inputs=inputs, outputs=output_layer)


def train(options: argparse.Namespace) -> dict[str, Any]:
    """Build, compile and fit the lesson's model; time ``model.fit``.

    Args:
        options: From :func:`parse_options`.

    Returns:
        The measurement: ``fit_seconds``, backend, sizes and the last epoch's loss.

    Example:
        >>> train(parse_options(["--epochs", "2"]))["train_samples"]  # doctest: +SKIP
        273
    """
    select_backend(options.backend)
    import keras

    X_train, _X_test, y_train, _y_test = load_lesson_split(options.data_home)
    if options.float32:
        X_train, y_train = as_float32_arrays(X_train, y_train)
    if options.seed is not None:
        seed_if_asked(options.seed)
    else:  # the lesson's own seeding: numpy's seed(0), and TensorFlow's set_seed(2) where it trains on TensorFlow
        import numpy as np

        np.random.seed(0)
        if options.backend == "tensorflow":
            _tensorflow_seed(2)
    model = create_nn(X_train.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(),
                  steps_per_execution=options.steps_per_execution)
    with output_silenced():
        started = time.perf_counter()
        history = model.fit(X_train, y_train, batch_size=LESSON_BATCH_SIZE, epochs=options.epochs,
                            verbose=fit_verbosity(options.verbose))
        fit_seconds = time.perf_counter() - started
    return {
        "script": "lesson_penguins",
        "backend": keras.backend.backend(),
        "steps_per_execution": options.steps_per_execution,
        "float32": options.float32,
        "seed": options.seed,
        "epochs": len(history.epoch),
        "batch_size": LESSON_BATCH_SIZE,
        "train_samples": len(X_train),
        "validation_samples": 0,
        "fit_seconds": fit_seconds,
        "last_epoch": {key: float(values[-1]) for key, values in history.history.items()},
    }


def _tensorflow_seed(seed: int) -> None:
    """The lesson's ``from tensorflow.random import set_seed; set_seed(2)``."""
    from tensorflow.random import set_seed

    set_seed(seed)


def main(argv: list[str] | None = None) -> None:
    """Run the script: train once and print the JSON line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    print_result(train(parse_options(argv)))


if __name__ == "__main__":
    main()
