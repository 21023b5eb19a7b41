"""The lesson's weather model in plain Keras, timed: tomorrow's sunshine in Basel from 89 features.

The code follows the lesson's notes step by step: the light weather CSV, the first three
years (``data.loc[:365*3]``), all features but ``DATE`` and ``MONTH``, the target
``BASEL_sunshine`` one day later, ``train_test_split(test_size=0.3, random_state=0)`` and
half of the holdout for validation (767 / 164 rows), a Dense 100-50-1 network, Adam, mean
squared error with ``RootMeanSquaredError``, batch 32, 200 epochs, ``validation_data``
and ``verbose=2``. As in the lesson, the DataFrames go to ``model.fit`` as they are.

Options turn the same script into "the identical Keras call" of a dlworkflow run (same
backend, ``steps_per_execution``, seed, ``verbose=0``, float32 arrays). It prints one JSON line:
``fit_seconds`` (``model.fit`` alone, tracing and compiling included), ``process_seconds``,
the sizes and the last epoch's losses.

Example:
    python benchmarks/lesson_weather.py --backend jax
    python benchmarks/lesson_weather.py --backend jax --steps-per-execution 24 --verbose 0 --float32 --seed 0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from measurement import (
    fit_verbosity,
    keras_script_options,
    output_silenced,
    print_result,
    seed_if_asked,
    select_backend,
)

WEATHER_FILE = Path("weather") / "weather_prediction_dataset_light.csv"
"""The lesson's CSV, relative to the data home."""

LESSON_EPOCHS = 200
"""``model.fit(..., epochs=200)`` in the lesson."""

LESSON_BATCH_SIZE = 32
"""``model.fit(..., batch_size=32)`` in the lesson."""


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
    parser = keras_script_options(__doc__.splitlines()[0], default_epochs=LESSON_EPOCHS, default_verbose="2")
    return parser.parse_args(argv)


def load_lesson_split(data_home: Path) -> tuple[Any, Any, Any, Any]:
    """Load and split the weather data as the lesson's notes do.

    Args:
        data_home: The folder holding ``weather/``.

    Returns:
        ``(X_train, y_train, X_val, y_val)`` as pandas objects (767 and 164 rows).

    Example:
        >>> X_train, y_train, X_val, y_val = load_lesson_split(default_data_home())  # doctest: +SKIP
        >>> X_train.shape, X_val.shape  # doctest: +SKIP
        ((767, 89), (164, 89))
    """
    import pandas as pd
    from sklearn.model_selection import train_test_split

    data = pd.read_csv(data_home / WEATHER_FILE)
    nr_rows = 365 * 3
    X_data = data.loc[:nr_rows].drop(columns=["DATE", "MONTH"])
    y_data = data.loc[1 : (nr_rows + 1)]["BASEL_sunshine"]
    X_train, X_holdout, y_train, y_holdout = train_test_split(X_data, y_data, test_size=0.3, random_state=0)
    X_val, _X_test, y_val, _y_test = train_test_split(X_holdout, y_holdout, test_size=0.5, random_state=0)
    return X_train, y_train, X_val, y_val


def as_float32_arrays(*parts: Any) -> list[Any]:
    """Turn pandas objects into C-contiguous float32 arrays, as dlworkflow hands them to Keras.

    Args:
        *parts: DataFrames or Series.

    Returns:
        One array per part, in order.

    Example:
        >>> [a.dtype.name for a in as_float32_arrays(pd.Series([1, 2]))]  # doctest: +SKIP
        ['float32']
    """
    import numpy as np

    return [np.ascontiguousarray(part.to_numpy(dtype=np.float32)) for part in parts]


def create_nn(num_features: int) -> Any:
    """The lesson's ``create_nn``: Dense 100 (relu), Dense 50 (relu), Dense 1; 14,101 parameters.

    Args:
        num_features: Input width (89).

    Returns:
        The functional Keras model ``weather_prediction_model``.

    Example:
        >>> create_nn(89).count_params()  # doctest: +SKIP
        14101
    """
    import keras

    inputs = keras.Input(shape=(num_features,), name="input")
    layers_dense = keras.layers.Dense(100, "relu")(inputs)
    layers_dense = keras.layers.Dense(50, "relu")(layers_dense)
    outputs = keras.layers.Dense(1)(layers_dense)
    return keras.Model(inputs=inputs, outputs=outputs, name="weather_prediction_model")


def train(options: argparse.Namespace) -> dict[str, Any]:
    """Build, compile and fit the lesson's model with the validation set; time ``model.fit``.

    Args:
        options: From :func:`parse_options`.

    Returns:
        The measurement: ``fit_seconds``, backend, sizes and the last epoch's values.

    Example:
        >>> train(parse_options(["--epochs", "2"]))["train_samples"]  # doctest: +SKIP
        767
    """
    select_backend(options.backend)
    import keras

    X_train, y_train, X_val, y_val = load_lesson_split(options.data_home)
    if options.float32:
        X_train, y_train, X_val, y_val = as_float32_arrays(X_train, y_train, X_val, y_val)
    seed_if_asked(options.seed)
    model = create_nn(X_train.shape[1])
    model.compile(
        optimizer="adam",
        loss="mse",
        metrics=[keras.metrics.RootMeanSquaredError()],
        steps_per_execution=options.steps_per_execution,
    )
    with output_silenced():
        started = time.perf_counter()
        history = model.fit(
            X_train,
            y_train,
            batch_size=LESSON_BATCH_SIZE,
            epochs=options.epochs,
            validation_data=(X_val, y_val),
            verbose=fit_verbosity(options.verbose),
        )
        fit_seconds = time.perf_counter() - started
    return {
        "script": "lesson_weather",
        "backend": keras.backend.backend(),
        "steps_per_execution": options.steps_per_execution,
        "float32": options.float32,
        "seed": options.seed,
        "epochs": len(history.epoch),
        "batch_size": LESSON_BATCH_SIZE,
        "train_samples": len(X_train),
        "validation_samples": len(X_val),
        "fit_seconds": fit_seconds,
        "last_epoch": {key: float(values[-1]) for key, values in history.history.items()},
    }


def main(argv: list[str] | None = None) -> None:
    """Run the script: train once and print the JSON line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    print_result(train(parse_options(argv)))


if __name__ == "__main__":
    main()
