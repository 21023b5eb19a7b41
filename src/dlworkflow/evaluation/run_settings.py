"""How a run was set up, as far as the diagnosis' remedies need it (:class:`RunSettings`).

With it the remedies of :func:`~dlworkflow.evaluation.diagnosis.diagnose` name the spec keys
and values to change; without it they speak generally.

Example:
    >>> RunSettings(epochs=200, optimizer="adam").learning_rate is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlworkflow.spec.schema import Spec


@dataclass(frozen=True)
class RunSettings:
    """What the remedies need to know about how a run was set up, to name what to change.

    Every field may stay unknown (None, or empty): the remedies then speak generally.

    Attributes:
        epochs: Epochs asked for (``train.epochs``, plus ``fine_tune.epochs``).
        optimizer: ``train.optimizer.type``, e.g. ``adam``.
        learning_rate: ``train.optimizer.learning_rate`` (None: the optimizer's default).
        early_stopping: Whether ``[train.early_stopping]`` is on (None: unknown).
        patience: ``train.early_stopping.patience``.
        restore_best_weights: ``train.early_stopping.restore_best_weights``.
        layer_types: The ``type`` of each ``[[model.layers]]`` entry (None: unknown, e.g. a builder).
        hidden_units: ``units`` of every layer but the output layer, in order.
        dropout_rates: ``rate`` of every Dropout layer, in order.
        scaling: ``data.scaling``.
        images: Whether the inputs are images (augmentation applies).
        parameters: Trainable parameters of the model.
        training_rows: Rows (or images) in the training split.

    Example:
        >>> RunSettings(epochs=200, hidden_units=(100, 50), layer_types=("Dense", "Dense", "Dense")).hidden_units
        (100, 50)
    """

    epochs: int | None = None
    optimizer: str | None = None
    learning_rate: float | None = None
    early_stopping: bool | None = None
    patience: int | None = None
    restore_best_weights: bool = False
    layer_types: tuple[str, ...] | None = None
    hidden_units: tuple[int, ...] = ()
    dropout_rates: tuple[float, ...] = ()
    scaling: str | None = None
    images: bool = False
    parameters: int | None = None
    training_rows: int | None = None

    @classmethod
    def from_spec(
        cls, spec: Spec, *, images: bool = False, parameters: int | None = None, training_rows: int | None = None
    ) -> RunSettings:
        """The settings of a validated spec, plus what only the built run knows.

        Args:
            spec: The run's spec.
            images: Whether the dataset holds images (``dataset.image is not None``).
            parameters: Trainable parameters of the built model.
            training_rows: Rows in the training split.

        Returns:
            The settings.

        Example:
            >>> RunSettings.from_spec(spec, parameters=14101, training_rows=767).hidden_units  # doctest: +SKIP
            (100, 50)
        """
        train = spec.train
        stopping = train.early_stopping
        layers = spec.model.layers
        return cls(
            epochs=train.epochs + (train.fine_tune.epochs if train.fine_tune is not None else 0),
            optimizer=train.optimizer.type,
            learning_rate=train.optimizer.learning_rate,
            early_stopping=stopping is not None,
            patience=None if stopping is None else stopping.patience,
            restore_best_weights=stopping is not None and stopping.restore_best_weights,
            layer_types=None if spec.model.builder is not None else tuple(layer.type for layer in layers),
            hidden_units=tuple(
                int(layer.arguments["units"]) for layer in layers[:-1] if isinstance(layer.arguments.get("units"), int)
            ),
            dropout_rates=tuple(
                float(layer.arguments.get("rate", 0.0)) for layer in layers if layer.type == "Dropout"
            ),
            scaling=spec.data.scaling,
            images=images,
            parameters=parameters,
            training_rows=training_rows,
        )
