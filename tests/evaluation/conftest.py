"""Image datasets built by hand for the evaluation tests: in memory or streamed from files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.dataset import Dataset, Part


def image_part(name: str, labels: np.ndarray, pixels: np.ndarray | None, class_names, files=None) -> Part:
    """A Part of images: ``pixels`` already scaled (or None when streamed from ``files``)."""
    labels = np.asarray(labels, dtype=np.int64)
    frame = pd.DataFrame({"label": np.asarray(class_names)[labels]})
    if files is not None:
        frame["file"] = [Path(path).name for path in files]
    return Part(
        name=name,
        x=None if pixels is None else np.ascontiguousarray(pixels, dtype=np.float32),
        y=labels.astype(np.int32),
        labels=labels,
        frame=frame,
        files=None if files is None else tuple(str(path) for path in files),
    )


def image_dataset(parts: dict[str, Part], class_names, height: int, width: int, channels: int = 3,
                  scale: float = 1 / 255) -> Dataset:
    return Dataset(
        name="hand-made-images",
        task="classification",
        target="label",
        feature_names=(),
        class_names=tuple(class_names),
        target_encoding="integer",
        parts=parts,
        image={"height": height, "width": width, "channels": channels, "scale": scale},
    )


def learnable_images(rows: int, classes: int, size: int, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images whose class sets the brightness of one channel: a linear model can learn it."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % classes
    rng.shuffle(labels)
    images = rng.integers(0, 120, size=(rows, size, size, channels)).astype(np.float64)
    images[np.arange(rows), :, :, labels % channels] += 40.0 * (1 + labels // channels)[:, None, None]
    return np.clip(images, 0, 255).astype(np.uint8), labels


@pytest.fixture
def make_image_dataset(tmp_path):
    """Factory: ``make_image_dataset(streamed=True)`` → a small image Dataset (train and test).

    In memory, ``x`` is the pixels times ``scale``; streamed, each image is a PNG file under
    ``tmp_path`` and ``x`` is None.
    """

    def build(*, rows: int = 60, test_rows: int = 20, classes: int = 3, size: int = 8, channels: int = 3,
              streamed: bool = False, scale: float = 1 / 255, validation: bool = False) -> Dataset:
        from PIL import Image

        class_names = [f"class_{i}" for i in range(classes)]
        counts = {"train": rows, "test": test_rows}
        if validation:
            counts = {"train": rows, "validation": test_rows, "test": test_rows}
        parts = {}
        for offset, (name, count) in enumerate(counts.items()):
            images, labels = learnable_images(count, classes, size, channels, seed=offset)
            if not streamed:
                parts[name] = image_part(name, labels, images.astype(np.float32) * scale, class_names)
                continue
            files = []
            for index, image in enumerate(images):
                path = tmp_path / name / class_names[labels[index]] / f"{index}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image[..., 0] if channels == 1 else image).save(path)
                files.append(path)
            parts[name] = image_part(name, labels, None, class_names, files=files)
        return image_dataset(parts, class_names, size, size, channels, scale)

    return build


@pytest.fixture
def dataset_from_files():
    """Factory: ``dataset_from_files(files, labels, class_names, height=64, width=64)`` → a streamed
    Dataset whose train and test parts both list ``files``."""

    def build(files, labels, class_names, *, height: int, width: int) -> Dataset:
        part = image_part("test", labels, None, class_names, files=files)
        train = image_part("train", labels, None, class_names, files=files)
        return image_dataset({"train": train, "test": part}, class_names, height, width)

    return build
