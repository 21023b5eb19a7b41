"""Splitters: how rows become train, validation and test parts, looked up by ``split.type``.

Every splitter makes the scikit-learn calls of the workshop, so a spec reproduces the
lesson's rows exactly:

* first ``train_test_split(rows, test_size=test + validation, random_state=seed)``: train
  and a holdout;
* then ``train_test_split(holdout, test_size=test / (test + validation), random_state=seed)``:
  its first part is validation, its second part is test.

With ``validation = 0`` a single call with ``test_size=test`` makes train and test.
``stratified`` passes ``stratify=`` the *encoded* target (the one-hot matrix for one-hot
classes, as the lesson's ``stratify=target`` does: that gives a different split than
stratifying on 1-D labels), and the holdout's part of it for the second call.
``ordered`` never shuffles: train first, then validation, then test (no future rows in
training).

Data that brings its own test set (an ``.npz`` of images, a Keras image set) is split by
:func:`split_train_validation`: one call with ``test_size = validation`` on the training
rows, stratified on the class labels.

Example:
    >>> from dlworkflow.spec import SplitSpec
    >>> parts = split_rows(SplitSpec(type="ordered", test=0.2), np.zeros(10, np.float32), task="regression")
    >>> {name: part.tolist() for name, part in parts.items()}
    {'train': [0, 1, 2, 3, 4, 5, 6, 7], 'test': [8, 9]}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from dlworkflow.data.dataset import Task
from dlworkflow.errors import DataError, Problem, SpecError
from dlworkflow.spec.registries import SPLIT_TYPES, Registry
from dlworkflow.spec.schema import SplitSpec

Parts = dict[str, np.ndarray]
"""Part name (``train``, ``validation``, ``test``) → positional row indices."""


@dataclass(frozen=True)
class Splitter:
    """One way of splitting rows, built on ``sklearn.model_selection.train_test_split``.

    Args:
        shuffle: Shuffle the rows (``random_state`` = ``split.seed``); False keeps row order.
        stratify: Keep the class proportions of the encoded target in every part.

    Example:
        >>> from dlworkflow.spec import SplitSpec
        >>> parts = Splitter(shuffle=True)(np.zeros(20), SplitSpec(test=0.25, validation=0.25))
        >>> [len(part) for part in parts.values()]
        [10, 5, 5]
    """

    shuffle: bool
    stratify: bool = False

    def __call__(self, y: np.ndarray, split: SplitSpec) -> Parts:
        """Split row positions ``0 .. len(y) - 1`` into train, validation and test.

        Args:
            y: The encoded target (used only to stratify; its length is the number of rows).
            split: The ``[split]`` section.

        Returns:
            Positional indices per part; ``validation`` only when ``split.validation > 0``.

        Raises:
            ValueError: from scikit-learn when the rows cannot be split as asked.
        """
        rows = np.arange(len(y))
        holdout_size = split.test_fraction + split.validation
        train, holdout = self.cut(rows, holdout_size, y, seed=split.seed)
        if split.validation == 0:
            return {"train": train, "test": holdout}
        validation, test = self.cut(holdout, split.test_fraction / holdout_size, y, seed=split.seed)
        return {"train": train, "validation": validation, "test": test}

    def split_off_validation(self, y: np.ndarray, split: SplitSpec) -> Parts:
        """Split row positions ``0 .. len(y) - 1`` into train and validation only.

        For data that brings its own test set (an ``.npz`` of images, a Keras image set): one
        ``train_test_split(rows, test_size=split.validation, random_state=seed)`` call.

        Args:
            y: The target to stratify on (its length is the number of rows).
            split: The ``[split]`` section; ``split.test`` is not used.

        Returns:
            ``{"train": ..., "validation": ...}``, or only ``train`` (every row, in order) when
            ``split.validation`` is 0.

        Raises:
            ValueError: from scikit-learn when the rows cannot be split as asked.

        Example:
            >>> from dlworkflow.spec import SplitSpec
            >>> parts = Splitter(shuffle=False).split_off_validation(np.zeros(10), SplitSpec(validation=0.2))
            >>> {name: part.tolist() for name, part in parts.items()}
            {'train': [0, 1, 2, 3, 4, 5, 6, 7], 'validation': [8, 9]}
        """
        rows = np.arange(len(y))
        if split.validation == 0:
            return {"train": rows}
        train, validation = self.cut(rows, split.validation, y, seed=split.seed)
        return {"train": train, "validation": validation}

    def cut(self, rows: np.ndarray, fraction: float, y: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """One ``train_test_split`` call: cut ``fraction`` of ``rows`` off.

        Args:
            rows: Positions to split.
            fraction: ``test_size``: the share of ``rows`` in the second part (rounded up).
            y: The target of every row (indexed by position), to stratify on.
            seed: ``random_state`` when shuffling.

        Returns:
            The kept positions and the cut-off positions.

        Example:
            >>> kept, cut_off = Splitter(shuffle=False).cut(np.arange(5), 0.4, np.zeros(5), seed=0)
            >>> kept.tolist(), cut_off.tolist()
            ([0, 1, 2], [3, 4])
        """
        kept, cut_off = train_test_split(
            rows, test_size=fraction, random_state=seed if self.shuffle else None, shuffle=self.shuffle,
            stratify=y[rows] if self.stratify else None,
        )
        return kept, cut_off


RANDOM = Splitter(shuffle=True)
"""``split.type = "random"``: shuffled with ``random_state = split.seed``."""

STRATIFIED = Splitter(shuffle=True, stratify=True)
"""``split.type = "stratified"``: shuffled, keeping the class proportions of the encoded target."""

ORDERED = Splitter(shuffle=False)
"""``split.type = "ordered"``: row order kept: train, then validation, then test."""

SPLITTERS: Registry[Splitter] = SPLIT_TYPES
"""``split.type`` → splitter: the spec layer's open registry
(:data:`dlworkflow.spec.registries.SPLIT_TYPES`), whose names the spec is validated against.

Register another way of splitting with one entry — a :class:`Splitter` (or an object with its
``stratify`` attribute, ``__call__`` and ``split_off_validation``) in a module of its own::

    SPLIT_TYPES.register("tail_first", "mypackage.tail_split:TAIL_FIRST")
"""


def split_rows(
    split: SplitSpec,
    y: np.ndarray,
    *,
    task: Task,
    class_names: Sequence[str] | None = None,
    source: str = "<spec>",
) -> Parts:
    """Split the prepared rows into train, validation and test positions.

    Args:
        split: The ``[split]`` section.
        y: The encoded target, one row per prepared row.
        task: ``classification`` or ``regression`` (stratifying needs classes).
        class_names: Class labels, to name a class that is too small to stratify.
        source: The spec file, for error messages.

    Returns:
        Positional row indices per part, in the order train, validation, test;
        ``validation`` only when ``split.validation > 0``.

    Raises:
        SpecError: at ``split.type`` when the type is unknown or ``stratified`` is asked
            for a regression target.
        DataError: when a part would be empty, or a class is too small to stratify.

    Example:
        >>> from dlworkflow.spec import SplitSpec
        >>> parts = split_rows(SplitSpec(test=0.15, validation=0.15), np.zeros(1096), task="regression")
        >>> [len(part) for part in parts.values()]
        [767, 164, 165]
    """
    splitter = _splitter(split, source)
    if splitter.stratify and task != "classification":
        raise SpecError.single(
            source, "split.type", "stratified splitting needs a classification target, but the task is regression",
            got=split.type, hint="Use type = 'random' (or 'ordered' for time series).",
        )
    _check_sizes(len(y), split, source)
    if splitter.stratify:
        _check_class_sizes(y, class_names, source, "the data", minimum=2)
    try:
        return splitter(y, split)
    except ValueError as err:
        raise DataError.single(
            source, "split", f"cannot make the {split.type!r} split of {len(y)} rows: {err}",
            hint=_split_hint(split),
        ) from err


def split_train_validation(
    split: SplitSpec,
    y: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    source: str = "<spec>",
) -> Parts:
    """Split training rows into train and validation, for data that brings its own test set.

    The same splitters as :func:`split_rows` (``random``, ``stratified``, ``ordered``), with
    one ``train_test_split`` call of ``test_size = split.validation``.

    Args:
        split: The ``[split]`` section (``split.test`` is not used).
        y: The class labels of the training rows (1-D integers, or one-hot rows).
        class_names: Class labels, to name a class that is too small to stratify.
        source: The spec file, for error messages.

    Returns:
        ``{"train": ..., "validation": ...}`` positions, or only ``train`` when
        ``split.validation`` is 0.

    Raises:
        SpecError: at ``split.type`` when the type is unknown.
        DataError: when a part would be empty, or a class is too small to stratify.

    Example:
        >>> from dlworkflow.spec import SplitSpec
        >>> parts = split_train_validation(SplitSpec(validation=0.15), np.zeros(5000, np.int64))
        >>> [len(part) for part in parts.values()]
        [4250, 750]
    """
    splitter = _splitter(split, source)
    if split.validation > 0:
        validation = math.ceil(split.validation * len(y))
        if len(y) - validation <= 0:
            raise DataError.single(
                source, "split.validation", f"too few training rows ({len(y)}) for this split: "
                "the train part would be empty", got=split.validation,
                hint="Use more rows (data.rows) or a smaller split.validation.",
            )
        if splitter.stratify:
            _check_class_sizes(y, class_names, source, "the training data", minimum=2)
    try:
        return splitter.split_off_validation(y, split)
    except ValueError as err:
        raise DataError.single(
            source, "split", f"cannot make the {split.type!r} validation split of {len(y)} rows: {err}",
            hint=_split_hint(split),
        ) from err


def duplicated_rows_warnings(
    features: pd.DataFrame, target: pd.Series, parts: Parts, *, source: str = "<spec>"
) -> tuple[str, ...]:
    """Warn when validation or test rows are exact copies of training rows.

    A row repeated in the table can land in the training part and in the test part; the
    model is then scored partly on rows it was trained on, and the test score overstates how
    well it does on new rows. The run stays honest about this only if it says so, so this is
    a warning, not an error.

    Args:
        features: The raw feature columns of the prepared table (before scaling).
        target: The raw target, aligned with ``features``.
        parts: Positional indices per part (:func:`split_rows`).
        source: The spec file, for the message.

    Returns:
        One message per part that shares rows with the training part (none usually).

    Example:
        >>> table = pd.DataFrame({"x": [1, 1, 2, 3]})
        >>> parts = {"train": np.array([0, 2]), "test": np.array([1, 3])}
        >>> (warning,) = duplicated_rows_warnings(table, pd.Series([5, 5, 6, 7], name="y"), parts, source="s.toml")
        >>> warning.split(" (")[0]
        's.toml: split: 1 of 2 test rows are also in the training rows'
    """
    keys = pd.util.hash_pandas_object(
        features.assign(**{"\x00target": target.to_numpy()}), index=False
    ).to_numpy()
    training = keys[parts["train"]]
    messages = []
    for name in ("validation", "test"):
        if name not in parts or len(parts[name]) == 0:
            continue
        repeated = int(np.isin(keys[parts[name]], training).sum())
        if repeated:
            messages.append(str(Problem(
                source, "split", f"{repeated} of {len(parts[name])} {name} rows are also in the training rows "
                f"(same features and target), so the {name} score partly measures memory, not new rows",
                hint="Remove repeated rows before the split (pandas: table.drop_duplicates()), "
                "or keep the copies of a row together in one part.",
            )))
    return tuple(messages)


MIN_PART_ROWS = 10
"""A part with fewer rows than this gets a warning: its score moves by a large step with each row."""


def split_warnings(
    features: pd.DataFrame, target: pd.Series, parts: Parts, *, source: str = "<spec>"
) -> tuple[str, ...]:
    """Everything about a split a user should know that does not stop the run: small parts, repeated rows.

    Args:
        features: The raw feature columns of the prepared table.
        target: The raw target, aligned with ``features``.
        parts: Positional indices per part (:func:`split_rows`).
        source: The spec file, for the messages.

    Returns:
        :func:`small_parts_warnings`, then :func:`duplicated_rows_warnings`.

    Example:
        >>> parts = {"train": np.array([0]), "validation": np.array([1]), "test": np.array([2])}
        >>> (warning,) = split_warnings(pd.DataFrame({"x": [1, 2, 3]}), pd.Series([4, 5, 6]), parts, source="s.toml")
        >>> warning.split(";")[0]
        's.toml: split: 3 rows split into train 1, validation 1, test 1'
    """
    return (*small_parts_warnings(parts, source=source),
            *duplicated_rows_warnings(features, target, parts, source=source))


def small_parts_warnings(parts: Parts, *, source: str = "<spec>") -> tuple[str, ...]:
    """Warn when a part of the split holds fewer than :data:`MIN_PART_ROWS` rows, with the counts.

    A part of 1 to 9 rows trains or scores on next to nothing: one row more or less moves the score
    by a large step. The run can still go on, so this is a warning, not an error.

    Args:
        parts: Positional indices per part (:func:`split_rows`).
        source: The spec file, for the message.

    Returns:
        One message naming every part's size when any part is small; none otherwise.

    Example:
        >>> parts = {"train": np.arange(80), "test": np.arange(80, 100)}
        >>> small_parts_warnings(parts)
        ()
    """
    sizes = {name: len(rows) for name, rows in parts.items()}
    small = [name for name, size in sizes.items() if size < MIN_PART_ROWS]
    if not small:
        return ()
    counts = ", ".join(f"{name} {size}" for name, size in sizes.items())
    return (str(Problem(
        source, "split", f"{sum(sizes.values())} rows split into {counts}; fewer than {MIN_PART_ROWS} rows in the "
        f"{', '.join(small)} part{'s' if len(small) > 1 else ''}, so a score there says little (one row more or "
        "less moves it by a large step)",
        hint="Use more rows (check data.rows and dropna), or give the small part a larger fraction in [split].",
    )),)


def part_sizes(num_rows: int, split: SplitSpec) -> dict[str, int]:
    """Rows per part for a split of ``num_rows`` rows, as ``train_test_split`` counts them.

    The test side of each call gets ``ceil(test_size * rows)`` rows, the rest goes first.

    Args:
        num_rows: Rows to split.
        split: The ``[split]`` section.

    Returns:
        ``{"train": ..., "validation": ..., "test": ...}`` (validation 0 when not asked for).

    Example:
        >>> from dlworkflow.spec import SplitSpec
        >>> part_sizes(342, SplitSpec(test=0.2))
        {'train': 273, 'validation': 0, 'test': 69}
    """
    holdout_size = split.test_fraction + split.validation
    holdout = math.ceil(holdout_size * num_rows)
    if split.validation == 0:
        return {"train": num_rows - holdout, "validation": 0, "test": holdout}
    test = math.ceil(split.test_fraction / holdout_size * holdout)
    return {"train": num_rows - holdout, "validation": holdout - test, "test": test}


def _splitter(split: SplitSpec, source: str) -> Splitter:
    """The registered splitter of ``split.type`` (the spec validator has checked the name)."""
    if split.type not in SPLITTERS:
        raise SpecError.single(
            source, "split.type", "unknown split type", got=split.type, hint=SPLITTERS.hint(split.type)
        )
    return SPLITTERS[split.type]


def _check_sizes(num_rows: int, split: SplitSpec, source: str) -> None:
    sizes = part_sizes(num_rows, split)
    empty = [name for name, size in sizes.items() if size <= 0 and (name != "validation" or split.validation > 0)]
    if empty:
        counts = ", ".join(f"{name} {size}" for name, size in sizes.items() if name != "validation" or split.validation)
        raise DataError.single(
            source, "split", f"too few rows ({num_rows}) for this split: the {' and '.join(empty)} part would be empty",
            got=counts, hint=f"Use more rows (data.rows, dropna) or change the fractions. {_split_hint(split)}",
        )


def _check_class_sizes(
    y: np.ndarray, class_names: Sequence[str] | None, source: str, rows_name: str, *, minimum: int
) -> None:
    classes = y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
    counts = np.bincount(classes, minlength=len(class_names) if class_names else 0)
    small = [(index, int(count)) for index, count in enumerate(counts) if 0 < count < minimum]
    if small:
        index, count = min(small, key=lambda item: item[1])
        name = class_names[index] if class_names and index < len(class_names) else str(index)
        raise DataError.single(
            source, "split.type", f"cannot stratify: class {name!r} has only {count} row{'s' * (count != 1)} "
            f"in {rows_name}, and every class needs at least {minimum}",
            got="stratified", hint="Use type = 'random', or drop that class's rows from the table.",
        )


def _split_hint(split: SplitSpec) -> str:
    if split.type == "stratified":
        return "Every class needs rows in every part: use more rows, larger test/validation fractions, or type = 'random'."
    return f"split.test is {split.test_fraction} and split.validation is {split.validation}."
