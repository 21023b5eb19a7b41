"""Tests of dlworkflow.evaluation.plots.class_accuracy_plot: per-class accuracy bars with the overall line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlworkflow.evaluation import class_report, plots, score
from dlworkflow.evaluation.plots import class_accuracy_figure, class_accuracy_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

ACCURACY = {"cat": 0.75, "dog": 1.0, "bird": None, "frog": 0.3}


def opened_png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image


def assert_size(image: Image.Image, expected: tuple[float, float]) -> None:
    """Pixel size within 1 of the figure size times DPI."""
    assert all(abs(got - want) <= 1 for got, want in zip(image.size, expected, strict=True)), (image.size, expected)


def vertical_lines(axes) -> dict[str, float]:
    return {line.get_label(): float(np.asarray(line.get_xdata(), dtype=np.float64)[0]) for line in axes.get_lines()}


def test_class_accuracy_plot_writes_a_png_that_grows_with_the_classes(tmp_path):
    path = class_accuracy_plot(ACCURACY, tmp_path / "accuracy.png", overall_accuracy=0.7)
    assert path == tmp_path / "accuracy.png"
    assert_size(opened_png(path), (640, 258))  # 0.32 inch per class + 1.3
    many = {f"class_{index}": index / 40 for index in range(40)}
    assert_size(opened_png(class_accuracy_plot(many, tmp_path / "many.png")), (640, 1410))


def test_one_bar_per_class_in_class_order_first_on_top():
    (axes,) = class_accuracy_figure(ACCURACY, overall_accuracy=0.7).axes
    bars = axes.patches
    assert [bar.get_width() for bar in bars] == [0.75, 1.0, 0.0, 0.3]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["cat", "dog", "bird", "frog"]
    assert [bar.get_y() + bar.get_height() / 2 for bar in bars] == [0, 1, 2, 3]
    bottom, top = axes.get_ylim()
    assert bottom > top  # class 0 at the top
    texts = [text.get_text() for text in axes.texts]
    assert texts == ["0.75", "1.00", "no rows", "0.30"]
    assert axes.get_title() == "accuracy per class (test set)"


def test_the_overall_accuracy_is_a_vertical_line():
    (axes,) = class_accuracy_figure(ACCURACY, overall_accuracy=0.7).axes
    assert vertical_lines(axes) == {"overall accuracy 0.7": 0.7}
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["overall accuracy 0.7"]
    assert axes.get_lines()[0].get_color() == plots.OVERALL_COLOR


def test_without_the_overall_accuracy_the_line_is_the_mean_over_classes():
    (axes,) = class_accuracy_figure(ACCURACY).axes
    assert vertical_lines(axes) == {"mean over classes 0.683": pytest.approx((0.75 + 1.0 + 0.3) / 3)}
    (empty,) = class_accuracy_figure({"cat": None}).axes
    assert empty.get_lines() == [] and empty.get_legend() is None


def test_class_accuracy_plot_takes_the_class_report(make_dataset, tmp_path):
    dataset = make_dataset(task="classification", rows=40)
    predicted = np.roll(dataset.test.labels, 1)
    report = class_report(dataset, {"test": predicted})
    overall = score("classification", dataset.test.labels, predicted, num_classes=3)["accuracy"]
    per_class = report["per_class_accuracy"]["test"]
    (axes,) = class_accuracy_figure(per_class, overall_accuracy=overall).axes
    assert [bar.get_width() for bar in axes.patches] == [value or 0.0 for value in per_class.values()]
    assert list(vertical_lines(axes).values()) == [pytest.approx(overall)]
    opened_png(class_accuracy_plot(per_class, tmp_path / "report.png", overall_accuracy=overall))


@pytest.mark.parametrize(
    ("accuracy", "overall", "message"),
    [
        ({}, None, "got no class"),
        ({"cat": 1.5}, None, r"the accuracy of class 'cat' must lie in \[0, 1\]; got 1.5"),
        ({"cat": 0.5}, -0.1, r"overall_accuracy must lie in \[0, 1\]; got -0.1"),
    ],
    ids=["empty", "above-one", "negative-overall"],
)
def test_class_accuracy_plot_refuses_bad_values(tmp_path, accuracy, overall, message):
    with pytest.raises(ValueError, match=message):
        class_accuracy_plot(accuracy, tmp_path / "bad.png", overall_accuracy=overall)
    assert not (tmp_path / "bad.png").exists()
