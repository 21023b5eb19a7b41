"""The lesson's CIFAR-10 CNN in plain Keras, timed: the 87,060-parameter network on 5,000 images.

The code follows the lesson's notes: the first ``n = 5000`` training images, images
divided by 255.0, ``create_nn_extra_layer`` (Conv2D 50 - MaxPooling - Conv2D 50 -
MaxPooling - Conv2D 50 - Flatten - Dense 50 - Dense 10, logits), Adam,
``SparseCategoricalCrossentropy(from_logits=True)`` with accuracy, Keras' default batch
size (32) and verbosity, and the held-out images as ``validation_data``. The data are the
workshop's CIFAR-10 subset (``cifar10_subset/cifar10_subset.npz``: 5,000 training and
1,000 test images) instead of ``keras.datasets.cifar10.load_data()``, which needs the
network; the issue's benchmark trains 3 epochs (the notes train 10 or 20).

Options turn the same script into "the identical Keras call" of a dlworkflow run (same
backend, ``steps_per_execution``, seed, ``verbose=0``, float32 arrays, ``--train-rows 4000``
as dlworkflow's validation split leaves). It prints one JSON line: ``fit_seconds``
(``model.fit`` alone, tracing and compiling included), ``process_seconds``, the sizes and
the last epoch's values.

Example:
    python benchmarks/lesson_cifar.py --backend tensorflow
    python benchmarks/lesson_cifar.py --backend tensorflow --steps-per-execution 125 --verbose 0 --float32 \\
        --seed 0 --train-rows 4000
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

CIFAR_FILE = Path("cifar10_subset") / "cifar10_subset.npz"
"""The workshop's CIFAR-10 subset, relative to the data home."""

BENCHMARK_EPOCHS = 3
"""The epochs of the issue's benchmark."""

LESSON_TRAIN_ROWS = 5000
"""``n = 5000`` in the lesson."""

KERAS_DEFAULT_BATCH_SIZE = 32
"""What ``model.fit`` uses when the lesson gives no ``batch_size``."""


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The options of :func:`measurement.keras_script_options` and ``--train-rows``.

    Example:
        >>> parse_options(["--train-rows", "4000"]).train_rows
        4000
    """
    parser = keras_script_options(__doc__.splitlines()[0], default_epochs=BENCHMARK_EPOCHS, default_verbose="auto")
    parser.add_argument("--train-rows", type=int, default=LESSON_TRAIN_ROWS,
                        help="Train on the first N images (the lesson: 5000; dlworkflow's split leaves 4000).")
    return parser.parse_args(argv)


def load_lesson_images(data_home: Path, train_rows: int) -> tuple[Any, Any, Any, Any]:
    """Load the subset and scale it as the lesson does (``train_images / 255.0``, float64).

    Args:
        data_home: The folder holding ``cifar10_subset/``.
        train_rows: How many training images to keep, from the first.

    Returns:
        ``(train_images, train_labels, val_images, val_labels)``.

    Example:
        >>> images, labels, _, _ = load_lesson_images(default_data_home(), 5000)  # doctest: +SKIP
        >>> images.shape, images.dtype.name  # doctest: +SKIP
        ((5000, 32, 32, 3), 'float64')
    """
    import numpy as np

    with np.load(data_home / CIFAR_FILE) as data:
        train_images, train_labels = data["x_train"], data["y_train"]
        val_images, val_labels = data["x_test"], data["y_test"]
    train_images = train_images[:train_rows]
    train_labels = train_labels[:train_rows]
    train_images = train_images / 255.0
    val_images = val_images / 255.0
    return train_images, train_labels, val_images, val_labels


def as_dlworkflow_arrays(images: Any, labels: Any) -> tuple[Any, Any]:
    """Turn images into C-contiguous float32 and labels into int32, as dlworkflow hands them to Keras.

    Args:
        images: Scaled images.
        labels: Class indices.

    Returns:
        ``(images, labels)``.

    Example:
        >>> x, y = as_dlworkflow_arrays(np.zeros((2, 32, 32, 3)), np.array([1, 2]))  # doctest: +SKIP
        >>> x.dtype.name, y.dtype.name  # doctest: +SKIP
        ('float32', 'int32')
    """
    import numpy as np

    return np.ascontiguousarray(images, dtype=np.float32), np.ascontiguousarray(labels, dtype=np.int32)


def create_nn_extra_layer(input_shape: tuple[int, ...]) -> Any:
    """The lesson's ``create_nn_extra_layer``: three 3x3 convolutions of 50 filters; 87,060 parameters.

    Args:
        input_shape: One image's shape (32, 32, 3).

    Returns:
        The functional Keras model ``cifar_model`` (10 logits).

    Example:
        >>> create_nn_extra_layer((32, 32, 3)).count_params()  # doctest: +SKIP
        87060
    """
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(50, (3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(50, (3, 3), activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(50, (3, 3), activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(50, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="cifar_model")


def train(options: argparse.Namespace) -> dict[str, Any]:
    """Build, compile and fit the lesson's CNN with the validation images; time ``model.fit``.

    Args:
        options: From :func:`parse_options`.

    Returns:
        The measurement: ``fit_seconds``, backend, sizes and the last epoch's values.

    Example:
        >>> train(parse_options(["--epochs", "1"]))["train_samples"]  # doctest: +SKIP
        5000
    """
    select_backend(options.backend)
    import keras

    train_images, train_labels, val_images, val_labels = load_lesson_images(options.data_home, options.train_rows)
    if options.float32:
        train_images, train_labels = as_dlworkflow_arrays(train_images, train_labels)
        val_images, val_labels = as_dlworkflow_arrays(val_images, val_labels)
    seed_if_asked(options.seed)
    model = create_nn_extra_layer(train_images.shape[1:])
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=options.steps_per_execution,
    )
    with output_silenced():
        started = time.perf_counter()
        history = model.fit(
            train_images,
            train_labels,
            epochs=options.epochs,
            validation_data=(val_images, val_labels),
            verbose=fit_verbosity(options.verbose),
        )
        fit_seconds = time.perf_counter() - started
    return {
        "script": "lesson_cifar",
        "backend": keras.backend.backend(),
        "steps_per_execution": options.steps_per_execution,
        "float32": options.float32,
        "seed": options.seed,
        "epochs": len(history.epoch),
        "batch_size": KERAS_DEFAULT_BATCH_SIZE,
        "train_samples": len(train_images),
        "validation_samples": len(val_images),
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
