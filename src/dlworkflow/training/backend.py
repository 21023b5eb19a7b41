"""Pick the Keras backend for a spec and activate it before Keras is imported.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so the backend has to be
chosen from the spec alone: JAX for dense models, classifiers ending in softmax included (it
is the fastest for small networks on a CPU; such a classifier is trained on its logits, see
:func:`trains_on_logits`), TensorFlow for convolution and pooling layers and for
``module:function`` builders, whose layers are unknown until Keras is imported. When the
preferred backend is not installed the first installed one of JAX, TensorFlow and PyTorch is
used instead. In a process where Keras is already imported (a notebook) the process's
backend is used and a :class:`BackendWarning` says so, once per backend asked for.

This module never imports Keras at import time.

Example:
    >>> backend = choose_backend(spec)  # doctest: +SKIP
    >>> activate_backend(backend)  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from dlworkflow.errors import SpecError
from dlworkflow.spec.schema import Spec

BACKENDS: tuple[str, ...] = ("jax", "tensorflow", "torch")
"""Keras backends dlworkflow can use, in the order tried when the preferred one is missing."""

_PACKAGES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}


class BackendWarning(UserWarning):
    """The requested Keras backend could not be used (Keras was already imported with another)."""


def is_installed(backend: str) -> bool:
    """Whether the Python package of a Keras backend can be imported.

    Args:
        backend: ``jax``, ``tensorflow`` or ``torch``.

    Returns:
        True when the package is found on ``sys.path`` (it is not imported).

    Example:
        >>> is_installed("jax")
        True
    """
    package = _PACKAGES.get(backend, backend)
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


PROBABILITY_ACTIVATIONS = frozenset({"softmax", "sigmoid"})
CROSSENTROPY_LOSSES = frozenset({
    "auto", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
})


LOGITS_LAYERS = frozenset({"Dense", "EinsumDense", "Activation"})
"""Last layers whose output is ``activation(logits)``, so that training can take the logits instead."""


def needs_logits_crossentropy(spec: Spec) -> bool:
    """Whether the model ends in softmax/sigmoid and trains on a cross-entropy of probabilities.

    TensorFlow's Keras backend computes such a loss from the output layer's logits, which
    keeps its gradient alive when the probabilities saturate at 0 or 1; the JAX and PyTorch
    backends compute it from the clipped probabilities, where the gradient vanishes. On the
    lesson's unscaled penguins (body mass in grams) that is the difference between a network
    that learns and one whose loss never moves; on those backends such a model is therefore
    trained on its logits (:func:`trains_on_logits`).

    Args:
        spec: The validated spec.

    A loss with ``from_logits = true`` is computed from logits on every backend (the model
    then ends without softmax), so it needs nothing from TensorFlow.

    Returns:
        True for a ``[[model.layers]]`` model whose last layer has a probability activation
        and whose loss is ``auto`` or a cross-entropy of probabilities (not ``from_logits``).

    Example:
        >>> needs_logits_crossentropy(penguins_spec)  # doctest: +SKIP
        True
    """
    if not spec.model.layers:
        return False
    if spec.train.loss.arguments.get("from_logits") is True:
        return False
    activation = spec.model.layers[-1].arguments.get("activation")
    return activation in PROBABILITY_ACTIVATIONS and spec.train.loss.type in CROSSENTROPY_LOSSES


def trains_on_logits(spec: Spec, backend: str) -> bool:
    """Whether a model is trained on its logits with ``from_logits=True`` on this backend.

    True for a model that needs a logits cross-entropy (:func:`needs_logits_crossentropy`)
    whose last layer is one of :data:`LOGITS_LAYERS`, on a backend other than TensorFlow
    (TensorFlow's cross-entropy already reads the logits behind a softmax or sigmoid). The
    model that is saved, evaluated and predicted with is still the spec's, ending in its
    activation; only the gradient steps see the logits
    (:func:`dlworkflow.training.logits.logits_training_model`).

    Args:
        spec: The validated spec.
        backend: The Keras backend in use.

    Returns:
        Whether training takes the logits.

    Example:
        >>> trains_on_logits(penguins_spec, "jax"), trains_on_logits(penguins_spec, "tensorflow")  # doctest: +SKIP
        (True, False)
    """
    return (
        backend != "tensorflow"
        and needs_logits_crossentropy(spec)
        and spec.model.layers[-1].type in LOGITS_LAYERS
    )


def choose_backend(spec: Spec, *, installed: Callable[[str], bool] = is_installed) -> str:
    """Choose the Keras backend a spec should train with.

    ``train.backend`` wins when it is not ``"auto"``. Otherwise dense models get JAX (a
    classifier ending in softmax or sigmoid too: it is trained on its logits, see
    :func:`trains_on_logits`) and models with convolution or pooling layers get TensorFlow,
    as do ``model.builder`` specs (their layers are only known once Keras is imported) and
    the rare model that ends in a probability activation on a layer other than
    :data:`LOGITS_LAYERS` (an RNN, say) trained on cross-entropy. If the preferred backend is
    not installed, the first installed one of ``BACKENDS`` is returned.

    Args:
        spec: The validated spec.
        installed: Tells whether a backend's package is installed; tests pass a fake.

    Returns:
        ``"jax"``, ``"tensorflow"`` or ``"torch"``.

    Raises:
        SpecError: when ``train.backend`` is ``"auto"`` and no backend is installed.

    Example:
        >>> spec = validate_spec({"name": "m", "data": {"dataset": "penguins", "target": "species"},
        ...     "model": {"layers": [{"type": "Dense", "units": 3}]}})  # doctest: +SKIP
        >>> choose_backend(spec, installed=lambda name: True)  # doctest: +SKIP
        'jax'
    """
    requested = spec.train.backend
    if requested != "auto":
        return requested
    probabilities_only = needs_logits_crossentropy(spec) and not trains_on_logits(spec, "jax")
    if spec.model.builder is not None or spec.model.is_convolutional or probabilities_only:
        preferred = "tensorflow"
    else:
        preferred = "jax"
    for backend in (preferred, *BACKENDS):
        if installed(backend):
            return backend
    raise SpecError.single(
        spec.source,
        "train.backend",
        "no Keras backend is installed",
        got=requested,
        hint="Install one of them, e.g. `pip install jax` or `pip install tensorflow-cpu`.",
    )


@contextlib.contextmanager
def _native_stderr_held_back() -> Iterator[None]:
    """Hold back what native code writes to stderr while Keras imports its backend.

    TensorFlow's C++ runtime prints log lines at import ("All log messages before
    absl::InitializeLog() ...", the oneDNN notice) before ``TF_CPP_MIN_LOG_LEVEL`` can take
    effect. They are captured here and shown only if the import fails, so a user sees
    the import error with its context and otherwise a clean terminal.
    """
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (a notebook, a test runner)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(stderr_fd)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), stderr_fd)
        try:
            yield
        except BaseException:
            os.dup2(saved, stderr_fd)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, stderr_fd)
            os.close(saved)


COMPILATION_CACHE_VARIABLE = "DLW_COMPILATION_CACHE"
"""Environment variable naming the folder of JAX's compilation cache, or ``off``."""


def compilation_cache_dir() -> Path | None:
    """Where JAX keeps compiled training steps between runs: ``$DLW_COMPILATION_CACHE``, else
    ``$XDG_CACHE_HOME/dlworkflow/xla`` (``~/.cache/dlworkflow/xla``); None when set to ``off``.

    Example:
        >>> os.environ["DLW_COMPILATION_CACHE"] = "off"; compilation_cache_dir() is None
        True
    """
    setting = os.environ.get(COMPILATION_CACHE_VARIABLE, "")
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    if setting:
        return Path(setting).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "dlworkflow" / "xla"


def enable_compilation_cache() -> Path | None:
    """Let JAX keep compiled functions on disk, so that the next run of a spec skips compiling.

    For the lesson's small models, compiling is most of the training time (the weather
    model: about a second of XLA compilation against well under a second of training); a
    researcher runs a spec many times. JAX's persistent cache stores each compiled function
    under a key of its program, shapes, options and versions, and reuses it only when all
    of them match. Every compiled function is kept, also the quick ones: a weather run makes
    about a dozen small ones (Keras' eager metric arithmetic, weight conversions) that
    together take half a second to compile and a few milliseconds to load.

    Returns:
        The cache folder, or None when it is off (``DLW_COMPILATION_CACHE=off``) or cannot
        be created.

    Example:
        >>> enable_compilation_cache()  # doctest: +SKIP
        PosixPath('/home/ann/.cache/dlworkflow/xla')
    """
    directory = compilation_cache_dir()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory


def activate_backend(name: str, *, source: str = "<spec>") -> str:
    """Make Keras use a backend, importing Keras; call it before anything imports Keras.

    When Keras is not imported yet this sets ``KERAS_BACKEND`` (and, unless already set,
    ``TF_CPP_MIN_LOG_LEVEL=2`` to quiet TensorFlow's C++ logging), imports Keras and returns
    the backend it reports. When Keras is already imported (for example in a notebook) its
    backend cannot change any more: the backend in use is returned and a
    :class:`BackendWarning` says so, once per process for each backend asked for.

    Args:
        name: ``jax``, ``tensorflow`` or ``torch``.
        source: The spec file, for error messages.

    Returns:
        The backend Keras actually uses.

    Raises:
        SpecError: when ``name`` is not a Keras backend or its package is not installed.

    Example:
        >>> activate_backend("jax")  # doctest: +SKIP
        'jax'
    """
    if name not in BACKENDS:
        raise SpecError.single(
            source, "train.backend", "must be a Keras backend", got=name,
            hint="Valid options: " + ", ".join(repr(b) for b in BACKENDS) + ".",
        )
    keras_module = sys.modules.get("keras")
    if keras_module is None:
        if not is_installed(name):
            raise SpecError.single(
                source, "train.backend", f"the Keras backend {name!r} is not installed",
                hint=f"Install it (e.g. `pip install {_PACKAGES[name]}`) or set train.backend = 'auto'.",
            )
        os.environ["KERAS_BACKEND"] = name
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if name == "jax":
            enable_compilation_cache()
        with _native_stderr_held_back():
            import keras

        if name == "tensorflow":
            # TensorFlow's Python logger warns about tf.function retracing when the same
            # process trains several models (tuning trials); it is not the user's concern.
            logging.getLogger("tensorflow").setLevel(logging.ERROR)
        return keras.backend.backend()
    actual = keras_module.backend.backend()
    if actual != name:
        backend_mismatch(name)
    if actual != name and name not in _ANNOUNCED:
        _ANNOUNCED.add(name)
        warnings.warn(
            BackendWarning(
                f"the Keras backend {name!r} could not be used: Keras was already imported in this "
                f"process with the {actual!r} backend, and a backend cannot change after that. "
                f"This and every later run in this process that asks for {name!r} trains on "
                f"{actual!r} (each run's record keeps both: backend_requested and backend); this is "
                f"said once. To use {name!r}, restart the Python process (or the notebook kernel) "
                f"and train before anything imports Keras."
            ),
            stacklevel=2,
        )
    return actual


_ANNOUNCED: set[str] = set()

_MISMATCH_HANDLERS: list[Callable[[str], None]] = []


def on_backend_mismatch(handler: Callable[[str], None]) -> None:
    """Call ``handler(wanted)`` whenever Keras is already imported with a backend other than the one asked for.

    A warm ``dlw`` worker (:mod:`dlworkflow.warm.server`) has Keras imported before a command
    starts; its handler raises, so that the command is handed to a worker of the wanted
    backend instead of training on the wrong one. Without a handler the process's backend is
    used and a :class:`BackendWarning` says so.

    Args:
        handler: Called with the backend asked for; it may raise to stop the command.

    Example:
        >>> seen = []
        >>> on_backend_mismatch(seen.append); backend_mismatch("torch"); seen
        ['torch']
        >>> _MISMATCH_HANDLERS.clear()
    """
    _MISMATCH_HANDLERS.append(handler)


def backend_mismatch(wanted: str) -> None:
    """Tell the handlers of :func:`on_backend_mismatch` that ``wanted`` could not be activated.

    Example:
        >>> backend_mismatch("jax")  # no handler: nothing happens
    """
    for handler in _MISMATCH_HANDLERS:
        handler(wanted)
"""Backends a :class:`BackendWarning` has already been given for in this process.

The backend is process state (Keras fixes it at import), so saying it cannot change is said
once per process and backend asked for, not at every run of a notebook; each run's record
still names the backend asked for and the one used.
"""


def forget_backend_warnings() -> None:
    """Let :func:`activate_backend` warn again about every backend (for tests).

    Example:
        >>> forget_backend_warnings()
    """
    _ANNOUNCED.clear()
