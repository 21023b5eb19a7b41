"""Which of a dataset's input columns hold free text, as the baselines need to know.

The text baselines (:mod:`~dlworkflow.evaluation.text_baselines`) fit on the raw strings of
these columns (``Part.frame[column]``), and the baselines that fit on the network's inputs
(``logistic_regression``, ``linear_regression``) step aside when those inputs are token ids:
a linear model on ids fits a line to arbitrary numbers (id 7 is not "more" than id 3).

The answer comes from the fitted preprocessing alone (``dataset.preprocessing.encoding``, the
:class:`~dlworkflow.data.column_encoding.TableEncoding` saved in ``preprocessing.json``): one
place to look, whether the column was typed ``text`` in ``[data.columns]`` or recognised as text.
The text baselines also take the other inputs beside the words (:func:`other_input_positions`).

Example:
    >>> text_columns(dataset)  # doctest: +SKIP
    ('definition',)
    >>> token_id_reason(dataset)  # doctest: +SKIP
    "the inputs are token ids of the text column 'definition' ..."
"""

from __future__ import annotations

from typing import Any

from dlworkflow.data.dataset import Dataset

TEXT_TYPE = "text"
"""The column type of free text (:mod:`dlworkflow.data.column_types`)."""

SEQUENCE_MODE = "sequence"
"""The text encoding whose inputs are token ids (``data.text.mode``)."""


def _text_encodings(dataset: Dataset) -> tuple[Any, ...]:
    """The fitted column encodings of type ``text``, in network order; () without an encoding."""
    encoding = getattr(dataset.preprocessing, "encoding", None)
    if encoding is None:
        return ()
    return tuple(column for column in encoding.columns if column.type == TEXT_TYPE)


def text_columns(dataset: Dataset) -> tuple[str, ...]:
    """The input columns of a dataset that hold free text, in network order.

    Args:
        dataset: A prepared dataset; images and plain tables have none.

    Returns:
        The text columns' names; empty when there are none.

    Example:
        >>> text_columns(dataset)  # doctest: +SKIP
        ('definition',)
    """
    return tuple(column.name for column in _text_encodings(dataset))


def other_input_positions(dataset: Dataset) -> tuple[int, ...]:
    """Where the inputs that are not text sit among the network's inputs, for a table with a text column.

    The text baselines use them beside the words: numbers, dates, categories (one-hot or
    index) and gap indicators, as the network sees them. Term vectors and token ids of the
    text columns are left out (the baselines read the raw words instead); so are windows.

    Args:
        dataset: A prepared dataset.

    Returns:
        Column positions in ``part.x`` (a 2-D table); empty without text, without other
        columns, or for windows and images.

    Example:
        >>> other_input_positions(dataset)  # doctest: +SKIP
        (32, 33, 34, 35, 36)
    """
    encoding = getattr(dataset.preprocessing, "encoding", None)
    if encoding is None or not _text_encodings(dataset) or getattr(dataset, "window", None) is not None:
        return ()
    positions, start = [], 0
    for column in encoding.columns:
        width = len(column.outputs)
        if column.type != TEXT_TYPE:
            positions += range(start, start + width)
        start += width
    return tuple(positions)


def token_id_reason(dataset: Dataset) -> str | None:
    """Why a linear model on the network's inputs means nothing here: they hold token ids.

    Text encoded as a sequence (``data.text.mode = "sequence"``, the default for a lone text
    column) becomes integer token ids; the bag-of-words modes (``tf_idf``, ``count``,
    ``multi_hot``) give one input per term, which a linear model can use, so they give None.

    Args:
        dataset: A prepared dataset.

    Returns:
        A phrase for the record's ``baselines_skipped``, or None.

    Example:
        >>> token_id_reason(dataset)  # doctest: +SKIP
        "the inputs are token ids of the text column 'definition' (an id's size means nothing to a linear model): tf_idf_logistic_regression fits on the words instead"
    """
    names = [column.name for column in _text_encodings(dataset) if _mode(column) == SEQUENCE_MODE]
    if not names:
        return None
    which = "the text column " + repr(names[0]) if len(names) == 1 else "the text columns " + ", ".join(map(repr, names))
    instead = "tf_idf_ridge" if dataset.task == "regression" else "tf_idf_logistic_regression"
    return (
        f"the inputs are token ids of {which} (an id's size means nothing to a linear model): "
        f"{instead} fits on the words instead"
    )


def _mode(column: Any) -> str | None:
    text = getattr(column, "text", None)
    return None if text is None else getattr(text, "mode", None)
