"""Word importances by occlusion: the words that decide a text model's answer come first; dlw explain prints them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.evaluation.word_importance import WordImportances, word_occlusion

runner = CliRunner()
ANIMALS = ("cat", "dog", "horse", "sheep")
FOODS = ("bread", "cheese", "apple", "soup")
FILLER = ("the", "a", "small", "old", "was", "seen", "near", "house", "today", "with")


def keyword_model(texts: list[str]) -> np.ndarray:
    """A fixed 'model': food the more food words a text has than animal words."""
    scores = np.array([sum(word in FOODS for word in text.split()) - sum(word in ANIMALS for word in text.split())
                       for text in texts], dtype=float)
    food = 1.0 / (1.0 + np.exp(-scores))
    return np.stack([1.0 - food, food], axis=1)


def test_the_deciding_word_is_the_most_important_and_fillers_weigh_nothing():
    texts = ["The old cat was seen near the house.", "a small apple, with bread!"]
    found = word_occlusion(keyword_model, texts, labels=[0, 1], class_names=("animal", "food"), column="text")
    first, second = found.rows
    assert first.predicted == "animal" and first.top(1)[0].word == "cat" and first.top(1)[0].importance > 0.2
    assert [word.word for word in first.words] == ["the", "old", "cat", "was", "seen", "near", "the", "house"]
    assert all(word.importance == 0.0 for word in first.words if word.word != "cat")
    assert {word.word for word in second.top(2)} == {"apple", "bread"}
    assert WordImportances.from_dict(json.loads(json.dumps(found.to_dict()))) == found


def _sentence(rng, keywords):
    words = list(rng.choice(FILLER, size=5)) + [str(rng.choice(keywords))]
    rng.shuffle(words)
    return " ".join(words)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """Sentences of filler words and one animal or food word; Embedding → average → softmax, a few epochs."""
    import dlworkflow

    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("words")
    labels = np.arange(240) % 2
    texts = [_sentence(rng, FOODS if label else ANIMALS) for label in labels]
    path = folder / "sentences.csv"
    pd.DataFrame({"text": texts, "kind": np.where(labels, "food", "animal")}).to_csv(path, index=False)
    spec = {
        "name": "sentences",
        "data": {"path": str(path), "target": "kind", "columns": {"text": "text"},
                 "text": {"mode": "sequence", "sequence_length": 8}},
        "split": {"type": "stratified", "test": 0.2, "validation": 0.2},
        "model": {"layers": [{"type": "Embedding", "output_dim": 8, "mask_zero": True},
                             {"type": "GlobalAveragePooling1D"},
                             {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "train": {"epochs": 30, "backend": "jax", "batch_size": 16, "optimizer": "adam",
                  "loss": "categorical_crossentropy"},
    }
    registry = f"sqlite:///{folder / 'registry.db'}"
    return dlworkflow.run(spec, registry=registry), registry


@pytest.mark.slow  # trains a small text model (several seconds)
def test_dlw_explain_on_a_text_run_prints_the_top_words_of_each_row(text_run):
    result, registry = text_run
    explained = runner.invoke(app, ["explain", result.id, "--rows", "4", "--registry", registry])
    assert explained.exit_code == 0, explained.output
    assert "Word importances of text column 'text' on 4 validation rows" in explained.output
    folder = Path(result.record["artifacts"]["dir"])
    (column,) = json.loads((folder / "explanation.json").read_text())["word_importance"]
    found = WordImportances.from_dict(column)
    assert len(found.rows) == 4
    for row in found.rows:
        assert f"row {row.row}: true {row.true}, predicted {row.predicted}: {row.top(1)[0].word}" in explained.output
        if row.true == row.predicted:  # a right answer rests on the animal or food word, not on the fillers
            assert row.top(1)[0].word in ANIMALS + FOODS
            assert row.top(1)[0].importance > max(word.importance for word in row.words if word.word in FILLER)
    report = runner.invoke(app, ["report", result.id, "--registry", registry])
    assert report.exit_code == 0, report.output
    assert "Word importances of the text column" in (folder / "report.html").read_text()
