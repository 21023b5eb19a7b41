"""The Keras work of a run behind one small interface, so the stages can run with a fake.

:class:`Trainer` is what the stages need from a deep-learning framework: build and compile
a model with its parameter report, fit it, predict and evaluate a part, save it. The
:class:`KerasTrainer` does it with Keras (imported inside its methods, after the backend is
chosen); ``tests/test_runner.py`` passes a fake that needs no framework at all.

Example:
    >>> trainer = KerasTrainer()
    >>> built = trainer.build(spec, dataset)  # doctest: +SKIP
    >>> built.parameters.total  # doctest: +SKIP
    14101
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from dlworkflow.data.dataset import Dataset, Part
    from dlworkflow.models.parameters import ParameterReport
    from dlworkflow.spec import Spec
    from dlworkflow.training.trainer import TrainingResult


@dataclass(frozen=True)
class BuiltModel:
    """The outcome of the build stage: a compiled model and how its parameters come about.

    Attributes:
        model: The compiled model (a ``keras.Model``, or a fake's stand-in).
        parameters: The per-layer report (``total``, ``trainable``, ``non_trainable``, ``layers``).
    """

    model: Any
    parameters: ParameterReport


class Trainer(Protocol):
    """What the run's stages ask of a framework."""

    def build(self, spec: Spec, dataset: Dataset) -> BuiltModel:
        """Seed, build and compile the spec's model for the dataset, and explain its parameters."""

    def fit(
        self, model: Any, spec: Spec, dataset: Dataset, *, callbacks: Sequence[Any],
        checkpoint_dir: Path | None, resume_from: Any, console: Console | None, quiet: bool,
    ) -> TrainingResult:
        """Train the model on the training part (validation as validation data), as ``[train]`` says."""

    def tensorboard_callback(self, setting: Any, folder: Path) -> Any:
        """A callback writing TensorBoard logs into ``folder``."""

    def predict(self, model: Any, part: Part, image: Any) -> np.ndarray:
        """The model's predictions for one part, batch by batch."""

    def evaluate(self, model: Any, part: Part, image: Any) -> dict[str, float]:
        """Keras' own loss and compiled metrics on one part."""

    def predict_and_evaluate(self, model: Any, part: Part, image: Any) -> tuple[np.ndarray, dict[str, float]]:
        """``predict`` and ``evaluate`` of one part, from one pass over its rows where the framework allows."""

    def save(self, model: Any, path: Path) -> None:
        """Save the model (``model.keras``)."""


class KerasTrainer:
    """The :class:`Trainer` of real runs: the project's models and training layers, on Keras.

    Example:
        >>> KerasTrainer().build(spec, dataset).model.count_params()  # doctest: +SKIP
        14101
    """

    def build(self, spec: Spec, dataset: Dataset) -> BuiltModel:
        from dlworkflow.models import build_model, explain_parameters
        from dlworkflow.training import compile_model, seed_everything
        from dlworkflow.training.distribution import distributed

        seed_everything(spec.train.seed)
        with distributed(spec, dataset):  # train.distribution: weights created on every device
            model = build_model(spec, dataset)
            compile_model(model, spec, dataset)
        return BuiltModel(model, explain_parameters(model))

    def fit(
        self, model: Any, spec: Spec, dataset: Dataset, *, callbacks: Sequence[Any],
        checkpoint_dir: Path | None, resume_from: Any, console: Console | None, quiet: bool,
    ) -> TrainingResult:
        from dlworkflow.training import fit_model

        return fit_model(
            model, spec, dataset, console=console, quiet=quiet, callbacks=list(callbacks),
            checkpoint_dir=checkpoint_dir, resume_from=resume_from,
        )

    def tensorboard_callback(self, setting: Any, folder: Path) -> Any:
        from dlworkflow.training.callbacks import tensorboard_callback

        return tensorboard_callback(setting, folder)

    def predict(self, model: Any, part: Part, image: Any) -> np.ndarray:
        from dlworkflow.training import predict

        return predict(model, part, image=image)

    def evaluate(self, model: Any, part: Part, image: Any) -> dict[str, float]:
        from dlworkflow.training import evaluate_model

        return evaluate_model(model, part, image=image)

    def predict_and_evaluate(self, model: Any, part: Part, image: Any) -> tuple[np.ndarray, dict[str, float]]:
        from dlworkflow.training.prediction import predict_and_evaluate

        return predict_and_evaluate(model, part, image=image)

    def save(self, model: Any, path: Path) -> None:
        from dlworkflow.training import save_model

        save_model(model, str(path))
