"""Tests of dlworkflow.evaluation.diagnosis on histories built by hand: one test per finding, a healthy run,
the lesson's overfitting weather model, and edge cases (no validation, one epoch, NaN)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dlworkflow.evaluation.diagnosis import (
    FINDING_KINDS,
    METRIC_CEILINGS,
    DataScales,
    Finding,
    RunSettings,
    diagnose,
)

WEATHER_SETTINGS = RunSettings(
    epochs=200, optimizer="adam", early_stopping=False, layer_types=("Dense", "Dense", "Dense"),
    hidden_units=(100, 50), scaling="none", parameters=14_101, training_rows=767,
)
"""examples/weather.toml: the lesson's 100-50 network on 3 years, no early stopping."""


def history_of(loss, val_loss=None, **metrics) -> pd.DataFrame:
    """A history as fit_model returns it: a 1-based epoch column, then Keras' keys."""
    columns = {"epoch": np.arange(1, len(loss) + 1), "loss": np.asarray(loss, dtype=float)}
    if val_loss is not None:
        columns["val_loss"] = np.asarray(val_loss, dtype=float)
    columns.update({name: np.asarray(values, dtype=float) for name, values in metrics.items()})
    return pd.DataFrame(columns)


def healthy_history(epochs: int = 60, seed: int = 0) -> pd.DataFrame:
    """Both losses fall and level off together, the validation loss a little above the training loss."""
    rng = np.random.default_rng(seed)
    e = np.arange(epochs)
    loss = (3.0 + 7.0 * np.exp(-e / 6)) * (1 + 0.005 * rng.standard_normal(epochs))
    val_loss = (3.3 + 7.0 * np.exp(-e / 6)) * (1 + 0.005 * rng.standard_normal(epochs))
    return history_of(loss, val_loss)


def weather_history(seed: int = 0) -> pd.DataFrame:
    """The lesson's 100-50 model on 3 years of weather, 200 epochs: training MSE keeps falling, validation MSE is
    lowest around epoch 20 and then climbs (the lesson's first epochs: 21.4/14.3, 13.2/12.2, 11.8/11.7)."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, 201)
    loss = (1.2 + 14.0 * np.exp(-(e - 1) / 10) + 6.0 * np.exp(-e / 60)) * (1 + 0.01 * rng.standard_normal(200))
    val_loss = (11.4 + 3.0 * np.exp(-(e - 1) / 6) + 0.045 * np.maximum(e - 20, 0)) * (
        1 + 0.01 * rng.standard_normal(200)
    )
    return history_of(
        loss, val_loss, root_mean_squared_error=np.sqrt(loss), val_root_mean_squared_error=np.sqrt(val_loss)
    )


REGRESSION_BASELINES = {
    "mean": {"train": {"rmse": 4.6}, "validation": {"rmse": 4.7}, "test": {"rmse": 4.5}},
    "persistence": {"train": {"rmse": 3.85}, "validation": {"rmse": 3.9}, "test": {"rmse": 3.88}},
}


def kinds(findings: list[Finding]) -> list[str]:
    return [finding.kind for finding in findings]


# --- one test per finding -------------------------------------------------------------------------------------


def test_overfitting_names_the_epoch_of_lowest_validation_loss():
    loss = [10.0 - 0.4 * i for i in range(20)]  # 10.0 ... 2.4, always falling
    val_loss = [8.0 + 0.3 * abs(i - 5) for i in range(20)]  # lowest (8.0) at epoch 6, 12.2 at epoch 20
    findings = diagnose(history_of(loss, val_loss), evaluated_epoch=20)

    assert kinds(findings) == ["overfitting"]
    finding = findings[0]
    assert "lowest at epoch 6" in finding.summary
    # The tail is epochs 16-20: validation 10.7 ... 12.2 (median 11.6, 45% above 8), training 4.0 ... 2.4 (median 3.2).
    assert "lowest at epoch 6 (8)" in finding.evidence
    assert finding.evidence == (
        "validation loss was lowest at epoch 6 (8); over epochs 16–20 its median was 11.6 (45% higher) while "
        "training loss fell from 8 at epoch 6 to a median of 3.2. The evaluated weights are those of epoch 20."
    )
    assert finding.remedies[0].startswith("fewer parameters")


def test_underfitting_compares_training_scores_with_the_best_baseline():
    # The lesson's unscaled penguins: the loss barely moves, logistic regression gets 0.97 on the training rows.
    rng = np.random.default_rng(1)
    loss = 1.1 + 0.01 * rng.standard_normal(100)
    baselines = {
        "majority_class": {"train": {"accuracy": 0.44}, "test": {"accuracy": 0.45}},
        "logistic_regression": {"train": {"accuracy": 0.97}, "test": {"accuracy": 0.96}},
    }
    scores = {"train": {"accuracy": 0.36}, "test": {"accuracy": 0.35}}
    settings = RunSettings(epochs=100, layer_types=("Dense", "Dense"), hidden_units=(10,), scaling="none")

    findings = diagnose(history_of(loss), metric="accuracy", scores=scores, baselines=baselines, settings=settings)

    assert kinds(findings) == ["underfitting"]
    finding = findings[0]
    assert "no better than the logistic_regression baseline" in finding.summary
    assert finding.evidence == "training accuracy: the model's 0.36 against 0.97 for the logistic_regression baseline."
    assert finding.remedies[0] == "scale the inputs: [data] scaling = 'standardize' (the features are unscaled now)"
    assert finding.remedies[1].startswith("more parameters: more units or layers in [[model.layers]] (units 10 now)")


def test_not_converged_when_validation_loss_still_falls_at_the_last_epoch():
    epochs = np.arange(1, 31)
    findings = diagnose(history_of(19.0 - 0.4 * epochs, 20.0 - 0.4 * epochs), settings=RunSettings(epochs=30))

    assert kinds(findings) == ["not_converged"]
    finding = findings[0]
    assert finding.summary == "Not converged: validation loss was still falling at the last epoch (30)."
    # Medians: epochs 21-25 → 20 - 0.4·23 = 10.8; epochs 26-30 → 20 - 0.4·28 = 8.8 (18.5% lower).
    assert finding.evidence == (
        "validation loss fell 18.5% over the last 5 epochs: median 10.8 over epochs 21–25, "
        "8.8 over epochs 26–30; lowest at epoch 30 (8)."
    )
    assert finding.remedies == (
        (
            "more epochs: [train] epochs = 60 (now 30) with [train.early_stopping] monitor = 'val_loss', "
            "patience = 10, restore_best_weights = true, so training stops by itself when validation loss stops "
            "improving"
        ),
    )


def test_no_better_than_baseline_on_validation():
    scores = {"train": {"rmse": 3.0}, "validation": {"rmse": 3.95}, "test": {"rmse": 3.92}}
    findings = diagnose(healthy_history(), metric="rmse", scores=scores, baselines=REGRESSION_BASELINES)

    assert kinds(findings) == ["no_better_than_baseline"]
    finding = findings[0]
    assert "on the validation data the model does not beat the persistence baseline" in finding.summary
    assert finding.evidence == "validation rmse: the model's 3.95 against 3.9 for the persistence baseline."


def test_unstable_training_loss_spike():
    loss = [10.0, 8.0, 6.0, 5.0, 4.0, 12.0, 4.0] + [3.8] * 9  # one jump, then levelling off
    settings = RunSettings(optimizer="adam", learning_rate=0.01, scaling="standardize")
    findings = diagnose(history_of(loss), settings=settings)

    assert kinds(findings) == ["unstable"]
    finding = findings[0]
    assert finding.summary == "Unstable training: the loss spiked."
    assert finding.evidence == "training loss jumped to 12 at epoch 6, 3.0× its lowest value before (4 at epoch 5)."
    assert finding.remedies[-1] == "lower learning rate: [train.optimizer] learning_rate = 0.001 (now 0.01)"


def test_healthy_run_has_no_finding():
    scores = {"train": {"rmse": 1.8}, "validation": {"rmse": 1.9}, "test": {"rmse": 1.95}}
    settings = RunSettings(epochs=60, scaling="standardize")
    assert diagnose(healthy_history(), metric="rmse", scores=scores, baselines=REGRESSION_BASELINES,
                    evaluated_epoch=60, settings=settings) == []


# --- the lesson's weather model -------------------------------------------------------------------------------


def test_lessons_weather_model_overfits():
    history = weather_history()
    lowest_epoch = int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert 15 <= lowest_epoch <= 30  # the curve is built so; the diagnosis must find the very epoch
    scores = {"train": {"rmse": 1.5}, "validation": {"rmse": 4.4}, "test": {"rmse": 4.3}}

    findings = diagnose(history, metric="rmse", scores=scores, baselines=REGRESSION_BASELINES,
                        evaluated_epoch=200, settings=WEATHER_SETTINGS)

    assert kinds(findings) == ["overfitting", "no_better_than_baseline"]
    overfitting = findings[0]
    lowest = history["val_loss"].min()
    assert f"validation loss was lowest at epoch {lowest_epoch} ({lowest:.4g})" in overfitting.evidence
    assert "epochs 196–200" in overfitting.evidence
    remedies = overfitting.remedies
    assert [remedy.split(":")[0] for remedy in remedies] == [
        "fewer parameters", "Dropout", "BatchNormalization", "early stopping", "more data",
    ]  # the workshop's order; no augmentation for a table
    assert remedies[0] == (
        "fewer parameters: fewer units in [[model.layers]] (units 100, 50 now: try 50, 25 or less) or fewer layers; "
        "the model has 14,101 trainable parameters for 767 training rows"
    )
    assert remedies[3] == (
        "early stopping: [train.early_stopping] monitor = 'val_loss', patience = 10, restore_best_weights = true"
        f" — validation loss was lowest at epoch {lowest_epoch}"
    )


def test_overfitting_from_a_widening_gap_without_a_rise():
    # Validation loss levels off at 1.0 after epoch 10 while training loss goes on down to 0.4.
    loss = np.concatenate([np.linspace(2.0, 1.0, 10), np.linspace(0.95, 0.4, 30)])
    val_loss = np.concatenate([np.linspace(2.1, 1.0, 10), 1.0 + 0.01 * np.abs(np.sin(np.arange(1, 31)))])
    findings = diagnose(history_of(loss, val_loss))

    assert kinds(findings) == ["overfitting"]
    summary, evidence = findings[0].summary, findings[0].evidence
    assert summary.startswith("Overfitting: after epoch 10 training loss kept falling")
    assert "the gap between them widened" in summary
    # At epoch 10 both losses are 1.0; over epochs 36-40 training loss has a median of 0.438, validation about 1.008.
    gap_at_end = 1 - np.median(loss[-5:]) / np.median(val_loss[-5:])
    assert f"grew from 0.01 to {gap_at_end:.2f}" in evidence  # 0.01: measured from the running median's floor
    assert "validation loss was lowest at epoch 10 (1) and its median over epochs 36–40 was 1.008" in evidence
    assert "training loss fell from 1 at epoch 10 to a median of 0.4379" in evidence


def test_overfitting_remedies_follow_what_the_run_already_has():
    loss = [10.0 - 0.4 * i for i in range(20)]
    val_loss = [8.0 + 0.3 * abs(i - 5) for i in range(20)]
    has_all = RunSettings(
        layer_types=("BatchNormalization", "Dense", "Dropout", "Dense"), hidden_units=(64,), dropout_rates=(0.2,),
        early_stopping=True, patience=14, restore_best_weights=False, images=True,
    )
    remedies = diagnose(history_of(loss, val_loss), settings=has_all)[0].remedies

    assert [remedy.split(":")[0] for remedy in remedies] == [
        "fewer parameters", "Dropout", "early stopping", "more data", "augmentation",
    ]
    assert remedies[1] == "Dropout: raise the rate of the Dropout layer(s) (rate 0.2 now)"
    assert "restore_best_weights = true, so the best epoch's weights are evaluated" in remedies[2]
    assert remedies[3] == "more data: more training images"


# --- edge cases -----------------------------------------------------------------------------------------------


def test_history_without_validation_judges_convergence_on_training_loss():
    epochs = np.arange(1, 21)
    scores = {"train": {"rmse": 2.0}, "test": {"rmse": 9.0}}  # bad on test, but test is never chosen
    findings = diagnose(history_of(20.0 - 0.5 * epochs), metric="rmse", scores=scores,
                        baselines={"mean": {"train": {"rmse": 4.0}, "test": {"rmse": 4.1}}})

    assert kinds(findings) == ["not_converged"]
    assert findings[0].evidence.startswith("training loss fell")
    assert "lowest at epoch 20 (10)" in findings[0].evidence


def test_test_split_is_compared_only_when_asked():
    scores = {"train": {"rmse": 1.8}, "validation": {"rmse": 1.9}, "test": {"rmse": 5.0}}
    history = healthy_history()
    assert diagnose(history, metric="rmse", scores=scores, baselines=REGRESSION_BASELINES) == []

    findings = diagnose(history, metric="rmse", scores=scores, baselines=REGRESSION_BASELINES, compare_on="test")
    assert kinds(findings) == ["no_better_than_baseline"]
    assert findings[0].evidence.startswith("test rmse: the model's 5 against 3.88 for the persistence baseline")


def test_single_epoch():
    history = history_of([2.0], [2.1], accuracy=[0.9])
    baselines = {"majority_class": {"train": {"accuracy": 0.5}, "validation": {"accuracy": 0.5}}}
    assert diagnose(history, metric="accuracy", baselines=baselines) == []
    assert diagnose(history_of([2.0])) == []


def test_underfitting_falls_back_to_the_history_metric_at_the_evaluated_epoch():
    history = history_of([1.1, 1.1, 1.1], accuracy=[0.30, 0.42, 0.35])
    baselines = {"majority_class": {"train": {"accuracy": 0.44}}}
    findings = diagnose(history, metric="accuracy", baselines=baselines, evaluated_epoch=2)

    assert kinds(findings) == ["underfitting"]
    assert "the model's 0.42 against 0.44" in findings[0].evidence
    assert "history column 'accuracy' at epoch 2" in findings[0].evidence


def test_nan_values_are_unstable_and_do_not_break_the_other_rules():
    loss = [5.0, 4.0, math.nan, math.nan]
    val_loss = [5.2, 4.3, math.inf, math.nan]
    findings = diagnose(history_of(loss, val_loss), settings=RunSettings(scaling="none"))

    assert kinds(findings) == ["unstable"]
    finding = findings[0]
    assert finding.summary == "Unstable training: values became NaN or infinite."
    assert finding.evidence == "loss was NaN at epoch 3; val_loss was inf at epoch 3."
    assert finding.remedies[0].startswith("scale the inputs: [data] scaling = 'standardize'")
    assert finding.remedies[-1].startswith("missing values: [data] dropna = true")


def test_no_epoch_column_counts_rows():
    findings = diagnose(pd.DataFrame({"loss": [10.0, 8.0, 6.0, 5.0, 4.0, 12.0]}))
    # Still falling (medians 8 → 5, lowest at epoch 5) and a spike at the last epoch, numbered from the rows.
    assert kinds(findings) == ["not_converged", "unstable"]
    assert "lowest at epoch 5 (4)" in findings[0].evidence
    assert "jumped to 12 at epoch 6" in findings[1].evidence


def test_unknown_metric():
    with pytest.raises(ValueError, match="diagnose: unknown metric 'rmsle'; known metrics: 'rmse'"):
        diagnose(history_of([1.0]), metric="rmsle")


def test_findings_are_json_ready_and_read_back():
    findings = diagnose(weather_history(), settings=WEATHER_SETTINGS)
    data = json.loads(json.dumps([finding.to_dict() for finding in findings]))

    assert data[0]["kind"] in FINDING_KINDS
    assert isinstance(data[0]["remedies"], list)
    assert [Finding.from_dict(item) for item in data] == findings


# --- the ceiling and the data's scales (issue 15) -----------------------------------------------------------------

WINE_BASELINES = {
    "majority_class": {"train": {"accuracy": 0.40}, "validation": {"accuracy": 0.39}},
    "logistic_regression": {"train": {"accuracy": 1.0}, "validation": {"accuracy": 1.0}},
}
"""scikit-learn's wine classes: logistic regression separates them perfectly."""


def test_a_perfect_model_tied_with_a_perfect_baseline_is_not_underfitting():
    scores = {"train": {"accuracy": 1.0}, "validation": {"accuracy": 1.0}}

    findings = diagnose(healthy_history(), metric="accuracy", scores=scores, baselines=WINE_BASELINES)

    assert findings == []


def test_a_model_that_fits_its_training_rows_is_not_underfitting():
    # Two wine samples in 106 wrong on the training rows: it fits them; on validation it trails a perfect baseline.
    scores = {"train": {"accuracy": 0.9811}, "validation": {"accuracy": 0.9722}}

    findings = diagnose(healthy_history(), metric="accuracy", scores=scores, baselines=WINE_BASELINES)

    assert kinds(findings) == ["no_better_than_baseline"]


def test_well_below_the_ceiling_against_a_perfect_baseline_is_still_underfitting():
    scores = {"train": {"accuracy": 0.9}, "validation": {"accuracy": 1.0}}

    findings = diagnose(healthy_history(), metric="accuracy", scores=scores, baselines=WINE_BASELINES)

    assert kinds(findings) == ["underfitting"]


@pytest.mark.parametrize("metric", sorted(METRIC_CEILINGS))
def test_no_baseline_finding_at_any_metrics_ceiling(metric):
    best = METRIC_CEILINGS[metric]
    baselines = {"perfect": {"train": {metric: best}, "validation": {metric: best}}}
    scores = {"train": {metric: best}, "validation": {metric: best}}

    assert diagnose(healthy_history(), metric=metric, scores=scores, baselines=baselines) == []


PENGUIN_SCALES = DataScales(feature_spreads=(1.97, 801.0), feature_scaling="none")
"""The lesson's penguins: bill depth spreads about 2 mm, body mass about 800 g, no scaling."""


def test_unscaled_inputs_are_named_as_the_likely_cause():
    baselines = {"logistic_regression": {"train": {"accuracy": 0.99}, "test": {"accuracy": 0.97}}}
    scores = {"train": {"accuracy": 0.34}}
    settings = RunSettings(scaling="none", hidden_units=(10,))

    finding = diagnose(history_of([1.1] * 30), metric="accuracy", scores=scores, baselines=baselines,
                       settings=settings, scales=PENGUIN_SCALES)[0]

    assert finding.kind == "underfitting"
    assert finding.summary.endswith(
        "Likely cause: the inputs are unscaled (standard deviations from 1.97 to 801 on the training rows)."
    )
    assert finding.remedies[0] == "scale the inputs: [data] scaling = 'standardize' (the features are unscaled now)"


def test_inputs_near_unit_scale_are_not_blamed():
    scales = DataScales(feature_spreads=(0.6, 3.0), feature_scaling="none")
    baselines = {"mean": {"train": {"rmse": 1.0}}}

    finding = diagnose(history_of([1.1] * 30), metric="rmse", scores={"train": {"rmse": 1.2}}, baselines=baselines,
                       settings=RunSettings(scaling="none"), scales=scales)[0]

    assert "Likely cause" not in finding.summary


def test_a_table_of_text_only_is_not_told_to_scale_its_inputs():
    # Token ids, one-hot and TF-IDF columns are not scaled: 'standardize' has nothing to act on.
    scales = DataScales(feature_scaling="none", numeric_inputs=False)
    baselines = {"tf_idf_logistic_regression": {"train": {"accuracy": 0.95}}}

    finding = diagnose(history_of([1.1] * 30), metric="accuracy", scores={"train": {"accuracy": 0.4}},
                       baselines=baselines, settings=RunSettings(scaling="none", hidden_units=(16,)), scales=scales)[0]

    assert finding.kind == "underfitting"
    assert not any(remedy.startswith("scale the inputs") for remedy in finding.remedies)


DIABETES_SCALES = DataScales(feature_spreads=(1.0, 1.0), feature_scaling="standardize", target_spread=77.0,
                             target_mean=152.0, target_scaling="none")
"""scikit-learn's diabetes table with standardized inputs and its target (25–346) as it is."""

DIABETES_BASELINES = {
    "mean": {"train": {"rmse": 77.0}, "validation": {"rmse": 78.0}, "test": {"rmse": 64.0}},
    "linear_regression": {"train": {"rmse": 53.0}, "validation": {"rmse": 55.0}, "test": {"rmse": 50.0}},
}


def test_an_unscaled_target_far_from_unit_scale_is_named_first():
    scores = {"train": {"rmse": 90.0}, "validation": {"rmse": 92.0}}
    settings = RunSettings(scaling="standardize", hidden_units=(64,))

    findings = diagnose(history_of(np.linspace(20_000, 8_000, 60)), metric="rmse", scores=scores,
                        baselines=DIABETES_BASELINES, settings=settings, scales=DIABETES_SCALES)

    underfitting = next(finding for finding in findings if finding.kind == "underfitting")
    assert "Likely cause: the target is unscaled (standard deviation 77, mean 152 on the training rows)." in (
        underfitting.summary)
    assert underfitting.remedies[0].startswith("scale the target: [data] target_scaling = 'standardize'")
    no_better = next(finding for finding in findings if finding.kind == "no_better_than_baseline")
    assert no_better.remedies[0].startswith("scale the target:")


def test_a_scaled_target_is_not_blamed_and_its_history_is_not_compared():
    # A target in tonnes (spread 0.01): the history's 0.5 is on the standardized target, 0.005 in tonnes.
    scales = DataScales(target_spread=0.01, target_mean=0.2, target_scaling="standardize")
    history = history_of([0.25] * 20, root_mean_squared_error=[0.5] * 20)
    baselines = {"mean": {"train": {"rmse": 0.01}}}

    assert diagnose(history, metric="rmse", scores={}, baselines=baselines, scales=scales) == []
    assert kinds(diagnose(history, metric="rmse", scores={}, baselines=baselines)) == ["underfitting"]


def test_a_run_early_stopping_ended_while_the_loss_still_fell_is_told_to_be_patient():
    # WordNet text: patience 2 stopped at epoch 12 of 20, lowest at 10, the medians still falling.
    validation = [0.40, 0.30, 0.26, 0.24, 0.22, 0.21, 0.205, 0.19, 0.18, 0.1737, 0.176, 0.175]
    history = history_of([v * 0.5 for v in validation], validation)
    settings = RunSettings(epochs=20, early_stopping=True, patience=2)

    finding = next(f for f in diagnose(history, settings=settings) if f.kind == "not_converged")

    assert finding.summary.startswith("Not converged: early stopping ended training at epoch 12")
    assert list(finding.remedies) == ["more patience: [train.early_stopping] patience = 5 (now 2); "
                                "it stopped the run at epoch 12 of 20"]
