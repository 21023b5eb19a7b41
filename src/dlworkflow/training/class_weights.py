"""Class weights for an imbalanced classification: ``[train] class_weight``, from the training rows only.

``class_weight = "balanced"`` weighs each class's rows by ``rows / (classes · the class's rows)``,
scikit-learn's :func:`~sklearn.utils.class_weight.compute_class_weight`, counted on the training
part only (validation and test rows never shape training); a table ``{ Chinstrap = 2.0 }`` gives
weights by class label as the data writes it, every class it leaves out weighing 1. Keras gets them
as ``fit(class_weight={class index: weight})``: each training row's loss is multiplied by its
class's weight, for one-hot and integer targets alike, on every backend; the validation loss stays
unweighted.

Example:
    >>> weights = class_weights(spec, dataset)  # class_weight = "balanced", 90 and 10 rows  # doctest: +SKIP
    >>> weights.by_name()  # doctest: +SKIP
    {'common': 0.5555555555555556, 'rare': 5.0}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dlworkflow.errors import SpecError, suggestion

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec


@dataclass(frozen=True)
class ClassWeights:
    """The weight of each class's rows in the training loss.

    Attributes:
        names: The class labels, in the target's encoding order.
        weights: One weight per class, in the same order.
        setting: ``"balanced"`` or ``"table"`` (weights given in the spec).

    Example:
        >>> weights = ClassWeights(names=("common", "rare"), weights=(0.5, 5.0), setting="balanced")
        >>> weights.for_keras(), weights.by_name()
        ({0: 0.5, 1: 5.0}, {'common': 0.5, 'rare': 5.0})
    """

    names: tuple[str, ...]
    weights: tuple[float, ...]
    setting: str

    def for_keras(self) -> dict[int, float]:
        """The weights as ``model.fit(class_weight=...)`` takes them: class index → weight."""
        return dict(enumerate(self.weights))

    def by_name(self) -> dict[str, float]:
        """The weights by class label, as the record keeps them."""
        return dict(zip(self.names, self.weights))


def class_weights(spec: Spec, dataset: Dataset) -> ClassWeights | None:
    """The class weights of ``train.class_weight`` for this data, or None when the spec sets none.

    Args:
        spec: The validated spec (``train.class_weight``).
        dataset: The prepared, split data: its task, class names and training labels.

    Returns:
        One weight per class; None without ``train.class_weight``.

    Raises:
        SpecError: at ``train.class_weight`` when the target is not a class (a regression), or at
            ``train.class_weight.<label>`` for a label that is not one of the data's classes.

    Example:
        >>> class_weights(spec, dataset).by_name()  # class_weight = { Chinstrap = 2.0 }  # doctest: +SKIP
        {'Adelie': 1.0, 'Chinstrap': 2.0, 'Gentoo': 1.0}
    """
    setting = spec.train.class_weight
    if setting is None:
        return None
    if dataset.task != "classification":
        raise SpecError.single(
            spec.source, "train.class_weight", f"weighs classes, but the target {dataset.target!r} is a "
            "regression target (numbers)", got=setting,
            hint="Remove train.class_weight, or set data.task = 'classification' if the numbers are class codes.",
        )
    names = tuple(dataset.class_names or (str(index) for index in range(dataset.output_units)))
    if setting == "balanced":
        return ClassWeights(names, _balanced(dataset.train.labels, len(names)), "balanced")
    unknown = [label for label in setting if label not in names]
    if unknown:
        raise SpecError.single(
            spec.source, f"train.class_weight.{unknown[0]}", f"is not a class of the target {dataset.target!r}",
            got=unknown[0], hint=suggestion(unknown[0], list(names)),
        )
    return ClassWeights(names, tuple(float(setting.get(name, 1.0)) for name in names), "table")


def _balanced(labels: np.ndarray, num_classes: int) -> tuple[float, ...]:
    """scikit-learn's balanced weights for the classes that have training rows; 1 for a class without any."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(labels).astype(np.int64)
    present = np.unique(labels)
    weights = dict.fromkeys(range(num_classes), 1.0)  # a class without training rows never weighs a row
    weights.update(zip(present.tolist(), compute_class_weight("balanced", classes=present, y=labels).tolist()))
    return tuple(float(weights[index]) for index in range(num_classes))

