"""The ``[data.text]`` section: how text columns become token ids or bag-of-words vectors.

Kept apart from :mod:`dlworkflow.spec.data_sections` (which uses it as ``DataSpec.text``).
The encoding itself is :mod:`dlworkflow.data.text_encoding`.

Example:
    >>> TextSpec().mode, TextSpec().max_tokens, TextSpec().sequence_length, TextSpec().ngrams
    ('auto', 10000, 64, 1)
    >>> TextSpec(mode="tf_idf", columns={"title": {"ngrams": 2}}).columns["title"].ngrams
    2
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dlworkflow.spec.section import Section

TextMode = Literal["auto", "sequence", "multi_hot", "count", "tf_idf"]
"""``data.text.mode`` values (:data:`dlworkflow.data.text_encoding.TEXT_MODES`)."""

MAX_NGRAMS = 5
"""The longest word runs a vocabulary may hold."""


class TextColumnSpec(Section):
    """``[data.text.columns.<name>]``: one text column's settings; keys left out come from ``[data.text]``."""

    mode: TextMode = Field("auto", description=(
        "'sequence': token ids (0 padding, 1 unknown) for an Embedding (one such column; beside other columns the "
        "layers join them at a Concatenate entry); "
        "'multi_hot', 'count' or 'tf_idf': one input per vocabulary term, for Dense; "
        "'auto': sequence for a text column alone, else tf_idf."))
    max_tokens: int = Field(10000, gt=0, description=(
        "Most frequent terms of the training rows kept in the vocabulary (Embedding input_dim = this + 2)."))
    sequence_length: int = Field(64, gt=0, description="Token ids per row in 'sequence' mode (padded or cut).")
    ngrams: int = Field(1, ge=1, le=MAX_NGRAMS, description="Terms are runs of 1 to ngrams words (2: words and pairs).")


class TextSpec(TextColumnSpec):
    """``[data.text]``: settings of every text column, with optional per-column tables."""

    columns: dict[str, TextColumnSpec] = Field(default_factory=dict, description=(
        "Per text column settings, e.g. [data.text.columns.title] ngrams = 2."))
