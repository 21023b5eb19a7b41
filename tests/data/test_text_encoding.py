"""Text columns: standardization, vocabularies fitted on training rows, modes, saved state, table encoding."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.column_encoding import TableEncoding
from dlworkflow.data.column_types import column_profiles
from dlworkflow.data.text_encoding import (
    SequenceLayout,
    TextEncoding,
    TextOptions,
    TextSettings,
    check_vector_memory,
    embedding_input_dim,
    resolve_modes,
    sequence_layout,
    tokens,
)
from dlworkflow.errors import SpecError
from dlworkflow.spec.text_section import TextSpec

TRAIN = ["The cat sat.", "A cat, a dog!", "the dog ran", "A bird"]


def test_tokens_lowercase_strip_punctuation_and_add_ngrams():
    assert tokens("Hello, World!! (again)") == ["hello", "world", "again"]
    assert tokens("a b c", ngrams=3) == ["a", "b", "c", "a b", "b c", "a b c"]
    assert tokens(None) == [] and tokens(float("nan")) == []


def test_vocabulary_is_frequency_order_ties_alphabetical_and_capped():
    encoding = TextEncoding.fit(TRAIN, TextSettings(mode="sequence", max_tokens=4))
    # a: 3, cat/dog/the: 2 each (alphabetical), bird/ran/sat: 1 (cut by max_tokens)
    assert encoding.vocabulary == ("a", "cat", "dog", "the")
    assert encoding.input_dim == 6


def test_sequence_ids_pad_with_zero_cut_at_length_and_mark_unknown_words_one():
    encoding = TextEncoding.fit(TRAIN, TextSettings(mode="sequence", max_tokens=4, sequence_length=3))
    values = encoding.transform(["the zebra", "a cat a dog the"])
    assert values.dtype == np.float32
    assert values.tolist() == [[5.0, 1.0, 0.0], [2.0, 3.0, 2.0]]
    assert encoding.transform(["", None, "..."]).tolist() == [[1.0, 0.0, 0.0]] * 3  # never all padding


@pytest.mark.parametrize(("mode", "expected"), [
    ("multi_hot", [1.0, 1.0, 0.0]),
    ("count", [2.0, 1.0, 0.0]),
])
def test_vector_modes_give_one_input_per_term(mode: str, expected: list[float]):
    encoding = TextEncoding.fit(["a a b", "c"], TextSettings(mode=mode))
    assert encoding.vocabulary == ("a", "b", "c")
    assert encoding.transform(["A a B unknown"]).tolist() == [expected]


def test_tf_idf_weights_counts_by_the_training_rows_document_frequency():
    encoding = TextEncoding.fit(["a b", "a", "a c"], TextSettings(mode="tf_idf"))
    idf_a, idf_b = math.log(1 + 3 / 4), math.log(1 + 3 / 2)
    assert encoding.idf == pytest.approx((idf_a, idf_b, idf_b))
    assert encoding.transform(["a a b"])[0] == pytest.approx([2 * idf_a, idf_b, 0.0])


def test_saved_state_is_json_and_reads_back_to_the_same_encoding():
    encoding = TextEncoding.fit(TRAIN, TextSettings(mode="tf_idf", ngrams=2))
    again = TextEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert again == encoding
    assert np.array_equal(again.transform(["the cat ran"]), encoding.transform(["the cat ran"]))
    with pytest.raises(ValueError, match="unknown text mode"):
        TextEncoding.from_dict({**encoding.to_dict(), "mode": "bert"})


def test_auto_is_sequence_alone_and_tf_idf_beside_other_columns():
    assert resolve_modes(["t"], ["t"], TextOptions())["t"].mode == "sequence"
    assert resolve_modes(["t"], ["t", "age"], TextOptions())["t"].mode == "tf_idf"


def test_sequence_beside_other_columns_is_allowed_but_only_for_one_text_column():
    options = TextOptions.from_spec(TextSpec(mode="sequence"))
    assert resolve_modes(["t"], ["t", "age"], options, source="s.toml")["t"].mode == "sequence"
    with pytest.raises(SpecError, match=r"s\.toml: data\.text\.mode: only one text column can be in 'sequence' mode.*"
                       r"'t', 'u'.*Keep 't' as the sequence and set data\.text\.columns\.u\.mode = 'tf_idf'"):
        resolve_modes(["t", "u"], ["t", "u", "age"], options, source="s.toml")
    per_column = TextOptions.from_spec(TextSpec(columns={"t": {"mode": "sequence"}, "u": {"mode": "sequence"}}))
    with pytest.raises(SpecError, match=r"data\.text\.columns\.u\.mode: only one"):
        resolve_modes(["t", "u"], ["t", "u"], per_column)


def test_a_sequence_beside_other_columns_comes_first_and_gives_its_layout():
    frame = pd.DataFrame({"age": [30.0, 40.0, 50.0], "note": ["a long free text", "short note", None],
                          "kind": ["x", "y", "x"]})
    profiles = column_profiles(frame, {"note": "text", "kind": "category"})
    encoding = TableEncoding.fit(frame, profiles, text=TextOptions(TextSettings(mode="sequence", sequence_length=4)))
    assert encoding.feature_names == ("note", "age", "kind")
    assert encoding.output_names == ("note[0]", "note[1]", "note[2]", "note[3]", "age", "kind=x", "kind=y",
                                     "kind=<other>")
    rows = encoding.transform(pd.DataFrame({"age": [35.0], "kind": ["y"], "note": ["free text zebra"]}))
    assert rows.values.iloc[0].tolist() == [encoding.columns[0].text.vocabulary.index("free") + 2.0,
                                            encoding.columns[0].text.vocabulary.index("text") + 2.0, 1.0, 0.0,
                                            35.0, 0.0, 1.0, 0.0]

    class Saved:
        pass

    saved = Saved()
    saved.encoding = encoding  # type: ignore[attr-defined]
    layout = sequence_layout(saved)
    assert layout == SequenceLayout("note", 4, 4, len(encoding.columns[0].text.vocabulary) + 2)
    assert layout.width == len(encoding.output_names)
    alone = TableEncoding.fit(frame[["note"]], column_profiles(frame[["note"]], {"note": "text"}))
    saved.encoding = alone  # type: ignore[attr-defined]
    assert sequence_layout(saved) is None and sequence_layout(None) is None


def test_per_column_table_overrides_and_must_name_a_text_column():
    options = TextOptions.from_spec(TextSpec(mode="count", max_tokens=5, columns={"b": {"ngrams": 2}}))
    assert options.for_column("b") == TextSettings("count", 5, 64, 2)
    assert options.for_column("a") == TextSettings("count", 5, 64, 1)
    with pytest.raises(SpecError, match=r"data\.text\.columns\.b: names no text column.*'a'"):
        resolve_modes(["a"], ["a"], options)


def test_text_column_sits_beside_numbers_unscaled_and_round_trips_as_data():
    frame = pd.DataFrame({"age": [30.0, 40.0, 50.0], "note": ["a long free text", "short note here", None]})
    profiles = column_profiles(frame, {"note": "text"})
    encoding = TableEncoding.fit(frame, profiles)
    assert encoding.output_names[0] == "age" and encoding.output_names[1:4] == ("note:a", "note:free", "note:here")
    assert set(encoding.unscaled) == set(encoding.output_names[1:])
    assert encoding.columns[1].describe().startswith("note: text, tf_idf of a vocabulary of 7 terms")
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    new = pd.DataFrame({"age": [35.0], "note": ["A FREE zebra!"]})
    rows = again.transform(new)
    assert rows.values.equals(encoding.transform(new).values)
    assert rows.notes == ("note: 1 of 3 words never seen in training (out of vocabulary)",)
    assert rows.values.loc[0, "note:free"] > 0 and rows.values.loc[0, "note:here"] == 0


def test_embedding_input_dim_comes_from_the_sequence_column():
    frame = pd.DataFrame({"note": ["one two three four", "two three four five"]})
    encoding = TableEncoding.fit(frame, column_profiles(frame, {"note": "text"}))
    assert encoding.output_names == tuple(f"note[{i}]" for i in range(64))

    class Saved:
        pass

    saved = Saved()
    saved.encoding = encoding  # type: ignore[attr-defined]
    assert embedding_input_dim(saved) == 5 + 2
    assert embedding_input_dim(None) is None


def test_an_untyped_free_text_column_is_inferred_text():
    frame = pd.DataFrame({"definition": ["a small furry animal with long ears", "a tool for cutting wood"] * 3})
    assert column_profiles(frame)[0].type == "text"


def test_term_vectors_too_big_for_memory_are_refused_at_max_tokens_with_a_size_that_fits():
    from dlworkflow.data.column_encoding import ColumnEncoding
    from dlworkflow.errors import DataError

    text = TextEncoding("tf_idf", tuple(f"w{i}" for i in range(1000)))
    columns = [ColumnEncoding("note", "text", text.output_names("note"), text=text)]
    check_vector_memory(columns, 100, available=10**9)
    with pytest.raises(DataError, match=r"s\.toml: data\.text\.max_tokens: 100,000 rows × 1,000 term inputs would "
                       r"need about .* Lower data\.text\.max_tokens \(to about 41 or fewer"):
        check_vector_memory(columns, 100_000, source="s.toml", available=10**8)
