"""Tests of dlworkflow.evaluation.plots: the image grid, the confusion matrix, the grid's images."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlworkflow.evaluation import class_report, plots
from dlworkflow.evaluation.plots import WRONG_COLOR, confusion_matrix_plot, image_grid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def grey_images(count: int, size: int = 32) -> list[np.ndarray]:
    """Plain grey RGB pictures: no red or green of their own."""
    return [np.full((size, size, 3), 40 + 5 * index, dtype=np.uint8) for index in range(count)]


def opened_png(path: Path) -> Image.Image:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image


def assert_size(image: Image.Image, expected: tuple[float, float]) -> None:
    """Pixel size within 1 of the figure size times DPI (matplotlib truncates 459.99... to 459)."""
    assert all(abs(got - want) <= 1 for got, want in zip(image.size, expected, strict=True)), (image.size, expected)


def has_color(path: Path, color: str) -> bool:
    rgb = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    wanted = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
    return bool(np.any(np.all(np.abs(rgb.astype(int) - wanted) <= 8, axis=1)))


# --- image_grid -----------------------------------------------------------------------------


def test_image_grid_writes_a_png_of_the_expected_size(tmp_path):
    names = ["cat", "dog"] * 10
    path = image_grid(grey_images(20), names, names[::-1], tmp_path / "grid.png")
    assert path == tmp_path / "grid.png"
    image = opened_png(path)
    assert_size(image, (1000, 920))  # 5 columns, 4 rows
    assert 10_000 < path.stat().st_size < 2_000_000


def test_columns_shrink_to_the_number_of_images(tmp_path):
    image = opened_png(image_grid(grey_images(3), ["a"] * 3, ["a"] * 3, tmp_path / "three.png", columns=5))
    assert_size(image, (600, 230))
    image = opened_png(image_grid(grey_images(7), ["a"] * 7, ["a"] * 7, tmp_path / "seven.png", columns=2))
    assert_size(image, (400, 920))


def test_wrong_predictions_are_titled_in_red(tmp_path):
    right = image_grid(grey_images(4), ["cat", "dog"] * 2, ["cat", "dog"] * 2, tmp_path / "right.png")
    wrong = image_grid(grey_images(4), ["cat", "dog"] * 2, ["cat", "cat"] * 2, tmp_path / "wrong.png")
    assert not has_color(right, WRONG_COLOR)
    assert has_color(wrong, WRONG_COLOR)
    assert has_color(right, plots.RIGHT_COLOR)


@pytest.mark.parametrize(
    "image",
    [
        np.linspace(0, 255, 32 * 32 * 3).reshape(32, 32, 3).astype(np.uint8),
        np.linspace(0, 1, 32 * 32 * 3).reshape(32, 32, 3),  # floats in [0, 1]
        np.linspace(0, 255, 32 * 32 * 3).reshape(32, 32, 3).astype(np.float32),  # floats in [0, 255]
        np.zeros((32, 32, 1), dtype=np.uint8),  # grey, one channel
        np.zeros((32, 32)),  # grey, no channel axis
    ],
    ids=["uint8", "float01", "float255", "grey1", "grey2d"],
)
def test_pixel_types_the_grid_accepts(tmp_path, image):
    opened_png(image_grid([image], ["cat"], ["cat"], tmp_path / "one.png"))


def test_float_pixels_display_as_their_uint8_values():
    uint8 = np.arange(0, 256, dtype=np.uint8)[None, :, None].repeat(3, axis=2)
    np.testing.assert_array_equal(plots._displayable(uint8 / 255.0, 0), uint8)
    np.testing.assert_array_equal(plots._displayable(uint8.astype(np.float32), 0), uint8)


@pytest.mark.parametrize(
    ("images", "true", "predicted", "columns", "message"),
    [
        ([], [], [], 5, "got no images"),
        (grey_images(2), ["a"], ["a", "b"], 5, "got 2 images, 1 true names and 2 predicted names"),
        (grey_images(1), ["a"], ["a"], 0, "columns must be a positive integer; got 0"),
        ([np.zeros((4, 4, 2))], ["a"], ["a"], 5, r"image 0 must have shape .*got \(4, 4, 2\)"),
    ],
)
def test_image_grid_refuses_bad_input(tmp_path, images, true, predicted, columns, message):
    with pytest.raises(ValueError, match=message):
        image_grid(images, true, predicted, tmp_path / "bad.png", columns=columns)
    assert not (tmp_path / "bad.png").exists()


def test_plotting_never_touches_pyplot(tmp_path):
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from dlworkflow.evaluation.plots import confusion_matrix_plot, image_grid\n"
        f"image_grid([np.zeros((8, 8, 3), np.uint8)], ['a'], ['b'], {str(tmp_path / 'g.png')!r})\n"
        f"confusion_matrix_plot([[1, 0], [0, 1]], ['a', 'b'], {str(tmp_path / 'c.png')!r})\n"
        "heavy = [m for m in ('matplotlib.pyplot', 'keras', 'tensorflow', 'jax') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "g.png").is_file() and (tmp_path / "c.png").is_file()


# --- confusion_matrix_plot ------------------------------------------------------------------


def test_confusion_matrix_plot_writes_a_png(tmp_path):
    matrix = [[50, 3, 1], [4, 40, 6], [0, 2, 44]]
    path = confusion_matrix_plot(matrix, ["cat", "dog", "horse"], tmp_path / "confusion.png")
    image = opened_png(path)
    assert_size(image, (460, 380))  # 0.6 inch per class + 2 inches of labels, plus the colour bar
    assert 5_000 < path.stat().st_size < 1_000_000


def test_confusion_matrix_plot_grows_with_the_classes(tmp_path):
    names = [f"class {i}" for i in range(10)]
    matrix = np.diag(np.arange(1, 11))
    image = opened_png(confusion_matrix_plot(matrix, names, tmp_path / "ten.png"))
    assert_size(image, (880, 800))


def test_confusion_matrix_plot_takes_the_class_report(make_dataset, tmp_path):
    dataset = make_dataset(task="classification", rows=30)
    report = class_report(dataset, {"test": dataset.test.labels})
    opened_png(confusion_matrix_plot(report["confusion"]["test"], report["names"], tmp_path / "report.png"))


def test_confusion_matrix_plot_refuses_a_matrix_of_the_wrong_shape(tmp_path):
    with pytest.raises(ValueError, match=r"the matrix must be 3 × 3 .*got shape \(2, 2\)"):
        confusion_matrix_plot([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "bad.png")


# --- test_images_for_grid -------------------------------------------------------------------


def test_images_in_memory_are_unscaled_for_display(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=25, scale=1 / 255)
    images = plots.test_images_for_grid(dataset, "test", count=20)
    assert len(images) == 20
    assert all(image.dtype == np.uint8 and image.shape == (8, 8, 3) for image in images)
    expected = np.rint(dataset.test.x[:20] * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.stack(images), expected)


def test_unscaled_images_stay_as_they_are(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=4, scale=1.0)
    images = plots.test_images_for_grid(dataset, "train", count=3)
    np.testing.assert_array_equal(np.stack(images), dataset.train.x[:3].astype(np.uint8))


def test_count_is_capped_by_the_part_size(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=4)
    assert len(plots.test_images_for_grid(dataset, "test", count=20)) == 4
    assert plots.test_images_for_grid(dataset, "test", count=0) == []


@pytest.mark.parametrize("channels", [3, 1])
def test_streamed_images_are_read_from_their_files(make_image_dataset, channels):
    dataset = make_image_dataset(rows=6, test_rows=5, streamed=True, channels=channels)
    assert dataset.test.streamed
    images = plots.test_images_for_grid(dataset, "test", count=3)
    assert len(images) == 3
    assert all(image.shape == (8, 8, channels) and image.dtype == np.uint8 for image in images)
    first = np.asarray(Image.open(dataset.test.files[0]))
    np.testing.assert_array_equal(images[0].reshape(first.shape), first)


def test_streamed_images_are_resized_to_the_dataset_size(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=3, streamed=True, size=12)
    resized = dataclasses.replace(dataset, image={**dataset.image, "height": 6, "width": 10})
    images = plots.test_images_for_grid(resized, "test", count=5)
    assert [image.shape for image in images] == [(6, 10, 3)] * 3


def test_the_lessons_cats_and_dogs_make_a_grid(shared_data, tmp_path, dataset_from_files):
    folder = shared_data / "cats_dogs_mini"
    files = sorted(folder.glob("*/*.jpg"))[:4] + sorted(folder.glob("*/*.jpg"))[-4:]
    if len(files) < 8:
        pytest.skip(f"needs images in {folder}")
    names = sorted(path.name for path in folder.iterdir() if path.is_dir())
    labels = np.array([names.index(path.parent.name) for path in files])
    dataset = dataset_from_files(files, labels, names, height=64, width=64)
    images = plots.test_images_for_grid(dataset, "test", count=20)
    assert [image.shape for image in images] == [(64, 64, 3)] * 8
    true = [names[label] for label in labels]
    path = image_grid(images, true, true[::-1], tmp_path / "cats_dogs.png", columns=4)
    assert_size(opened_png(path), (800, 460))


@pytest.mark.parametrize(
    ("part", "message"),
    [("holdout", r"has no 'holdout' part; its parts are 'train', 'test'")],
)
def test_images_for_grid_refuses_an_unknown_part(make_image_dataset, part, message):
    with pytest.raises(ValueError, match=message):
        plots.test_images_for_grid(make_image_dataset(rows=3, test_rows=3), part)


def test_images_for_grid_needs_image_data(make_dataset):
    with pytest.raises(ValueError, match=r"the dataset 'synthetic' holds no images"):
        plots.test_images_for_grid(make_dataset(task="classification"))


def test_images_on_another_scale_are_stretched_for_display(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=4, scale=1.0)
    digits = dataclasses.replace(dataset.test, x=np.round(dataset.test.x / 255 * 16))  # values 0–16, as the digits
    images = plots.test_images_for_grid(dataclasses.replace(dataset, parts={**dataset.parts, "test": digits}), "test")
    shown = np.stack(images)
    assert shown.min() == 0 and shown.max() == 255  # not a black grid
    np.testing.assert_array_equal(shown, np.rint(digits.x / digits.x.max() * 255).astype(np.uint8))


def test_minmax_images_are_unscaled_with_their_offset(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=4, scale=1.0)
    raw = dataset.test.x
    scaled = dataclasses.replace(dataset.test, x=(raw - 10.0) / 200.0)
    shifted = dataclasses.replace(dataset, parts={**dataset.parts, "test": scaled},
                                  image={**dataset.image, "scale": 1 / 200, "offset": 10.0})
    np.testing.assert_array_equal(np.stack(plots.test_images_for_grid(shifted, "test")), np.rint(raw).astype(np.uint8))


# --- layout and saving ------------------------------------------------------------------------


def _margins(figure) -> tuple[float, ...]:
    parameters = figure.subplotpars
    return (parameters.left, parameters.right, parameters.bottom, parameters.top, parameters.wspace, parameters.hspace)


@pytest.mark.parametrize("panels", [1, 3])
def test_the_one_pass_tight_layout_gives_matplotlibs_margins(panels):
    from matplotlib.layout_engine import TightLayoutEngine

    figures = []
    for _ in range(2):
        figure = plots._figure(width=4.0 * panels, height=3.0)
        for index in range(panels):
            axes = figure.add_subplot(1, panels, index + 1)
            axes.plot([1, 2, 3], [10.0 ** index, 0.002, 12_345.0 * index])
            axes.set_title(f"panel {index}")
            axes.set_xlabel("epoch")
            axes.set_ylabel("a long label" if index == 0 else "")
        figures.append(figure)
    TightLayoutEngine().execute(figures[0])
    plots._tight_layout(figures[1])
    np.testing.assert_allclose(_margins(figures[1]), _margins(figures[0]), rtol=0, atol=1e-12)
    assert _margins(figures[1]) != _margins(plots._figure(width=4.0 * panels, height=3.0))  # it did move them
    assert figures[1].get_layout_engine() is None  # so savefig draws the figure once


def test_a_grid_image_keeps_its_aspect_and_its_pixels(tmp_path):
    wide = np.zeros((10, 20, 3), dtype=np.uint8)
    wide[:, 10:] = 200  # right half light
    path = image_grid([wide], ["cat"], ["cat"], tmp_path / "wide.png")
    shown = np.asarray(Image.open(path).convert("RGB")).astype(int)
    dark = np.all(shown < 20, axis=2)
    rows, columns = np.nonzero(dark)
    assert rows.size and columns.size
    width, height = columns.max() - columns.min() + 1, rows.max() - rows.min() + 1
    assert abs(width - height) <= 1  # the dark left half (10 × 10 pixels) stays square when scaled
    assert np.all(np.abs(shown[rows.min(), columns.max() + 2] - 200) <= 2)  # its right half follows it
