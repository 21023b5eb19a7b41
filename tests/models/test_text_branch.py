"""A text sequence beside other columns (issue 17): two branches of one Functional model, joined at Concatenate."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.pipeline import build_dataset
from dlworkflow.errors import SpecError
from dlworkflow.models import build_model, explain_parameters
from dlworkflow.spec import validate_spec

WORDS = ("red", "green", "blue", "small", "large", "round", "flat", "old", "new")
POOLED = [{"type": "Embedding", "output_dim": 4}, {"type": "GlobalAveragePooling1D"}]
HEAD = [{"type": "Dense", "units": 2, "activation": "softmax"}]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = 40
    return pd.DataFrame({
        "age": rng.normal(50, 10, rows).round(1),
        "note": [" ".join(rng.choice(WORDS, rng.integers(1, 6))) for _ in range(rows)],
        "kind": rng.choice(["a", "b", "c"], rows),
        "y": rng.choice(["yes", "no"], rows),
    })


def spec_for(layers, mode="sequence"):
    return validate_spec({
        "name": "notes",
        "data": {"target": "y", "columns": {"note": "text", "kind": "category"},
                 "text": {"mode": mode, "sequence_length": 6}},
        "split": {"type": "random", "test": 0.25, "seed": 0},
        "model": {"layers": layers},
    }, source="n.toml")


@pytest.fixture(scope="module")
def dataset(frame):
    return build_dataset(spec_for([*POOLED, {"type": "Concatenate"}, *HEAD]), frame=frame)


def test_the_text_branch_reads_the_token_ids_and_the_other_branch_the_other_inputs(dataset):
    model = build_model(spec_for([*POOLED, {"type": "Concatenate"}, *HEAD]), dataset)
    x = dataset.train.x
    others = x.shape[1] - 6  # age, then kind one-hot with <other>
    assert others == 1 + 4 and tuple(model.input.shape) == (None, 6 + others)
    names = [layer.name for layer in model.layers]
    assert {"token_ids", "other_inputs", "embedding", "concatenate"} <= set(names)
    ids = keras.Model(model.input, model.get_layer("token_ids").output).predict(x, verbose=0)
    rest = keras.Model(model.input, model.get_layer("other_inputs").output).predict(x, verbose=0)
    np.testing.assert_array_equal(ids, x[:, :6])
    np.testing.assert_allclose(rest, x[:, 6:])
    assert ids.max() < model.get_layer("embedding").input_dim  # input_dim from the vocabulary
    assert model.get_layer("embedding").input.shape[1] == 6
    concatenated = model.get_layer("concatenate")
    assert [tuple(tensor.shape) for tensor in concatenated.input] == [(None, 4), (None, others)]
    assert model.count_params() == model.get_layer("embedding").input_dim * 4 + (4 + others) * 2 + 2


def test_the_two_branch_model_saves_and_loads_without_custom_objects(dataset, tmp_path):
    model = build_model(spec_for([*POOLED, {"type": "Concatenate"}, *HEAD]), dataset)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(loaded.predict(dataset.test.x, verbose=0), model.predict(dataset.test.x, verbose=0),
                               rtol=1e-6)


def test_summary_explains_the_branches(dataset):
    report = explain_parameters(build_model(spec_for([*POOLED, {"type": "Concatenate"}, *HEAD]), dataset))
    rows = {row.name: row for row in report.layers}
    width = dataset.train.x.shape[1]
    assert rows["token_id_steps"].note == f"{width} → 6: keeps the first 6"
    assert rows["other_input_steps"].note == f"{width} → {width - 6}: keeps the last {width - 6}"
    assert rows["concatenate"].note == f"4 + {width - 6} = {width - 2} values side by side"
    vocabulary = rows["embedding"].total // 4
    assert rows["embedding"].formula.startswith(f"{vocabulary}·4 = {vocabulary * 4}")


def test_without_a_concatenate_entry_the_error_says_where_to_add_it(dataset):
    with pytest.raises(SpecError, match=r"n\.toml: model\.layers: the token ids of the text column 'note' sit beside "
                       r"5 other inputs.*Add \{ type = \"Concatenate\" \} as model\.layers\[2\], right after the "
                       r"GlobalAveragePooling1D"):
        build_model(spec_for([*POOLED, *HEAD]), dataset)


def test_a_concatenate_before_the_pooling_asks_for_pooling(dataset):
    layers = [POOLED[0], {"type": "Concatenate"}, POOLED[1], *HEAD]
    with pytest.raises(SpecError, match=r"model\.layers\[1\]: Concatenate joins one vector per row.*"
                       r"shape \(None, 6, 4\).*Add a GlobalAveragePooling1D"):
        build_model(spec_for(layers), dataset)


def test_two_concatenate_entries_are_refused_at_the_second(dataset):
    layers = [*POOLED, {"type": "Concatenate"}, {"type": "Concatenate"}, *HEAD]
    with pytest.raises(SpecError, match=r"model\.layers\[3\]: only one Concatenate entry"):
        build_model(spec_for(layers), dataset)


def test_a_concatenate_without_a_text_sequence_beside_other_columns_is_refused(frame):
    layers = [{"type": "Dense", "units": 3}, {"type": "Concatenate"}, *HEAD]
    spec = spec_for(layers, mode="tf_idf")
    with pytest.raises(SpecError, match=r"model\.layers\[1\]: Concatenate joins the branch of a text column in "
                       r"'sequence' mode.*Remove this entry"):
        build_model(spec, build_dataset(spec, frame=frame))


def test_windows_of_a_text_sequence_beside_other_columns_are_refused_at_data_window():
    from dlworkflow.data.text_encoding import SequenceLayout
    from dlworkflow.models.text_branch import join_index

    spec = spec_for([*POOLED, {"type": "Concatenate"}, *HEAD])
    layout = SequenceLayout("note", 6, 5, 12)
    assert join_index(spec.model.layers, layout, (11,), source="n.toml") == 2
    with pytest.raises(SpecError, match=r"n\.toml: data\.window: the token ids of the text column 'note' beside other "
                       r"columns cannot be cut into windows.*Remove \[data\.window\]"):
        join_index(spec.model.layers, layout, (3, 11), source="n.toml")
