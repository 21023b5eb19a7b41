"""What every measured script of ``benchmarks/`` shares: its options, its clock and its one JSON line.

The scripts ``lesson_weather.py``, ``lesson_cifar.py`` and ``jax_loop.py`` are run by
``run.py`` in a fresh process each. Each prints exactly one JSON line on standard output
(:func:`print_result`) with the seconds spent inside training (``fit_seconds``) and since
the process started (``process_seconds``); everything else a script or Keras prints goes
to ``/dev/null`` (:func:`output_silenced`) or standard error.

Example:
    >>> options = keras_script_options("x", default_epochs=3, default_verbose="auto").parse_args([])
    >>> options.backend, options.epochs, options.steps_per_execution, options.verbose
    ('tensorflow', 3, 1, 'auto')
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

IMPORTED_AT = time.perf_counter()
"""When this module was imported: the fallback start of the process where /proc is missing."""

DATA_HOME_VARIABLE = "DLW_DATA_HOME"
"""The environment variable dlworkflow reads for its data home; the scripts honour it too."""

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
"""The dlworkflow checkout this file lives in."""

SHARED_DATA = REPOSITORY_ROOT.parent / "shared" / "data"
"""The workshop's shared data folder beside the checkout (the default data home)."""

VERBOSE_CHOICES = ("auto", "0", "1", "2")
"""Values of ``--verbose``, as ``model.fit(verbose=...)`` takes them."""


def default_data_home() -> Path:
    """Return the data home: ``$DLW_DATA_HOME``, else the shared data beside the checkout.

    Returns:
        The folder holding ``weather/`` and ``cifar10_subset/``.

    Example:
        >>> (default_data_home() / "weather").name
        'weather'
    """
    configured = os.environ.get(DATA_HOME_VARIABLE)
    return Path(configured) if configured else SHARED_DATA


def keras_script_options(description: str, *, default_epochs: int, default_verbose: str) -> argparse.ArgumentParser:
    """Build the options shared by the plain-Keras scripts.

    Args:
        description: The script's ``--help`` text.
        default_epochs: The epochs the lesson (or the issue's benchmark) trains for.
        default_verbose: ``model.fit(verbose=...)`` as the lesson calls it.

    Returns:
        A parser with ``--backend``, ``--epochs``, ``--steps-per-execution``, ``--verbose``,
        ``--float32``, ``--seed`` and ``--data-home``; a script adds its own options.

    Example:
        >>> parser = keras_script_options("x", default_epochs=200, default_verbose="2")
        >>> parser.parse_args(["--backend", "jax", "--float32"]).float32
        True
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", default="tensorflow", choices=("tensorflow", "jax", "torch"),
                        help="Keras backend (set as KERAS_BACKEND before Keras is imported).")
    parser.add_argument("--epochs", type=int, default=default_epochs, help="Epochs to train.")
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="model.compile(steps_per_execution=...); 1 is Keras' default.")
    parser.add_argument("--verbose", default=default_verbose, choices=VERBOSE_CHOICES,
                        help="model.fit(verbose=...); the output goes to /dev/null.")
    parser.add_argument("--float32", action="store_true",
                        help="Feed C-contiguous float32 arrays (as dlworkflow does) instead of the lesson's objects.")
    parser.add_argument("--seed", type=int,
                        help="keras.utils.set_random_seed(SEED) before building the model, as dlworkflow does "
                             "(the lesson does not seed; on JAX this also imports TensorFlow).")
    parser.add_argument("--data-home", type=Path, default=default_data_home(),
                        help=f"Folder with the shared data (default: ${DATA_HOME_VARIABLE} or {SHARED_DATA}).")
    return parser


def fit_verbosity(verbose: str) -> int | str:
    """Turn a ``--verbose`` value into what ``model.fit`` takes.

    Args:
        verbose: One of :data:`VERBOSE_CHOICES`.

    Returns:
        ``"auto"`` or an int.

    Example:
        >>> fit_verbosity("2"), fit_verbosity("auto")
        (2, 'auto')
    """
    return verbose if verbose == "auto" else int(verbose)


def select_backend(backend: str) -> None:
    """Set ``KERAS_BACKEND``; call before anything imports Keras.

    Args:
        backend: ``tensorflow``, ``jax`` or ``torch``.

    Example:
        >>> select_backend("jax")
        >>> os.environ["KERAS_BACKEND"]
        'jax'
    """
    os.environ["KERAS_BACKEND"] = backend


def seed_if_asked(seed: int | None) -> None:
    """Seed Python, NumPy and Keras with ``keras.utils.set_random_seed`` when a seed is given.

    Args:
        seed: The seed, or None to leave the generators alone (as the lesson does).

    Example:
        >>> seed_if_asked(None)
    """
    if seed is not None:
        import keras

        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def output_silenced() -> Iterator[None]:
    """Send what is printed on standard output inside the block to ``/dev/null``.

    Keras' progress bar writes to ``sys.stdout``; the lesson's ``verbose`` setting is kept,
    its text is thrown away, and the one JSON line stays the only thing on standard output.

    Example:
        >>> with output_silenced():
        ...     print("not shown")
    """
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def process_seconds() -> float:
    """Return the seconds since this process started, interpreter start-up included.

    Reads the process start time from ``/proc`` (Linux, 10 ms resolution); elsewhere it
    returns the seconds since this module was imported.

    Returns:
        Seconds.

    Example:
        >>> 0 <= process_seconds() < 86_400
        True
    """
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        uptime = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, "starttime"
        seconds = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - IMPORTED_AT
    return seconds if seconds >= 0 else time.perf_counter() - IMPORTED_AT


def print_result(result: dict[str, Any]) -> None:
    """Print the script's one JSON line, with ``process_seconds`` added, on the real standard output.

    Args:
        result: What the script measured (``fit_seconds``, sizes, backend, ...).

    Example:
        >>> print_result({"fit_seconds": 1.5})  # doctest: +SKIP
        {"fit_seconds": 1.5, "process_seconds": 4.21}
    """
    line = json.dumps({**result, "process_seconds": process_seconds()})
    sys.__stdout__.write(line + "\n")
    sys.__stdout__.flush()
