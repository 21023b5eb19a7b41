"""Tests of dlworkflow.evaluation.regression_plots: predicted vs true with a baseline, and residuals over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dlworkflow.evaluation import PersistenceBaseline, regression_plots
from dlworkflow.evaluation.regression_plots import (
    format_value,
    predicted_vs_true_figure,
    predicted_vs_true_plot,
    residuals_figure,
    residuals_plot,
    rmse,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TRUE = {"train": np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]), "test": np.array([1.0, 2.0, 3.0, 4.0])}
PREDICTED = {"train": TRUE["train"] + 0.5, "test": TRUE["test"] - 1.0}  # RMSE 0.5 and 1
PERSISTENCE = {
    "train": TRUE["train"] + np.array([2.0, -2.0, 2.0, -2.0, 2.0, -2.0]),  # RMSE 2
    "test": TRUE["test"] + np.array([3.0, -3.0, 3.0, -3.0]),  # RMSE 3
}


def opened_png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image


def assert_size(image: Image.Image, expected: tuple[float, float]) -> None:
    """Pixel size within 1 of the figure size times DPI."""
    assert all(abs(got - want) <= 1 for got, want in zip(image.size, expected, strict=True)), (image.size, expected)


def legend_labels(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def scatter_points(axes) -> dict[str, np.ndarray]:
    """Each scatter's (x, y) offsets by its label."""
    return {collection.get_label(): np.asarray(collection.get_offsets()) for collection in axes.collections}


# --- rmse and format_value --------------------------------------------------------------------


def test_rmse_skips_rows_without_a_finite_difference():
    assert rmse([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == pytest.approx(np.sqrt(2 / 3))
    assert rmse([1.0, np.nan, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(np.sqrt(2.0))
    assert np.isnan(rmse([np.nan], [1.0]))


def test_format_value_keeps_three_significant_digits():
    assert [format_value(v) for v in (3.87732, 0.012345, 2.0, 12345.6, float("nan"))] == [
        "3.88", "0.0123", "2", "12,346", "nan"
    ]


# --- predicted vs true ------------------------------------------------------------------------


def test_predicted_vs_true_plot_writes_two_square_panels(tmp_path):
    path = predicted_vs_true_plot(TRUE, PREDICTED, tmp_path / "scatter.png", baseline_by_part=PERSISTENCE,
                                  baseline_name="persistence", target_name="BASEL_sunshine")
    assert path == tmp_path / "scatter.png"
    assert_size(opened_png(path), (920, 490))


def test_titles_hold_the_model_and_baseline_rmse_computed_from_the_values():
    figure = predicted_vs_true_figure(TRUE, PREDICTED, baseline_by_part=PERSISTENCE, baseline_name="persistence")
    train, test = figure.axes
    assert train.get_title() == "training set (6 rows)\nmodel RMSE 0.5 · persistence RMSE 2"
    assert test.get_title() == "test set (4 rows)\nmodel RMSE 1 · persistence RMSE 3"


def test_model_and_baseline_points_are_drawn_in_two_colours():
    figure = predicted_vs_true_figure(TRUE, PREDICTED, baseline_by_part=PERSISTENCE, baseline_name="persistence")
    points = scatter_points(figure.axes[1])
    np.testing.assert_allclose(points["model"], np.column_stack([TRUE["test"], PREDICTED["test"]]))
    np.testing.assert_allclose(points["persistence"], np.column_stack([TRUE["test"], PERSISTENCE["test"]]))
    colors = {collection.get_label(): collection.get_facecolor()[0][:3] for collection in figure.axes[1].collections}
    assert not np.allclose(colors["model"], colors["persistence"])
    assert legend_labels(figure.axes[1]) == ["persistence", "model", "y = x"]


def test_the_diagonal_spans_both_axes_which_share_one_range():
    figure = predicted_vs_true_figure(TRUE, PREDICTED, baseline_by_part=PERSISTENCE, target_name="sunshine")
    for axes, part in zip(figure.axes, ("train", "test"), strict=True):
        (diagonal,) = [line for line in axes.get_lines() if line.get_label() == "y = x"]
        np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
        assert axes.get_xlim() == axes.get_ylim()
        low, high = axes.get_xlim()
        shown = np.concatenate([TRUE[part], PREDICTED[part], PERSISTENCE[part]])
        assert low < shown.min() and high > shown.max()  # every point inside, the baseline's too
        assert (axes.get_xlabel(), axes.get_ylabel()) == ("true sunshine", "predicted sunshine")


def test_without_a_baseline_the_panels_show_the_model_only():
    figure = predicted_vs_true_figure(TRUE, {"test": PREDICTED["test"].reshape(-1, 1)})  # (rows, 1) accepted
    (axes,) = figure.axes
    assert axes.get_title() == "test set (4 rows)\nmodel RMSE 1"
    assert list(scatter_points(axes)) == ["model"]


def test_a_part_the_baseline_lacks_shows_no_baseline():
    figure = predicted_vs_true_figure(TRUE, PREDICTED, baseline_by_part={"test": PERSISTENCE["test"]})
    assert list(scatter_points(figure.axes[0])) == ["model"]
    assert figure.axes[1].get_title().endswith("baseline RMSE 3")


def test_predicted_vs_true_takes_a_dataset_and_the_persistence_baseline(make_dataset, tmp_path):
    dataset = make_dataset(task="regression", rows=40)
    persistence = PersistenceBaseline("f0").fit(dataset.train)
    parts = ("train", "test")
    path = predicted_vs_true_plot(
        {name: dataset.parts[name].labels for name in parts},
        {name: dataset.parts[name].labels * 0.9 for name in parts},
        tmp_path / "dataset.png",
        baseline_by_part={name: persistence.predict(dataset.parts[name]) for name in parts},
        baseline_name="persistence",
        target_name=dataset.target,
    )
    opened_png(path)


@pytest.mark.parametrize(
    ("true", "predicted", "baseline", "message"),
    [
        (TRUE, {}, None, "got no part"),
        ({"train": TRUE["train"]}, PREDICTED, None, "the 'test' part has predictions but no true values"),
        (TRUE, {"test": [1.0, 2.0]}, None, r"got 2 predictions of the 'test' part for 4 true values"),
        (TRUE, PREDICTED, {"test": [1.0]}, "got 1 baseline predictions of the 'test' part for 4 true values"),
        (TRUE, {"test": np.zeros((4, 2))}, None, r"must have shape \(rows,\) or \(rows, 1\); got \(4, 2\)"),
    ],
    ids=["no-part", "no-truth", "short-predictions", "short-baseline", "two-columns"],
)
def test_predicted_vs_true_refuses_inconsistent_input(tmp_path, true, predicted, baseline, message):
    with pytest.raises(ValueError, match=message):
        predicted_vs_true_plot(true, predicted, tmp_path / "bad.png", baseline_by_part=baseline)
    assert not (tmp_path / "bad.png").exists()


# --- residuals --------------------------------------------------------------------------------


def lines_by_label(axes) -> dict[str, object]:
    return {line.get_label(): line for line in axes.get_lines()}


def test_residuals_plot_writes_a_wide_png(tmp_path):
    path = residuals_plot(TRUE["test"], PREDICTED["test"], tmp_path / "residuals.png", baseline=PERSISTENCE["test"])
    assert path == tmp_path / "residuals.png"
    assert_size(opened_png(path), (1000, 380))


def test_residuals_are_true_minus_predicted_with_the_baseline_faint_behind():
    figure = residuals_figure(
        TRUE["test"], PREDICTED["test"], baseline=PERSISTENCE["test"], baseline_name="persistence"
    )
    (axes,) = figure.axes
    lines = lines_by_label(axes)
    model, baseline = lines["model (RMSE 1)"], lines["persistence (RMSE 3)"]
    np.testing.assert_allclose(model.get_ydata(), [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(baseline.get_ydata(), [-3.0, 3.0, -3.0, 3.0])
    np.testing.assert_allclose(model.get_xdata(), np.arange(4))
    assert baseline.get_alpha() < 0.5 and baseline.get_zorder() < model.get_zorder()
    assert model.get_color() == regression_plots.MODEL_COLOR
    assert baseline.get_color() == regression_plots.BASELINE_COLOR
    assert legend_labels(axes) == ["persistence (RMSE 3)", "model (RMSE 1)"]
    assert axes.get_xlabel() == "row (in split order)"


def test_residuals_follow_a_numeric_order_sorted():
    true = np.array([1.0, 2.0, 3.0])
    figure = residuals_figure(true, true - np.array([10.0, 20.0, 30.0]), order=pd.Index([30, 10, 20], name="day"),
                              baseline=true)
    lines = list(figure.axes[0].get_lines())
    model = next(line for line in lines if line.get_label().startswith("model"))
    baseline = next(line for line in lines if line.get_label().startswith("baseline"))
    np.testing.assert_allclose(model.get_xdata(), [10, 20, 30])
    np.testing.assert_allclose(model.get_ydata(), [20.0, 30.0, 10.0])
    np.testing.assert_allclose(baseline.get_ydata(), [0.0, 0.0, 0.0])
    assert figure.axes[0].get_xlabel() == "day"


@pytest.mark.parametrize(
    "order",
    [
        pd.Series(pd.date_range("2003-01-01", periods=4, freq="D"), name="DATE"),
        np.array(["2003-01-01", "2003-01-02", "2003-01-03", "2003-01-04"]),
    ],
    ids=["timestamps", "date-strings"],
)
def test_residuals_over_dates(tmp_path, order):
    figure = residuals_figure(TRUE["test"], PREDICTED["test"], order=order)
    model = figure.axes[0].get_lines()[1]  # after the zero line
    assert np.issubdtype(np.asarray(model.get_xdata()).dtype, np.datetime64)
    assert figure.axes[0].get_xlabel() in ("DATE", "date")
    opened_png(residuals_plot(TRUE["test"], PREDICTED["test"], tmp_path / "dates.png", order=order))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"true": [], "predicted": []}, "got no rows"),
        ({"true": [1.0, 2.0], "predicted": [1.0]}, "got 1 predictions for 2 true values"),
        ({"true": [1.0, 2.0], "predicted": [1.0, 2.0], "baseline": [1.0]}, "got 1 baseline predictions"),
        ({"true": [1.0, 2.0], "predicted": [1.0, 2.0], "order": [1, 2, 3]}, r"one value per row \(2\); got shape"),
        ({"true": [1.0, 2.0], "predicted": [1.0, 2.0], "order": ["north", "south"]}, "must hold numbers or dates"),
    ],
    ids=["empty", "short-predictions", "short-baseline", "order-length", "order-words"],
)
def test_residuals_plot_refuses_inconsistent_input(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        residuals_plot(path=tmp_path / "bad.png", **arguments)
    assert not (tmp_path / "bad.png").exists()
