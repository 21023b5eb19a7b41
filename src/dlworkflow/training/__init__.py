"""Training layer: backend choice, seeding, compile/fit/evaluate/predict, callbacks.

Importing this package imports neither Keras nor pandas, so the backend can still be
chosen (and ``dlw --help`` stays fast):

    backend = activate_backend(choose_backend(spec))   # before anything imports Keras
    seed_everything(spec.train.seed)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    result = fit_model(model, spec, dataset)

Everything but the backend functions and ``seed_everything`` is loaded on first access.
``image_stream`` (streamed image parts, ``tf.data``) imports TensorFlow only when called.
The callback classes (``EpochProgress``, ``StopOnNaN``, ``TrackedEarlyStopping``) and
``make_callbacks`` subclass Keras classes: accessing them imports Keras.

Example:
    >>> from dlworkflow.training import choose_backend, activate_backend  # doctest: +SKIP
    >>> activate_backend(choose_backend(spec))  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports

from dlworkflow.training.backend import BACKENDS, BackendWarning, activate_backend, choose_backend
from dlworkflow.training.seeding import seed_everything
from dlworkflow.training.tensorflow_guard import save_model, tensorflow_left_unimported

if TYPE_CHECKING:
    from dlworkflow.training.callbacks import StopOnNaN, TrackedEarlyStopping, make_callbacks
    from dlworkflow.training.losses import make_loss, resolve_loss
    from dlworkflow.training.progress import EpochProgress
    from dlworkflow.training.streams import image_stream
    from dlworkflow.training.prediction import evaluate_model, predict
    from dlworkflow.training.trainer import (
        TrainingResult,
        compile_model,
        fit_model,
        make_metrics,
        make_optimizer,
        steps_per_execution,
    )

_TRAINER = "dlworkflow.training.trainer"
_LAZY = {
    "EpochProgress": "dlworkflow.training.progress",
    "StopOnNaN": "dlworkflow.training.callbacks",
    "TrackedEarlyStopping": "dlworkflow.training.callbacks",
    "make_callbacks": "dlworkflow.training.callbacks",
    "TrainingResult": _TRAINER,
    "compile_model": _TRAINER,
    "evaluate_model": "dlworkflow.training.prediction",
    "fit_model": _TRAINER,
    "make_metrics": _TRAINER,
    "make_optimizer": _TRAINER,
    "steps_per_execution": _TRAINER,
    "predict": "dlworkflow.training.prediction",
    "make_loss": "dlworkflow.training.losses",
    "resolve_loss": "dlworkflow.training.losses",
    "image_stream": "dlworkflow.training.streams",
}

__all__ = [
    "BACKENDS",
    "BackendWarning",
    "EpochProgress",
    "StopOnNaN",
    "TrackedEarlyStopping",
    "TrainingResult",
    "activate_backend",
    "choose_backend",
    "compile_model",
    "evaluate_model",
    "fit_model",
    "image_stream",
    "make_callbacks",
    "make_loss",
    "make_metrics",
    "make_optimizer",
    "predict",
    "resolve_loss",
    "save_model",
    "seed_everything",
    "steps_per_execution",
    "tensorflow_left_unimported",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
