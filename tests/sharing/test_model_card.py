"""The model card: every section, the numbers a receiver needs, and user text kept as text."""

from __future__ import annotations

import copy
import json

import pytest

from dlworkflow.sharing.model_card import code, escape_markdown, model_card

RECORD = {
    "id": "20261123-215917-474e44",
    "name": "weather",
    "description": "All 89 features, 3 years. nn: 100-50",
    "status": "finished",
    "created_at": "2026-11-23T21:59:17+00:00",
    "finished_at": "2026-11-23T21:59:30+00:00",
    "spec": {
        "data": {"dataset": "weather", "target": "BASEL_sunshine", "shift": -1, "rows": 1096,
                 "drop": ["DATE", "MONTH"], "scaling": "standardize", "dropna": False, "select": []},
        "model": {"layers": [{"type": "Dense", "units": 100, "activation": "relu"}, {"type": "Dense", "units": 1}]},
        "train": {"optimizer": {"type": "adam"}, "loss": {"type": "mse"}, "batch_size": 32},
    },
    "spec_hash": "bc99031b",
    "spec_file": "examples/weather.toml",
    "data": {"name": "weather", "fingerprint": "caf1277b611cd3566db3", "task": "regression",
             "target": "BASEL_sunshine", "features": ["BASEL_sunshine", "BASEL_temp_mean"], "class_names": None},
    "split": {"type": "random", "seed": 0, "train": 767, "validation": 164, "test": 165},
    "test_set": {"name": "weather_3_years_v1", "fingerprint": "cc00f7cb82e8b30d", "looks": 3, "look": 2},
    "params": {"total": 14101, "trainable": 14101, "non_trainable": 0},
    "metrics": {
        "train": {"loss": 9.0, "rmse": 3.0, "mae": 2.5},
        "validation": {"loss": 12.0, "rmse": 3.5, "mae": 2.9},
        "test": {"loss": 11.7, "rmse": 3.9204, "mae": 2.86},
    },
    "baselines": {
        "mean": {"train": {"rmse": 4.4, "mae": 3.8}, "validation": {"rmse": 4.2, "mae": 3.6},
                 "test": {"rmse": 4.57, "mae": 3.93}},
        "persistence": {"train": {"rmse": 4.4, "mae": 3.2}, "validation": {"rmse": 4.1, "mae": 3.1},
                        "test": {"rmse": 3.8773, "mae": 2.69}},
    },
    "primary": {"metric": "rmse", "value": 3.9204, "baseline": "persistence", "baseline_value": 3.8773,
                "skill": -0.0111},
    "training": {"epochs_run": 200, "evaluated_epoch": 200, "best_epoch": None, "stopped_early": False},
    "git": {"commit": "3f2a9c0d1e", "dirty": True},
    "backend": "jax",
    "versions": {"python": "3.11.7", "keras": "3.15.1", "jax": "0.10.2"},
    "seed": 0,
    "comments": [{"text": "needs <b>more</b> data", "created_at": "2026-11-24"}],
    "diagnosis": [{"kind": "overfitting", "summary": "Overfitting: validation loss was lowest at epoch 14.",
                   "evidence": "val_loss 10.2 at epoch 14, 12.0 at epoch 200.",
                   "remedies": ["fewer parameters", "Dropout"]}],
}

PREPROCESSING = {
    "feature_names": ["BASEL_sunshine", "BASEL_temp_mean"], "target": "BASEL_sunshine", "shift": -1,
    "task": "regression", "target_encoding": None, "class_names": None,
    "scaling": {"method": "standardize", "feature_names": ["BASEL_sunshine", "BASEL_temp_mean"],
                "offset": {"BASEL_sunshine": 4.5, "BASEL_temp_mean": 11.0},
                "scale": {"BASEL_sunshine": 4.4, "BASEL_temp_mean": 7.0}},
}


def test_card_has_every_section_in_order():
    card = model_card(RECORD, PREPROCESSING)
    headings = [line for line in card.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Intended use", "## Model", "## Data and split", "## Preprocessing", "## Metrics beside the baselines",
        "## Test-set looks", "## Diagnosis", "## Limitations", "## Comments", "## Provenance",
    ]
    assert card.startswith("# Model card: weather\n") and card.endswith("\n")


def test_card_numbers_metrics_beside_baselines_with_skill():
    card = model_card(RECORD, PREPROCESSING)
    assert "test `rmse` **3.92** against 3.877 for the best baseline, persistence (skill -0.0111)" in card
    assert "no better than the baseline" in card
    assert "| **rmse** | test | 3.92 | persistence | 3.877 | -0.0111 |" in card
    assert "| mae | validation | 2.9 | persistence | 3.1 |" in card  # every metric, every part
    assert "chosen on validation, never on test" in card
    assert "| mean | 4.57 | 3.93 |" in card  # every baseline on the test set


def test_card_prints_a_large_value_as_the_command_line_does():
    record = copy.deepcopy(RECORD)
    record["primary"].update(value=12345.6, baseline_value=23456.7)
    card = model_card(record, PREPROCESSING)
    assert "test `rmse` **12,346** against 23,457 for the best baseline" in card  # was **1.235e+04**
    assert "e+04" not in card


def test_card_data_split_preprocessing_and_use():
    card = model_card(RECORD, PREPROCESSING)
    assert "767 train / 164 validation / 165 test" in card
    assert "caf1277b611cd3566db3" in card and "weather\\_3\\_years\\_v1" in card
    assert "predicts the value of `BASEL_sunshine` 1 row later (data.shift = -1)" in card
    assert "drop `DATE`, `MONTH`" in card and "keep the first 1,096 rows" in card
    assert "Scaling: `standardize` (mean and standard deviation of the training rows" in card
    assert "Features (2, in network order): `BASEL_sunshine`, `BASEL_temp_mean`" in card
    assert "Parameters: 14,101 (14,101 trainable, 0 non-trainable)" in card


def test_card_looks_diagnosis_limitations_provenance():
    card = model_card(RECORD, PREPROCESSING)
    assert "has been looked at 3 times" in card and "This run's look was #2." in card
    assert "- **overfitting**: Overfitting: validation loss was lowest at epoch 14." in card
    assert "  1. fewer parameters" in card and "  2. Dropout" in card
    limitations = card.split("## Limitations")[1].split("## ")[0]
    assert "Trained on 767 rows of weather, the first 1,096 rows" in limitations
    assert "No better than the baseline" in limitations and "looked at 3 times" in limitations
    assert "1 row later than each input row" in limitations and "overfitting" in limitations
    assert "Git commit `3f2a9c0d1e` with uncommitted changes (dirty)" in card
    assert "| keras | 3.15.1 |" in card and "| jax | 0.10.2 |" in card
    assert "Keras backend: `jax`" in card


def test_card_of_a_record_not_yet_stored_says_the_look_is_counted_later():
    record = copy.deepcopy(RECORD)
    record["test_set"]["looks"] = record["test_set"]["look"] = None
    assert "is counted when the run is recorded" in model_card(record, PREPROCESSING)


def test_card_without_preprocessing_uses_the_record():
    card = model_card(RECORD)
    assert "Features (2, in network order)" in card and "Scaling: `standardize`" in card


@pytest.mark.parametrize("field", ["name", "description"])
def test_user_text_is_escaped(field):
    record = copy.deepcopy(RECORD)
    record[field] = "<script>alert('x')</script> *big* | [link](http://x) \n# heading"
    card = model_card(record, PREPROCESSING)
    assert "<script>" not in card
    assert "&lt;script&gt;alert('x')&lt;/script&gt; \\*big\\* \\| \\[link\\](http://x) # heading" in card
    assert "\n# heading" not in card
    assert "<b>" not in card and "needs &lt;b&gt;more&lt;/b&gt; data" in card  # comments too


def test_class_names_and_columns_are_escaped_in_tables():
    record = copy.deepcopy(RECORD)
    record["test_set"]["name"] = "a|b"
    record["data"]["name"] = "x<y"
    card = model_card(record, PREPROCESSING)
    assert "| test set | a\\|b (fingerprint" in card
    assert "| source | x&lt;y (built-in dataset weather) |" in card


def test_classification_card_lists_classes_and_per_class_accuracy():
    record = copy.deepcopy(RECORD)
    record["data"].update(task="classification", target="species", class_names=["Adelie", "Gentoo"])
    record["spec"]["data"].update(shift=0, rows=None, target="species")
    record["classes"] = {"per_class_accuracy": {"test": {"Adelie": 0.9, "Gentoo": 1.0}}}
    saved = {**PREPROCESSING, "shift": 0, "task": "classification", "class_names": ["Adelie", "Gentoo"],
             "target_encoding": "onehot"}
    card = model_card(record, saved)
    assert "predicts the class of `species` — one of Adelie, Gentoo — with a probability per class" in card
    assert "Classes (2, in output order): `Adelie`, `Gentoo`; target encoding `onehot`" in card
    assert "Test accuracy per class: Adelie 0.9 · Gentoo 1" in card
    assert "always answers with one of its classes" in card


def test_escape_helpers():
    assert escape_markdown("a_b & <c>") == "a\\_b &amp; &lt;c&gt;"
    assert escape_markdown(None) == ""
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``"


def test_card_of_a_real_run(weather_run):
    preprocessing = json.loads((weather_run.folder / "preprocessing.json").read_text())
    card = model_card(weather_run.record, preprocessing)
    primary = weather_run.record["primary"]
    assert f"**{primary['value']:.4g}**" in card
    assert "Features (89, in network order)" in card
    assert "767 train / 164 validation / 165 test" in card


def test_card_of_an_image_run(image_arrays_run):
    preprocessing = json.loads((image_arrays_run.folder / "preprocessing.json").read_text())
    card = model_card(image_arrays_run.record, preprocessing)
    assert "An image classifier: it assigns each image (8×8 pixels, 3 channels after resizing) one of 2 classes" in card
    assert "Scaling: `pixels` (pixels multiplied by 0.003922)" in card
    assert "Classes (2, in output order): `cat`, `dog`" in card
    assert "Features (" not in card
