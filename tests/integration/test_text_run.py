"""Text columns end to end (issue 17): examples/wordnet_text.toml on a small copy of the glosses, predict and bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dlworkflow
from dlworkflow import api
from dlworkflow.workflow_warning import WorkflowWarning
from tests.conftest import wordnet_glosses_sample

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wordnet_text.toml"
ROWS = 360


@pytest.fixture(scope="module")
def glosses(tmp_path_factory) -> Path:
    """60 definitions of each of the six categories, from the shared WordNet glosses."""
    small = wordnet_glosses_sample(ROWS // 6, random_state=0)
    path = tmp_path_factory.mktemp("glosses") / "glosses.csv"
    small.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def text_run(glosses: Path, tmp_path_factory):
    registry = f"sqlite:///{tmp_path_factory.mktemp('text') / 'dlw' / 'registry.db'}"
    result = dlworkflow.run(EXAMPLE, registry=registry, train__backend="jax", data__path=str(glosses),
                            train__epochs=3)
    return result, registry, Path(result.record["artifacts"]["dir"])


@pytest.mark.slow  # trains a small model (a few seconds)
def test_the_text_example_trains_on_token_ids_with_the_vocabularys_embedding(text_run):
    result, _, folder = text_run
    saved = json.loads((folder / "preprocessing.json").read_text())
    (column,) = saved["encoding"]["columns"]
    assert column["type"] == "text" and column["text"]["mode"] == "sequence"
    vocabulary = column["text"]["vocabulary"]
    assert 500 < len(vocabulary) <= 20000 and "<other>" not in vocabulary
    assert saved["scaling"]["feature_names"] == [f"definition[{i}]" for i in range(32)]
    assert result.record["split"]["train"] + result.record["split"]["validation"] + result.record["split"]["test"] == ROWS
    model_parameters = result.record.params.total
    assert model_parameters == (len(vocabulary) + 2) * 32 + 32 * 6 + 6


@pytest.mark.slow  # a fresh process imports Keras (several seconds)
def test_a_fresh_process_predicts_raw_sentences_from_the_bundle_as_the_run_did(text_run, glosses, tmp_path):
    result, registry, folder = text_run
    bundle = api.export(result.id, tmp_path / "bundle", registry=registry)
    saved = pd.read_csv(folder / "predictions_test.csv", float_precision="round_trip")
    rows = pd.read_csv(glosses, dtype={"synset_offset": str}).iloc[saved["row"]]
    rows = rows.drop(columns=["category"])
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    output = tmp_path / "predictions.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "dlworkflow.cli", "predict", str(bundle), "--input", str(path), "--output", str(output)],
        check=False, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": ""}, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    predicted = pd.read_csv(output, float_precision="round_trip")
    columns = [name for name in saved.columns if name.startswith(("prediction", "probability_"))]
    pd.testing.assert_frame_equal(predicted[columns], saved[columns])


@pytest.mark.slow
def test_new_definitions_with_unseen_words_get_probabilities_and_a_note(text_run, tmp_path):
    result, registry, _ = text_run
    path = tmp_path / "new_definitions.csv"
    pd.DataFrame({"definition": ["a small furry zorblax with long ears", "an edible fruit", ""]}).to_csv(
        path, index=False)
    with pytest.warns(WorkflowWarning) as caught:
        frame = api.predict(result.id, path, registry=registry)
    probabilities = frame.filter(like="probability_").to_numpy()
    assert probabilities.shape == (3, 6) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert any("definition:" in str(w.message) and "never seen in training" in str(w.message) for w in caught)


@pytest.mark.slow
def test_tf_idf_text_sits_beside_a_number_column_and_feeds_dense(glosses, tmp_path):
    table = pd.read_csv(glosses, dtype={"synset_offset": str})
    table["words"] = table["definition"].str.split().str.len()
    path = tmp_path / "with_words.csv"
    table.to_csv(path, index=False)
    registry = f"sqlite:///{tmp_path / 'dlw' / 'registry.db'}"
    result = dlworkflow.run(
        EXAMPLE, registry=registry, train__backend="jax", data__path=str(path), train__epochs=2,
        data__text__mode="tf_idf", data__text__max_tokens=300, data__scaling="standardize",
        model__layers=[{"type": "Dense", "units": 8, "activation": "relu"},
                       {"type": "Dense", "units": 6, "activation": "softmax"}],
    )
    saved = json.loads((Path(result.record["artifacts"]["dir"]) / "preprocessing.json").read_text())
    names = saved["scaling"]["feature_names"]
    assert names[0] == "definition:of" or names[0].startswith("definition:")
    assert names[-1] == "words" and len(names) == 301
    assert saved["scaling"]["scale"][names[0]] == 1.0 and saved["scaling"]["scale"]["words"] != 1.0
    assert result.record.params.total == 301 * 8 + 8 + 8 * 6 + 6
