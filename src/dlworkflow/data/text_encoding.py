"""Text columns: free text → token ids or a bag-of-words vector, with a vocabulary fitted on the training rows.

A column typed ``text`` (:mod:`dlworkflow.data.column_types`) is standardized (lowercased,
punctuation replaced by spaces, split on whitespace; :func:`tokens`), cut into n-grams
(``data.text.ngrams``) and encoded with a vocabulary of the training rows' most frequent terms
(frequency order, ties alphabetical, at most ``data.text.max_tokens``). ``data.text.mode`` says how:

- ``sequence``: the term ids of each row, padded with 0 or cut to ``sequence_length``
  (0 = padding, 1 = out of vocabulary, 2… = the vocabulary), for ``Embedding`` →
  pooling / ``LSTM`` / ``Conv1D``; ids are exact as float32. One such column may sit beside number,
  category and other text columns: its ids come first in the inputs, and the model splits them off
  (:class:`SequenceLayout`, :mod:`dlworkflow.models.text_branch`) to join the other inputs at a
  ``Concatenate`` entry of the layer list.
  An empty (or missing) text is one out-of-vocabulary id, so that ``mask_zero = true`` never
  masks a whole row (an average over nothing is NaN).
- ``multi_hot`` / ``count`` / ``tf_idf``: one input per vocabulary term (present, its count,
  or its count × the term's inverse document frequency of the training rows), for ``Dense``;
  these sit beside number and category columns.
- ``auto`` (the default): ``sequence`` when the text column is the only feature, else ``tf_idf``
  (``sequence`` beside other columns is asked for explicitly, as it needs a ``Concatenate`` entry).

The standardization is written here with :mod:`re` rather than Keras' ``TextVectorization``
so that the fitted state is plain data (:meth:`TextEncoding.to_dict`: the vocabulary and the idf
weights), applied identically by ``dlw predict`` and an exported bundle without Keras, a backend
or pickle.

Example:
    >>> encoding = TextEncoding.fit(["A red apple.", "a green apple", "red wine"],
    ...                             TextSettings(mode="sequence", sequence_length=4))
    >>> encoding.vocabulary
    ('a', 'apple', 'red', 'green', 'wine')
    >>> encoding.transform(["the red apple"]).tolist()
    [[1.0, 4.0, 3.0, 0.0]]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.memory import available_memory, format_bytes
from dlworkflow.errors import DataError, SpecError

TEXT_MODES = ("auto", "sequence", "multi_hot", "count", "tf_idf")
"""``data.text.mode`` values."""

VECTOR_MODES = ("multi_hot", "count", "tf_idf")
"""Modes that give one input per vocabulary term."""

PADDING_ID = 0
"""The id of an empty position of a sequence."""

OUT_OF_VOCABULARY_ID = 1
"""The id of a term never seen in training (or beyond ``max_tokens``)."""

RESERVED_IDS = 2
"""Ids before the vocabulary's: padding and out of vocabulary (``Embedding.input_dim`` = vocabulary + 2)."""

STANDARDIZE = "lower_and_strip_punctuation"
"""The one standardization: lowercase, punctuation → spaces, split on whitespace."""

_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class TextSettings:
    """How one text column is encoded (``[data.text]``, or its entry in ``[data.text.columns]``).

    Attributes:
        mode: One of :data:`TEXT_MODES`.
        max_tokens: The most terms the vocabulary keeps (the most frequent in training).
        sequence_length: Ids per row in ``sequence`` mode.
        ngrams: Terms are runs of 1 to ``ngrams`` words.

    Example:
        >>> TextSettings().mode, TextSettings().max_tokens
        ('auto', 10000)
    """

    mode: str = "auto"
    max_tokens: int = 10000
    sequence_length: int = 64
    ngrams: int = 1


@dataclass(frozen=True)
class TextOptions:
    """The settings of every text column: one default and per-column tables.

    Attributes:
        default: ``[data.text]``.
        columns: ``[data.text.columns.<name>]``, complete (unset keys taken from ``default``).

    Example:
        >>> options = TextOptions(TextSettings(), {"title": TextSettings(mode="tf_idf")})
        >>> options.for_column("title").mode, options.for_column("body").mode
        ('tf_idf', 'auto')
    """

    default: TextSettings = TextSettings()
    columns: Mapping[str, TextSettings] = field(default_factory=dict)

    def for_column(self, name: str) -> TextSettings:
        """The settings of column ``name``."""
        return self.columns.get(name, self.default)

    @classmethod
    def from_spec(cls, section: Any) -> TextOptions:
        """Read the spec's ``data.text`` section (:class:`dlworkflow.spec.text_section.TextSpec`).

        Example:
            >>> from dlworkflow.spec.text_section import TextSpec
            >>> TextOptions.from_spec(TextSpec(mode="count", columns={"b": {"ngrams": 2}})).for_column("b")
            TextSettings(mode='count', max_tokens=10000, sequence_length=64, ngrams=2)
        """
        keys = ("mode", "max_tokens", "sequence_length", "ngrams")
        top = {key: getattr(section, key) for key in keys}
        columns = {
            name: TextSettings(**{**top, **entry.model_dump(exclude_unset=True)})
            for name, entry in section.columns.items()
        }
        return cls(TextSettings(**top), columns)


DEFAULT_TEXT_OPTIONS = TextOptions()
"""``[data.text]`` left out: every text column ``auto``, 10,000 terms, 64 ids, single words."""

def tokens(text: Any, ngrams: int = 1) -> list[str]:
    """A text's terms: its words (lowercased, punctuation removed), then its 2- … ``ngrams``-word runs.

    A missing value is an empty text.

    Example:
        >>> tokens("A cell (genetics), or organism!", ngrams=2)
        ['a', 'cell', 'genetics', 'or', 'organism', 'a cell', 'cell genetics', 'genetics or', 'or organism']
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return []
    words = _PUNCTUATION.sub(" ", str(text).lower()).split()
    terms = list(words)
    for size in range(2, ngrams + 1):
        terms += [" ".join(words[start:start + size]) for start in range(len(words) - size + 1)]
    return terms


@dataclass(frozen=True)
class TextEncoding:
    """The fitted encoding of one text column, as plain data.

    Attributes:
        mode: ``sequence``, ``multi_hot``, ``count`` or ``tf_idf`` (never ``auto``: resolved at fit).
        vocabulary: The kept terms, most frequent first (ties alphabetical); term ``i`` has id ``i + 2``
            in a sequence and is input ``i`` of a vector.
        sequence_length: Ids per row (``sequence``).
        ngrams: Longest run of words that is a term.
        idf: Per term ``log(1 + rows / (1 + rows holding it))`` of the training rows (``tf_idf``).
        standardize: :data:`STANDARDIZE`.

    Example:
        >>> TextEncoding("multi_hot", ("cat", "dog")).transform(["Dog, dog!", None]).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """

    mode: str
    vocabulary: tuple[str, ...]
    sequence_length: int = 64
    ngrams: int = 1
    idf: tuple[float, ...] = ()
    standardize: str = STANDARDIZE

    @classmethod
    def fit(cls, texts: Iterable[Any], settings: TextSettings) -> TextEncoding:
        """Fit the vocabulary (and idf weights) on the training rows' texts.

        Args:
            texts: One text per training row (missing values count as empty).
            settings: The column's settings; ``mode`` must be resolved (not ``auto``).

        Returns:
            The fitted encoding.

        Example:
            >>> TextEncoding.fit(["b a", "a"], TextSettings(mode="tf_idf")).idf
            (0.5108256237659906, 0.6931471805599453)
        """
        counts: Counter[str] = Counter()
        documents: Counter[str] = Counter()
        rows = 0
        for text in texts:
            terms = tokens(text, settings.ngrams)
            counts.update(terms)
            documents.update(set(terms))
            rows += 1
        ranked = sorted(counts, key=lambda term: (-counts[term], term))[:settings.max_tokens]
        idf = tuple(math.log(1 + rows / (1 + documents[term])) for term in ranked) if settings.mode == "tf_idf" else ()
        return cls(settings.mode, tuple(ranked), settings.sequence_length, settings.ngrams, idf)

    @property
    def width(self) -> int:
        """How many inputs a row gets: ``sequence_length``, or one per vocabulary term.

        Example:
            >>> TextEncoding("count", ("a", "b", "c")).width
            3
        """
        return self.sequence_length if self.mode == "sequence" else len(self.vocabulary)

    @property
    def input_dim(self) -> int:
        """The ``Embedding.input_dim`` a sequence needs: the vocabulary plus padding and out-of-vocabulary.

        Example:
            >>> TextEncoding("sequence", ("a", "b")).input_dim
            4
        """
        return len(self.vocabulary) + RESERVED_IDS

    def output_names(self, column: str) -> tuple[str, ...]:
        """The encoded columns' names: ``column[0]`` … for a sequence, ``column:term`` for a vector.

        Example:
            >>> TextEncoding("sequence", ("a",), sequence_length=2).output_names("note")
            ('note[0]', 'note[1]')
        """
        if self.mode == "sequence":
            return tuple(f"{column}[{position}]" for position in range(self.sequence_length))
        return tuple(f"{column}:{term}" for term in self.vocabulary)

    def transform(self, texts: Sequence[Any]) -> np.ndarray:
        """Encode texts with the fitted vocabulary.

        Args:
            texts: One text per row (missing values are empty texts).

        Returns:
            A float32 array of shape ``(rows, width)``.

        Example:
            >>> TextEncoding("count", ("a", "b")).transform(["a a c"]).tolist()
            [[2.0, 0.0]]
        """
        return self.transform_counted(texts)[0]

    def transform_counted(self, texts: Sequence[Any]) -> tuple[np.ndarray, int, int]:
        """:meth:`transform`, with the number of terms and of terms never seen in training.

        Example:
            >>> TextEncoding("sequence", ("a",), sequence_length=2).transform_counted(["a b c"])[1:]
            (3, 2)
        """
        ids = {term: position for position, term in enumerate(self.vocabulary)}
        values = np.zeros((len(texts), self.width), dtype=np.float32)
        total = unseen = 0
        for row, text in enumerate(texts):
            terms = tokens(text, self.ngrams)
            positions = [ids.get(term, -1) for term in terms]
            total += len(positions)
            unseen += positions.count(-1)
            if self.mode == "sequence":
                kept = positions[:self.sequence_length] or [-1]  # an empty text: one unknown word, never all padding
                values[row, :len(kept)] = np.asarray(kept, dtype=np.float32) + RESERVED_IDS
                continue
            known = [position for position in positions if position >= 0]
            if self.mode == "multi_hot":
                values[row, known] = 1.0
            else:
                np.add.at(values[row], known, 1.0)
        if self.mode == "tf_idf" and self.idf:
            values *= np.asarray(self.idf, dtype=np.float32)
        return values, total, unseen

    def describe(self) -> str:
        """What the column becomes, for people.

        Example:
            >>> TextEncoding("sequence", ("a", "b"), sequence_length=8).describe()
            'text, 8 token ids of a vocabulary of 2 terms (Embedding input_dim 4)'
        """
        grams = f", 1-{self.ngrams} word terms" if self.ngrams > 1 else ""
        if self.mode == "sequence":
            return (f"text, {self.sequence_length} token ids of a vocabulary of {len(self.vocabulary):,} terms"
                    f"{grams} (Embedding input_dim {self.input_dim:,})")
        return f"text, {self.mode} of a vocabulary of {len(self.vocabulary):,} terms{grams}"

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-compatible data.

        Example:
            >>> TextEncoding("multi_hot", ("a",)).to_dict()["vocabulary"]
            ['a']
        """
        return {"mode": self.mode, "vocabulary": list(self.vocabulary), "sequence_length": self.sequence_length,
                "ngrams": self.ngrams, "idf": list(self.idf), "standardize": self.standardize}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextEncoding:
        """Read :meth:`to_dict` output (a ``KeyError``/``ValueError`` for data that is not one).

        Example:
            >>> TextEncoding.from_dict(TextEncoding("count", ("a",)).to_dict()).mode
            'count'
        """
        mode, standardize = str(data["mode"]), str(data.get("standardize", STANDARDIZE))
        if mode not in TEXT_MODES[1:] or standardize != STANDARDIZE:
            raise ValueError(f"unknown text mode {mode!r} or standardization {standardize!r}")
        return cls(mode, tuple(map(str, data["vocabulary"])), int(data["sequence_length"]), int(data["ngrams"]),
                   tuple(map(float, data.get("idf", ()))), standardize)


def resolve_modes(
    text_columns: Sequence[str], used_columns: Sequence[str], options: TextOptions, *, source: str = "<spec>"
) -> dict[str, TextSettings]:
    """Each text column's settings with ``auto`` resolved, allowing one ``sequence`` column.

    ``auto`` is ``sequence`` for a text column that is the only feature, else ``tf_idf``. An
    explicit ``sequence`` may sit beside other columns (the model then joins them at a
    ``Concatenate`` entry), but only one column can be a sequence: the inputs are one matrix,
    the token ids first.

    Args:
        text_columns: The feature columns typed ``text``.
        used_columns: Every feature column the network gets (text included).
        options: ``data.text``.
        source: The spec file, for messages.

    Returns:
        Settings by text column.

    Raises:
        SpecError: at ``data.text.mode`` (or ``data.text.columns.<name>.mode``) when more than
            one text column is in ``sequence`` mode, and at ``data.text.columns.<name>`` for a
            table naming no text column.

    Example:
        >>> resolve_modes(["note"], ["note", "age"], TextOptions())["note"].mode
        'tf_idf'
        >>> resolve_modes(["note"], ["note", "age"], TextOptions(TextSettings(mode="sequence")))["note"].mode
        'sequence'
    """
    for name in options.columns:
        if name not in text_columns:
            raise SpecError.single(
                source, f"data.text.columns.{name}", "names no text column of the table", got=name,
                hint=(f"Text columns: {', '.join(map(repr, text_columns))}." if text_columns else
                      "No feature column is text: type one 'text' in [data.columns], or remove this table."),
            )
    resolved = {}
    alone = len(used_columns) == 1
    for name in text_columns:
        settings = options.for_column(name)
        mode = settings.mode if settings.mode != "auto" else ("sequence" if alone else "tf_idf")
        resolved[name] = TextSettings(mode, settings.max_tokens, settings.sequence_length, settings.ngrams)
    sequences = [name for name, settings in resolved.items() if settings.mode == "sequence"]
    if len(sequences) > 1:
        second = sequences[1]
        path = f"data.text.columns.{second}.mode" if second in options.columns else "data.text.mode"
        raise SpecError.single(
            source, path, "only one text column can be in 'sequence' mode (its token ids feed one Embedding "
            f"branch); {', '.join(map(repr, sequences))} all are", got="sequence",
            hint=f"Keep {sequences[0]!r} as the sequence and set "
            + ", ".join(f"data.text.columns.{name}.mode = 'tf_idf'" for name in sequences[1:])
            + " (a term vector beside the other columns).",
        )
    return resolved


@dataclass(frozen=True)
class SequenceLayout:
    """Where a ``sequence`` text column's token ids sit among other inputs: first, then the others.

    Attributes:
        column: The text column.
        sequence_length: Its token ids, the first inputs of a row.
        other_inputs: The encoded inputs after them (numbers, categories, term vectors).
        input_dim: The ``Embedding.input_dim`` the ids need (vocabulary + 2).

    Example:
        >>> SequenceLayout("note", 32, 3, 500).width
        35
    """

    column: str
    sequence_length: int
    other_inputs: int
    input_dim: int

    @property
    def width(self) -> int:
        """All inputs of a row."""
        return self.sequence_length + self.other_inputs


def sequence_layout(preprocessing: Any) -> SequenceLayout | None:
    """The layout of a table whose ``sequence`` text column sits beside other inputs, else None.

    Args:
        preprocessing: A dataset's fitted preprocessing (a table's carries ``encoding``).

    Returns:
        The layout, or None when there is no sequence column or it is the only input.

    Example:
        >>> sequence_layout(None) is None
        True
    """
    encoding = getattr(preprocessing, "encoding", None)
    columns = tuple(getattr(encoding, "columns", ()))
    if not columns:
        return None
    first = columns[0]
    text = getattr(first, "text", None)
    others = sum(len(column.outputs) for column in columns[1:])
    if text is None or text.mode != "sequence" or not others:
        return None
    return SequenceLayout(first.name, text.sequence_length, others, text.input_dim)


def embedding_input_dim(preprocessing: Any) -> int | None:
    """The ``Embedding.input_dim`` a table's text sequence needs (vocabulary + 2), or None without one.

    Args:
        preprocessing: A dataset's fitted preprocessing (a table's carries ``encoding``).

    Returns:
        The number of distinct token ids of the ``sequence`` text column, or None.

    Example:
        >>> embedding_input_dim(None) is None
        True
    """
    encoding = getattr(preprocessing, "encoding", None)
    sizes = [column.text.input_dim for column in getattr(encoding, "columns", ())
             if getattr(column, "text", None) is not None and column.text.mode == "sequence"]
    return max(sizes) if sizes else None


BYTES_PER_INPUT = 8 * 3
"""Memory per row and input while a table is encoded: float64 values, then scaled and per-part copies."""


def check_vector_memory(
    columns: Sequence[Any], rows: int, *, source: str = "<spec>", available: int | None = None
) -> None:
    """Refuse term vectors (one input per vocabulary term) that would not fit in memory for every row.

    Args:
        columns: The table's fitted column encodings (those with a vector ``text`` are counted).
        rows: Rows of the whole table.
        source: The spec file, for messages.
        available: Bytes free; None: :func:`dlworkflow.data.memory.available_memory`.

    Raises:
        DataError: at ``data.text.max_tokens``, with the memory needed and a smaller setting.

    Example:
        >>> check_vector_memory([], 10**9)  # no text vectors: nothing to check
    """
    width = sum(column.text.width for column in columns
                if getattr(column, "text", None) is not None and column.text.mode in VECTOR_MODES)
    available = available_memory() if available is None else available
    needed = rows * width * BYTES_PER_INPUT
    if not width or available is None or needed <= available:
        return
    fitting = max(1, available // max(1, rows * BYTES_PER_INPUT))
    raise DataError.single(
        source, "data.text.max_tokens", f"{rows:,} rows × {width:,} term inputs would need about "
        f"{format_bytes(needed)} of memory while encoded; {format_bytes(available)} is available", got=width,
        hint=f"Lower data.text.max_tokens (to about {fitting:,} or fewer in all), or use mode = 'sequence' "
        "(token ids for an Embedding, joined to the other columns at a Concatenate layer).",
    )
