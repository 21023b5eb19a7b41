"""The per-class report of a classification run: class counts, confusion matrices and per-class accuracy.

:func:`class_report` turns a model's predictions on each part into a JSON-ready dict that
the run record keeps (``RunRecord.classes``) and the plots read: how many rows of each class
every part holds (an imbalance shows here first), which classes the model gets right (the
accuracy on a class's own rows is its recall), and which it mistakes for which.

Example:
    >>> report = class_report(dataset, {"test": probabilities})  # doctest: +SKIP
    >>> report["names"], report["confusion"]["test"], report["counts"]["test"]  # doctest: +SKIP
    (['cat', 'dog'], [[3, 1], [0, 4]], {'cat': 4, 'dog': 4})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlworkflow.data.dataset import PART_NAMES, Dataset
from dlworkflow.evaluation.metrics import confusion, per_class_accuracy
from dlworkflow.formatting import BRIEF_DIGITS, format_number


def class_report(dataset: Dataset, predictions: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
    """Class counts of each part, and the confusion matrix and per-class accuracy of each predicted part.

    Args:
        dataset: The prepared, split dataset (its ``class_names`` and each part's ``labels``).
        predictions: ``{part name: predictions}``, each ``(rows, classes)`` probabilities or
            ``(rows,)`` class indices, aligned with the part's rows. Parts are reported in
            the dataset's order (``train``, ``validation``, ``test``); only predicted parts
            (counts: every part of ``dataset``).

    Returns:
        For classification ``{"names": [class name, ...], "confusion": {part: matrix},
        "per_class_accuracy": {part: {class name: accuracy or None}}}``, where
        ``matrix[true][predicted]`` counts rows (rows are true classes, columns predicted
        ones) and the accuracy is None for a class with no rows in that part (else the
        class's recall: the share of its rows predicted as it), then ``"counts": {part:
        {class name: rows}}``. None for regression.

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
    report["counts"] = class_counts(dataset, names)
    return report


def class_counts(dataset: Dataset, names: list[str]) -> dict[str, dict[str, int]]:
    """How many rows of each class every part of ``dataset`` holds.

    Args:
        dataset: A classification dataset (each part's ``labels`` are class indices).
        names: The class names, in the target's encoding order.

    Returns:
        ``{part: {class name: rows}}``, parts in the order train, validation, test (others after), classes
        in ``names``' order.

    Example:
        >>> class_counts(penguins, ["Adelie", "Chinstrap", "Gentoo"])["train"]  # doctest: +SKIP
        {'Adelie': 106, 'Chinstrap': 47, 'Gentoo': 86}
    """
    counts = {}
    ordered = [*(name for name in PART_NAMES if name in dataset.parts), *(n for n in dataset.parts if n not in PART_NAMES)]
    for part_name in ordered:
        part = dataset.parts[part_name]
        per_class = np.bincount(np.asarray(part.labels, dtype=np.int64), minlength=len(names))
        counts[part_name] = {name: int(count) for name, count in zip(names, per_class)}
    return counts


def class_balance_lines(
    classes: Mapping[str, Any] | None, class_weight: Mapping[str, float] | None, *, spec: Mapping[str, Any] | None = None
) -> list[str]:
    """A run's class balance in words, as ``dlw show`` and the report print it beside the per-class accuracy.

    Args:
        classes: The record's class report (:func:`class_report`; an older record has no ``counts``).
        class_weight: The record's ``training.class_weight`` (None: the classes weighed the same).
        spec: The run's resolved spec, to say whether the weights were ``'balanced'``.

    Returns:
        ``"rows per class (train / validation / test): common 208/76/94 · rare 12/4/6"`` when the
        report has counts, then ``"class weights in the training loss (balanced on the training rows):
        common 0.53 · rare 9.2"`` when training weighed them; no line for what the record lacks.

    Example:
        >>> class_balance_lines({"counts": {"train": {"a": 9, "b": 1}, "test": {"a": 3, "b": 1}}}, {"a": 0.56, "b": 5.0},
        ...                     spec={"train": {"class_weight": "balanced"}})
        ['rows per class (train / test): a 9/3 · b 1/1', 'class weights in the training loss (balanced on the training rows): a 0.56 · b 5']
    """
    lines = []
    counts = (classes or {}).get("counts") or {}
    if counts:
        names = list(next(iter(counts.values())))
        shown = (f"{name} {'/'.join(str(rows.get(name, 0)) for rows in counts.values())}" for name in names)
        lines.append(f"rows per class ({' / '.join(counts)}): " + " · ".join(shown))
    if class_weight:
        how = " (balanced on the training rows)" if ((spec or {}).get("train") or {}).get("class_weight") == "balanced" else ""
        weights = (f"{name} {format_number(weight, BRIEF_DIGITS)}" for name, weight in class_weight.items())
        lines.append(f"class weights in the training loss{how}: " + " · ".join(weights))
    return lines
