"""A text column in sequence mode beside other columns (issue 17), end to end.

examples/wordnet_text_headword.toml on a small copy of the WordNet glosses, with one column derived
honestly from the data: ``words``, the number of words of the definition. The run gets the
definition's token ids (Embedding branch) beside the headword's TF-IDF vector and ``words``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import dlworkflow
from dlworkflow import api
from tests.conftest import wordnet_glosses_sample

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wordnet_text_headword.toml"
ROWS = 300


@pytest.fixture(scope="module")
def glosses(tmp_path_factory) -> Path:
    """50 definitions of each of the six categories, with their number of words."""
    small = wordnet_glosses_sample(ROWS // 6, random_state=1)
    small["words"] = small["definition"].str.split().str.len()
    path = tmp_path_factory.mktemp("glosses") / "glosses.csv"
    small.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mixed_run(glosses: Path, tmp_path_factory):
    registry = f"sqlite:///{tmp_path_factory.mktemp('mixed') / 'dlw' / 'registry.db'}"
    result = dlworkflow.run(EXAMPLE, registry=registry, train__backend="jax", data__path=str(glosses),
                            train__epochs=2, data__text__sequence_length=16)
    return result, registry, Path(result.record["artifacts"]["dir"])


def test_inspect_shows_the_sequence_beside_the_other_columns_without_a_refusal(glosses):
    inspection = api.inspect(EXAMPLE, overrides={"data.path": str(glosses)})
    assert inspection.problem is None
    assert inspection.inputs is not None and inspection.inputs > 64 + 1


@pytest.mark.slow  # trains a small model (a few seconds)
def test_the_ids_come_first_then_the_headword_terms_and_the_number(mixed_run):
    result, _, folder = mixed_run
    saved = json.loads((folder / "preprocessing.json").read_text())
    columns = {column["name"]: column for column in saved["encoding"]["columns"]}
    assert [column["name"] for column in saved["encoding"]["columns"]] == ["definition", "headword", "words"]
    assert columns["definition"]["text"]["mode"] == "sequence" and columns["headword"]["text"]["mode"] == "tf_idf"
    names = saved["scaling"]["feature_names"]
    headword_terms = len(columns["headword"]["text"]["vocabulary"])
    assert names[:16] == [f"definition[{i}]" for i in range(16)] and names[-1] == "words"
    assert len(names) == 16 + headword_terms + 1
    assert saved["scaling"]["scale"]["definition[0]"] == 1.0 and saved["scaling"]["scale"]["words"] != 1.0
    vocabulary = len(columns["definition"]["text"]["vocabulary"]) + 2
    assert result.record.params.total == vocabulary * 32 + (32 + headword_terms + 1) * 6 + 6
    baselines = result.record["baselines"]
    assert {"majority_class", "tf_idf_logistic_regression"} <= set(baselines)
    assert "logistic_regression" in result.record.get("baselines_skipped", {})  # token ids: no line through them


@pytest.mark.slow  # a fresh process imports Keras (several seconds)
def test_a_fresh_process_predicts_raw_strings_and_numbers_from_the_bundle_as_the_run_did(mixed_run, glosses, tmp_path):
    result, registry, folder = mixed_run
    bundle = api.export(result.id, tmp_path / "bundle", registry=registry)
    saved = pd.read_csv(folder / "predictions_test.csv", float_precision="round_trip")
    rows = pd.read_csv(glosses, dtype={"synset_offset": str}, keep_default_na=False).iloc[saved["row"]]
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
    assert len(columns) == 7
    pd.testing.assert_frame_equal(predicted[columns], saved[columns])
