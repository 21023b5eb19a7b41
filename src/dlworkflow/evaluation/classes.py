"""The per-class report of a classification run: confusion matrices and per-class accuracy.

:func:`class_report` turns a model's predictions on each part into a JSON-ready dict that
the run record keeps (``RunRecord.classes``) and the plots read: which classes the model
gets right, and which it mistakes for which.

Example:
    >>> report = class_report(dataset, {"test": probabilities})  # doctest: +SKIP
    >>> report["names"], report["confusion"]["test"]  # doctest: +SKIP
    (['cat', 'dog'], [[3, 1], [0, 4]])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlworkflow.data.dataset import Dataset
from dlworkflow.evaluation.metrics import confusion, per_class_accuracy


def class_report(dataset: Dataset, predictions: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
    """Confusion matrix and per-class accuracy of each predicted part, for the run record.

    Args:
        dataset: The prepared, split dataset (its ``class_names`` and each part's ``labels``).
        predictions: ``{part name: predictions}``, each ``(rows, classes)`` probabilities or
            ``(rows,)`` class indices, aligned with the part's rows. Parts are reported in
            the dataset's order (``train``, ``validation``, ``test``); only predicted parts.

    Returns:
        For classification ``{"names": [class name, ...], "confusion": {part: matrix},
        "per_class_accuracy": {part: {class name: accuracy or None}}}``, where
        ``matrix[true][predicted]`` counts rows (rows are true classes, columns predicted
        ones) and the accuracy is None for a class with no rows in that part. None for
        regression.

    Raises:
        ValueError: When a part name is not a part of the dataset, or its predictions do not
            have one row per label.

    Example:
        >>> report = class_report(dataset, {"test": model_probabilities})  # doctest: +SKIP
        >>> report["per_class_accuracy"]["test"]  # doctest: +SKIP
        {'cat': 0.75, 'dog': 1.0}
    """
    if dataset.task != "classification":
        return None
    unknown = [name for name in predictions if name not in dataset.parts]
    if unknown:
        raise ValueError(
            f"class_report: {unknown[0]!r} is not a part of the dataset; "
            f"its parts are {', '.join(map(repr, dataset.parts))}."
        )
    num_classes = dataset.output_units
    names = list(dataset.class_names) if dataset.class_names is not None else [str(i) for i in range(num_classes)]
    report: dict[str, Any] = {"names": names, "confusion": {}, "per_class_accuracy": {}}
    for part_name, part in dataset.parts.items():
        if part_name not in predictions:
            continue
        predicted = np.asarray(predictions[part_name])
        if predicted.shape[:1] != part.labels.shape[:1]:
            raise ValueError(
                f"class_report: the {part_name} predictions have {predicted.shape[0] if predicted.ndim else 0} "
                f"rows for {part.size} labels; pass one prediction per row of the part."
            )
        report["confusion"][part_name] = confusion(part.labels, predicted, num_classes)
        report["per_class_accuracy"][part_name] = per_class_accuracy(part.labels, predicted, num_classes, names)
    return report
