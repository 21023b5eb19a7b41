"""Occlusion saliency maps: the map follows what the model looks at; dlw explain on an image run writes the grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.evaluation.saliency import SaliencyMaps, occlusion_saliency, pixel_map

runner = CliRunner()


def corner_model(images: np.ndarray) -> np.ndarray:
    """A fixed 'model': class 1 the brighter the top-right 4×4 corner is than the rest."""
    corner = images[:, :4, -4:, :].mean(axis=(1, 2, 3))
    rest = images.mean(axis=(1, 2, 3))
    logits = 3.0 * (corner - rest)
    positive = 1.0 / (1.0 + np.exp(-logits))
    return np.stack([1.0 - positive, positive], axis=1)


def test_the_map_lies_on_the_region_the_model_reads():
    rng = np.random.default_rng(0)
    images = rng.uniform(0.0, 0.3, size=(3, 16, 16, 3))
    images[:, :4, -4:, :] = 1.0  # a bright top-right corner: class 1
    maps = occlusion_saliency(corner_model, images, labels=[1, 1, 1], class_names=("plain", "corner"))
    assert maps.grid == (8, 8)
    for item in maps.maps:
        cells = item.array
        assert item.predicted == "corner" and np.ptp(cells) > 0.01  # not a constant map
        top, left = divmod(int(cells.argmax()), 8)
        assert top < 2 and left >= 6  # the corner's cells (2 px each)
        assert np.all(np.abs(cells[2:, :6]) < np.abs(cells).max() / 10)
    assert SaliencyMaps.from_dict(json.loads(json.dumps(maps.to_dict()))) == maps
    heat = pixel_map(maps.maps[0].array, 16, 16)
    assert heat.shape == (16, 16) and heat[0, 15] == maps.maps[0].array[0, 7]


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A dense classifier of 12×12 images whose class is a bright or dark top-left patch, trained a few epochs."""
    import dlworkflow

    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("saliency")

    def images(count):
        pixels = rng.integers(60, 130, size=(count, 12, 12, 3), dtype=np.uint8)
        labels = np.arange(count) % 2
        pixels[labels == 1, :4, :4, :] = 250
        pixels[labels == 0, :4, :4, :] = 5
        return pixels, labels

    (x_train, y_train), (x_test, y_test) = images(160), images(40)
    path = folder / "patches.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             class_names=np.array(["dark", "bright"]))
    spec = {
        "name": "patches",
        "data": {"path": str(path), "scaling": "pixels"},
        "split": {"validation": 0.25},
        "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "train": {"epochs": 15, "loss": "auto", "backend": "jax", "batch_size": 16},
    }
    registry = f"sqlite:///{folder / 'registry.db'}"
    return dlworkflow.run(spec, registry=registry), registry


@pytest.mark.slow  # trains a small image model (about 5 s)
def test_dlw_explain_on_an_image_run_writes_the_saliency_grid(image_run):
    import keras

    result, registry = image_run
    explained = runner.invoke(app, ["explain", result.id, "--rows", "6", "--registry", registry])
    assert explained.exit_code == 0, explained.output
    assert "Occlusion saliency maps" in explained.output and "6 validation images" in explained.output
    folder = Path(result.record["artifacts"]["dir"])
    assert (folder / "saliency_maps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    maps = SaliencyMaps.from_dict(json.loads((folder / "explanation.json").read_text())["saliency"])
    assert len(maps.maps) == 6 and maps.part == "validation" and maps.grid == (8, 8)

    # Covering the most salient cell costs the predicted class more than covering the least salient one,
    # measured again here with the saved model.
    from dlworkflow.evaluation.saliency import cell_edges

    model = keras.saving.load_model(folder / "model.keras")
    data = np.load(result.record["spec"]["data"]["path"])
    assert all(np.ptp(item.array) > 0 for item in maps.maps)  # no constant map
    edges = cell_edges(12, 8)
    for item, image in zip(maps.maps, _validation_inputs(result, data), strict=True):
        cells = item.array
        classes = ["dark", "bright"]
        chosen = classes.index(item.predicted)

        def covered(cell, picture=image, chosen=chosen):
            top, left = divmod(cell, 8)
            copy = picture.copy()
            copy[edges[top]:edges[top + 1], edges[left]:edges[left + 1]] = picture.reshape(-1, 3).mean(axis=0)
            return float(np.asarray(model(copy[None], training=False))[0, chosen])

        assert covered(int(cells.argmax())) < covered(int(cells.argmin()))
        top, left = divmod(int(cells.argmax()), 8)
        if item.true == item.predicted:
            assert edges[top] < 4 and edges[left] < 4  # the patch that decides the class

    report = runner.invoke(app, ["report", result.id, "--registry", registry])
    assert report.exit_code == 0, report.output
    page = (folder / "report.html").read_text()
    assert "Explanations" in page and "Occlusion" in page

    (folder / "model.keras").rename(folder / "moved.keras")  # a run whose model file is gone: one clear error
    try:
        refused = runner.invoke(app, ["explain", result.id, "--registry", registry])
    finally:
        (folder / "moved.keras").rename(folder / "model.keras")
    assert refused.exit_code == 5
    assert "lacks model.keras" in refused.output and "dlw runs" in refused.output


def _validation_inputs(result, data):
    """The first six validation images as the network took them (pixels / 255), in the part's order."""
    import pandas as pd

    saved = pd.read_csv(Path(result.record["artifacts"]["dir"]) / "predictions_validation.csv")
    rows = saved["row"].to_numpy()[:6]
    return [data["x_train"][row].astype(np.float32) / 255.0 for row in rows]
