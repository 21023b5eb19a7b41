"""Tests of dlworkflow.evaluation.training_plots: the history curves, their marks, and odd histories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dlworkflow.evaluation import training_plots
from dlworkflow.evaluation.training_plots import history_figure, history_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def opened_png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image


def assert_size(image: Image.Image, expected: tuple[float, float]) -> None:
    """Pixel size within 1 of the figure size times DPI."""
    assert all(abs(got - want) <= 1 for got, want in zip(image.size, expected, strict=True)), (image.size, expected)


def history(epochs: int = 6, *, validation: bool = True, metrics: tuple[str, ...] = ("root_mean_squared_error",)):
    """A history as fit_model returns it: epoch, loss, metrics, then the val_ twins."""
    epoch = np.arange(1, epochs + 1)
    columns: dict[str, object] = {"epoch": epoch, "loss": 10.0 / epoch}
    for offset, name in enumerate(metrics, start=1):
        columns[name] = offset * 3.0 / np.sqrt(epoch)
    if validation:
        columns["val_loss"] = 10.0 / epoch + 0.2 * (epoch - 3) ** 2
        for offset, name in enumerate(metrics, start=1):
            columns[f"val_{name}"] = offset * 3.0 / np.sqrt(epoch) + 0.5
    return pd.DataFrame(columns)


def lines_by_label(axes) -> dict[str, object]:
    return {line.get_label(): line for line in axes.get_lines()}


def legend_labels(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def vertical_at(axes, label: str) -> float:
    """The x of the vertical line with this label (both ends at the same x)."""
    line = lines_by_label(axes)[label]
    xdata = np.asarray(line.get_xdata(), dtype=np.float64)
    assert xdata[0] == xdata[1]
    return float(xdata[0])


# --- the PNG ----------------------------------------------------------------------------------


def test_history_plot_writes_a_png_of_the_expected_size(tmp_path):
    path = history_plot(history(), tmp_path / "history.png", best_epoch=3)
    assert path == tmp_path / "history.png"
    assert_size(opened_png(path), (960, 340))  # two panels side by side, 4.8 × 3.4 inches at 100 DPI


def test_many_metrics_wrap_onto_rows_of_three_panels(tmp_path):
    frame = history(metrics=("mae", "mse", "root_mean_squared_error", "r2_score"))
    assert_size(opened_png(history_plot(frame, tmp_path / "five.png")), (1440, 680))


# --- panels and curves ------------------------------------------------------------------------


def test_one_panel_per_quantity_loss_first_then_the_metrics_in_order():
    frame = history(metrics=("mae", "root_mean_squared_error"))
    frame = frame[["epoch", "mae", "val_mae", "loss", "root_mean_squared_error", "val_loss",
                   "val_root_mean_squared_error"]]
    figure = history_figure(frame)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "mae", "root_mean_squared_error"]
    assert all(axes.get_xlabel() == "epoch" for axes in figure.axes)


def test_training_is_solid_and_validation_dashed_in_the_same_colour_family():
    figure = history_figure(history())
    for index, axes in enumerate(figure.axes):
        lines = lines_by_label(axes)
        dark, light = training_plots.CURVE_COLORS[index]
        assert lines["training"].get_linestyle() == "-" and lines["training"].get_color() == dark
        assert lines["validation"].get_linestyle() == "--" and lines["validation"].get_color() == light
    loss = lines_by_label(figure.axes[0])
    np.testing.assert_allclose(loss["training"].get_xdata(), np.arange(1, 7))
    np.testing.assert_allclose(loss["training"].get_ydata(), 10.0 / np.arange(1, 7))
    np.testing.assert_allclose(loss["validation"].get_ydata(), history()["val_loss"])


def test_a_history_without_validation_draws_training_curves_only():
    figure = history_figure(history(validation=False))
    assert len(figure.axes) == 2
    assert all(list(lines_by_label(axes)) == ["training"] for axes in figure.axes)
    assert legend_labels(figure.axes[0]) == ["training"]


def test_a_validation_column_without_a_training_twin_gets_its_own_panel():
    frame = pd.DataFrame({"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "val_accuracy": [0.5, 0.6]})
    figure = history_figure(frame)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "val_accuracy"]
    assert list(lines_by_label(figure.axes[1])) == ["validation"]
    np.testing.assert_allclose(lines_by_label(figure.axes[0])["training"].get_xdata(), [1, 2])  # no epoch column


def test_one_epoch_is_drawn_as_a_point(tmp_path):
    frame = history(epochs=1)
    figure = history_figure(frame, best_epoch=1, evaluated_epoch=1)
    training = lines_by_label(figure.axes[0])["training"]
    assert training.get_marker() == "o"
    low, high = figure.axes[0].get_xlim()
    assert low < 1 < high and high - low >= 2
    opened_png(history_plot(frame, tmp_path / "one.png", best_epoch=1))


def test_nan_and_infinite_values_leave_gaps():
    frame = history()
    frame.loc[2, "val_loss"] = np.nan
    frame.loc[4, "loss"] = np.inf
    figure = history_figure(frame)
    lines = lines_by_label(figure.axes[0])
    assert np.isnan(lines["validation"].get_ydata()[2])
    assert np.isnan(lines["training"].get_ydata()[4])
    assert np.isfinite(lines["training"].get_ydata()[3])


def test_a_quantity_without_finite_values_says_so(tmp_path):
    frame = history()
    frame["val_loss"] = np.nan
    frame["loss"] = np.nan
    figure = history_figure(frame)
    assert "no finite values" in [text.get_text() for text in figure.axes[0].texts]
    assert "no finite values" not in [text.get_text() for text in figure.axes[1].texts]
    opened_png(history_plot(frame, tmp_path / "nan.png"))


# --- marks ------------------------------------------------------------------------------------


def test_the_best_epoch_is_a_vertical_line_named_in_the_first_legend():
    figure = history_figure(history(), best_epoch=3, evaluated_epoch=3)
    for axes in figure.axes:
        assert vertical_at(axes, "best epoch 3 (evaluated)") == 3
        assert lines_by_label(axes)["best epoch 3 (evaluated)"].get_color() == training_plots.BEST_EPOCH_COLOR
    assert legend_labels(figure.axes[0]) == ["training", "validation", "best epoch 3 (evaluated)"]
    assert legend_labels(figure.axes[1]) == ["training", "validation"]


def test_early_stop_is_marked_at_the_last_epoch():
    figure = history_figure(history(epochs=8), best_epoch=4, evaluated_epoch=4, stopped_early=True)
    assert vertical_at(figure.axes[0], "stopped early (epoch 8)") == 8
    assert "stopped early (epoch 8)" in legend_labels(figure.axes[0])
    plain = history_figure(history(epochs=8), best_epoch=4)
    assert not any(label.startswith("stopped early") for label in lines_by_label(plain.axes[0]))


def test_evaluated_weights_other_than_the_best_are_ringed_on_each_curve():
    frame = history()
    figure = history_figure(frame, best_epoch=3, evaluated_epoch=6, stopped_early=True)
    ring = lines_by_label(figure.axes[0])["evaluated (epoch 6)"]
    np.testing.assert_allclose(ring.get_xdata(), [6, 6])
    np.testing.assert_allclose(ring.get_ydata(), [frame["loss"].iloc[5], frame["val_loss"].iloc[5]])
    assert legend_labels(figure.axes[0]) == [
        "training", "validation", "best epoch 3", "stopped early (epoch 6)", "evaluated (epoch 6)"
    ]


def test_the_fine_tune_stage_starts_at_a_marked_boundary():
    frame = history(epochs=7)
    figure = history_figure(frame, stages={"frozen": 3, "fine_tune": 4})
    assert vertical_at(figure.axes[0], "fine_tune from epoch 4") == 3.5
    assert "fine_tune from epoch 4" in legend_labels(figure.axes[0])


def test_the_boundary_is_read_from_the_stage_column_without_stages():
    frame = history(epochs=7)
    frame.insert(1, "stage", ["frozen"] * 5 + ["fine_tune"] * 2)
    figure = history_figure(frame)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "root_mean_squared_error"]  # stage is no curve
    assert vertical_at(figure.axes[0], "fine_tune from epoch 6") == 5.5


def test_a_single_stage_has_no_boundary():
    figure = history_figure(history(), stages={"train": 6})
    assert not any("from epoch" in label for label in lines_by_label(figure.axes[0]))


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "arguments", "message"),
    [
        (history().iloc[:0], {}, "the history has no rows"),
        (pd.DataFrame({"epoch": [1, 2], "stage": ["train", "train"]}), {}, "no numeric quantity"),
        (history(), {"best_epoch": 9}, r"best_epoch must be one of the history's epochs \(1 to 6\); got 9"),
        (history(), {"evaluated_epoch": 0}, "evaluated_epoch must be one of the history's epochs"),
        (history(), {"stages": {"frozen": 2, "fine_tune": 2}}, "add up to 4 epochs; the history has 6 rows"),
    ],
    ids=["empty", "no-quantity", "best-out-of-range", "evaluated-out-of-range", "stages-mismatch"],
)
def test_history_plot_refuses_inconsistent_input(tmp_path, frame, arguments, message):
    with pytest.raises(ValueError, match=message):
        history_plot(frame, tmp_path / "bad.png", **arguments)
    assert not (tmp_path / "bad.png").exists()


# --- imports ----------------------------------------------------------------------------------


def test_importing_the_plot_modules_loads_neither_matplotlib_nor_keras():
    code = (
        "import sys\n"
        "import dlworkflow.evaluation.training_plots, dlworkflow.evaluation.regression_plots\n"
        "heavy = [m for m in ('matplotlib', 'matplotlib.pyplot', 'keras', 'tensorflow', 'jax') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_drawing_the_history_never_touches_pyplot(tmp_path):
    code = (
        "import sys\n"
        "import pandas as pd\n"
        "from dlworkflow.evaluation.training_plots import history_plot\n"
        "frame = pd.DataFrame({'epoch': [1, 2], 'loss': [2.0, 1.0], 'val_loss': [2.5, 1.5]})\n"
        f"history_plot(frame, {str(tmp_path / 'h.png')!r}, best_epoch=2)\n"
        "heavy = [m for m in ('matplotlib.pyplot', 'keras', 'tensorflow', 'jax') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "h.png").is_file()


def test_overlaid_histories_draw_one_curve_per_run_in_each_panel(tmp_path):
    import pandas as pd

    from dlworkflow.evaluation.training_plots import overlaid_histories_figure, overlaid_histories_plot

    first = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.5, 2.6]})
    second = pd.DataFrame({"epoch": [1, 2], "loss": [4.0, 3.0], "val_loss": [4.2, 3.3]})
    figure = overlaid_histories_figure({"big": first, "small": second})
    assert [axes.get_title() for axes in figure.axes] == ["loss (training)", "val_loss (validation)"]
    assert [[line.get_label() for line in axes.get_lines()] for axes in figure.axes] == [["big", "small"]] * 2
    assert list(figure.axes[1].get_lines()[1].get_ydata()) == [4.2, 3.3]
    assert overlaid_histories_plot({"big": first, "small": second}, tmp_path / "c.png").is_file()
    with pytest.raises(ValueError, match="no history has a 'loss' column"):
        overlaid_histories_figure({"x": pd.DataFrame({"epoch": [1]})})
