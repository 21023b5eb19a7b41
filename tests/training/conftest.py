"""Fixtures for image training tests: tiny image datasets in memory or as PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.dataset import Dataset, Part

IMAGE = {"height": 8, "width": 8, "channels": 3, "scale": 1 / 255}


def _pixels(rows: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8-bit images whose class shows in the pixels: class 1 is brighter than class 0."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % 2
    rng.shuffle(labels)
    pixels = rng.integers(0, 128, size=(rows, size, size, 3)).astype(np.uint8)
    pixels[labels == 1] += 100
    return pixels, labels


def build_image_dataset(
    *,
    rows: dict[str, int] | None = None,
    size: int = 8,
    encoding: str = "integer",
    files: Path | None = None,
    seed: int = 0,
) -> Dataset:
    """A two-class image Dataset built by hand: in memory, or streamed from PNGs in ``files``.

    Streamed parts hold the same pixels (written losslessly as PNG), so a streamed and an
    in-memory dataset built with the same arguments feed a model identical inputs.
    """
    from PIL import Image

    rows = rows or {"train": 12, "validation": 4, "test": 4}
    parts = {}
    for offset, (name, count) in enumerate(rows.items()):
        pixels, labels = _pixels(count, size, seed + offset)
        y = labels.astype(np.int32) if encoding == "integer" else np.eye(2, dtype=np.float32)[labels]
        frame = pd.DataFrame({"label": labels})
        if files is None:
            x = np.ascontiguousarray(pixels.astype(np.float32) / 255)
            parts[name] = Part(name=name, x=x, y=y, labels=labels, frame=frame)
            continue
        folder = files / name
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, image in enumerate(pixels):
            path = folder / f"{index:03d}_class{labels[index]}.png"
            Image.fromarray(image).save(path)
            paths.append(str(path))
        frame["file"] = paths
        parts[name] = Part(name=name, x=None, y=y, labels=labels, frame=frame, files=tuple(paths))
    return Dataset(
        name="tiny_images",
        task="classification",
        target="label",
        feature_names=(),
        class_names=("dark", "bright"),
        target_encoding=encoding,  # type: ignore[arg-type]
        parts=parts,
        image={**IMAGE, "height": size, "width": size},
        fingerprint="0" * 64,
        test_fingerprint="1" * 64,
    )


@pytest.fixture
def make_image_dataset():
    """Factory fixture: ``make_image_dataset(files=tmp_path)`` → a tiny two-class image Dataset."""
    return build_image_dataset
