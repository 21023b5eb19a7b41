"""New images for a trained image model: one file or a folder, read as the run's images were.

A run's saved preprocessing (``preprocessing.json`` of an image run, read as an
:class:`~dlworkflow.data.preprocessing.ImagePreprocessing`) says how its images
became network input: their ``height × width``, their channels and the scaling. New images
go the same way as the images of the run's kind of source (``origin``):

* a model trained on a **folder** of image files reads new files the same way, batch by batch
  (``tf.data``: decode, bilinear resize, multiply by the scale): :func:`prepare_images` returns
  a streamed part, which the training layer's ``predict`` reads with the run's settings;
* a model trained on **arrays** (an ``.npz`` file, a Keras image set) gets each file decoded
  with Pillow as 8-bit pixels (``L``, ``RGB`` or ``RGBA`` for 1, 3 or 4 channels), resized
  with Pillow's bilinear filter when its size differs (as ``data.image_size`` resized the
  arrays) and scaled (``pixels``: divided by 255 in float32), in memory.

``--input`` is one image file or a folder; a folder's image files (``.jpg``, ``.jpeg``,
``.png``, ``.bmp``, ``.gif``, any case, in nested folders too, hidden ones skipped) are
taken in sorted order. Every file's header is checked first, so a damaged file is one clear
error naming it.

Example:
    >>> part = prepare_images("new_photos/", saved)  # doctest: +SKIP
    >>> part.frame["file"].tolist()[:2]  # doctest: +SKIP
    ['cat_1.jpg', 'dog_7.png']
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.dataset import Part
from dlworkflow.data.image_folder import IMAGE_EXTENSIONS
from dlworkflow.data.image_preparation import resize_images, scale_images
from dlworkflow.data.preprocessing import (
    ImagePreprocessing,
    Preprocessing,
    as_preprocessing,
)
from dlworkflow.errors import DataError, Problem

NEW_PART = "new"
"""The name of the :class:`~dlworkflow.data.dataset.Part` that holds new images."""

PILLOW_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
"""Channels of the model's input → the Pillow mode an image file is converted to."""

MAX_LISTED_PROBLEMS = 10
"""At most this many unreadable files are named in one error."""


def list_images(path: str | Path) -> tuple[Path, list[str]]:
    """The image files an ``--input`` names: the file itself, or a folder's files in sorted order.

    Args:
        path: An image file or a folder.

    Returns:
        ``(root, files)``: the folder the names are relative to, and the ``/``-separated
        names (one name, the file's, for a single file).

    Raises:
        DataError: when the path does not exist, is not an image file, or the folder holds
            no image file.

    Example:
        >>> list_images("new_photos/")  # doctest: +SKIP
        (PosixPath('/home/ann/new_photos'), ['cat_1.jpg', 'more/dog_7.png'])
    """
    path = Path(path).absolute()
    where = str(path)
    if path.is_file():
        if not path.name.lower().endswith(IMAGE_EXTENSIONS):
            raise DataError.single(
                where, "", "is not an image file", got=path.suffix,
                hint=f"An image model takes image files ({', '.join(IMAGE_EXTENSIONS)}) or a folder of them.",
            )
        return path.parent, [path.name]
    if not path.is_dir():
        raise DataError.single(where, "", "input not found", hint="Check the --input path.")
    found = []
    for directory, folders, names in os.walk(path):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        relative = Path(directory).relative_to(path).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        found += [
            f"{prefix}{name}" for name in sorted(names)
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
        ]
    if not found:
        raise DataError.single(
            where, "", "the folder holds no image file",
            hint=f"Put the images to predict in it ({', '.join(IMAGE_EXTENSIONS)}).",
        )
    return path, sorted(found)


def prepare_images(path: str | Path, preprocessing: Preprocessing | Mapping[str, Any]) -> Part:
    """Read new images as the run read its own: the network's input for one file or a folder.

    Args:
        path: An image file or a folder of images (``--input``).
        preprocessing: The saved preprocessing of an image run (or its ``preprocessing.json``
            dict, ``kind = "images"``).

    Returns:
        A part named ``new`` whose frame has a ``file`` column (relative to the folder, or
        the file's name): streamed (``files`` set, ``x`` None) for a model trained on a
        folder, in memory (``x`` float32 ``(n, height, width, channels)``) for one trained
        on arrays. ``y`` and ``labels`` are zeros (there is no truth).

    Raises:
        DataError: when the input is not an image or a folder of images, a file cannot be
            read (naming each one), or the saved preprocessing is not an image model's (or
            cannot be read).

    Example:
        >>> prepare_images("cat.jpg", saved).files  # doctest: +SKIP
        ('/home/ann/cat.jpg',)
    """
    root, files = list_images(path)
    preprocessing = as_preprocessing(preprocessing)
    if not isinstance(preprocessing, ImagePreprocessing):
        raise DataError.single(
            str(Path(path)), "", "the model takes a table, not images",
            hint="Give a CSV file with the model's feature columns as --input.",
        )
    image = preprocessing.image
    height, width, channels = image.height, image.width, image.channels
    _check_headers(root, files)
    frame = pd.DataFrame({"file": files})
    count = len(files)
    y = np.zeros(count, np.int32)
    labels = np.zeros(count, np.int64)
    if preprocessing.origin == "folder":
        absolute = tuple(str(root / name) for name in files)
        return Part(name=NEW_PART, x=None, y=y, labels=labels, frame=frame, files=absolute)
    pixels = np.stack([_decode(root / name, (height, width), channels) for name in files])
    return Part(name=NEW_PART, x=scale_images(pixels, preprocessing.scaling), y=y, labels=labels, frame=frame)


def _decode(path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One file as 8-bit pixels ``(height, width, channels)``, resized as the run's arrays were."""
    from PIL import Image

    mode = PILLOW_MODES.get(channels)
    if mode is None:
        raise DataError.single(
            str(path), "", f"the model takes images with {channels} channels; an image file has 1, 3 or 4",
            hint="Predict such a model from Python with arrays shaped like its training images.",
        )
    try:
        with Image.open(path) as opened:
            pixels = np.asarray(opened.convert(mode), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError) as err:
        raise DataError.single(str(path), "", f"cannot read the image ({_reason(err)})",
                               hint="Remove the file, or replace it with a good copy.") from err
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], channels)
    return resize_images(pixels[np.newaxis], size)[0]


def _check_headers(root: Path, files: list[str]) -> None:
    """Open every file's header (no pixels decoded); one DataError naming every unreadable file."""
    from PIL import Image

    bad: list[Problem] = []
    for name in files:
        path = root / name
        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError) as err:
            bad.append(Problem(str(path), "", f"cannot read the image ({_reason(err)})",
                               hint="Remove the file, or replace it with a good copy."))
    if bad:
        extra = len(bad) - MAX_LISTED_PROBLEMS
        shown = bad[:MAX_LISTED_PROBLEMS]
        if extra > 0:
            shown.append(Problem(str(root), "", f"and {extra} more unreadable image files",
                                 hint="Remove or replace every file named above."))
        raise DataError(shown)


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
