"""Image preparation: the ``[data]`` settings that apply to images, and the steps they share.

Image data comes as arrays (an ``.npz`` file, a Keras image set: :mod:`.image_arrays`) or as
a folder of image files (:mod:`.image_folder`). Both are classification data whose labels
come with the images, so the table settings (``target``, ``drop``, ``select``, ``shift``,
``dropna``, ``evaluate.persistence``) do not apply; :func:`check_image_spec` says so instead
of ignoring them. The steps both kinds share live here:

* scaling (``data.scaling``): ``none`` keeps the raw values, ``pixels`` divides by 255 —
  the lesson's ``train_images / 255.0`` — and ``minmax`` maps the training images' minimum and
  maximum (one pair for every pixel, fitted on the training part only) to 0 and 1, for images
  on another scale (scikit-learn's digits are 0–16). :func:`pixel_range_warnings` says when
  ``pixels`` meets images far from 0–255;
* resizing to ``data.image_size`` with Pillow (bilinear);
* encoding the class labels as the network's target (``integer`` or ``onehot``);
* the preprocessing saved with a run and the per-image frame of a part.

Pillow is imported inside the functions that need it.

Example:
    >>> image_scale("pixels")
    0.00392156862745098
    >>> encode_labels(np.array([2, 0]), 3, "onehot").tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.data.preprocessing import ImageInput, ImagePreprocessing, ImageScaling
from dlworkflow.data.scaling import SCALING_METHODS, ScalingMethod
from dlworkflow.errors import DataError, Problem, SpecError
from dlworkflow.spec.schema import Spec

IMAGE_TARGET = "label"
"""Name of the target of image data (``Dataset.target``; the ``label`` column of a part's frame)."""

TABLE_ONLY_SETTINGS = ("drop", "select", "shift", "dropna")
"""``[data]`` keys that only tables use."""


def check_image_spec(spec: Spec, *, own_test_set: str | None = None, streamed: bool = False) -> None:
    """Check that a spec's settings make sense for image data, reporting every problem at once.

    Args:
        spec: The validated spec.
        own_test_set: For data that brings its own test set, how to name it in a message
            (e.g. ``"this .npz"``); ``split.test`` is then an error. None for a folder.
        streamed: Whether the images are read from files batch by batch (a folder): a scaling
            fitted on the training images (``minmax``) is then an error.

    Raises:
        SpecError: at ``split.test`` when the data brings its own test set; at
            ``data.scaling`` for ``standardize`` (or ``minmax`` for streamed images); at
            ``split.order_by`` (images have no columns); at
            ``data.target``, ``data.drop``, ``data.select``, ``data.shift``, ``data.dropna``,
            ``data.task`` or ``evaluate.persistence`` when a table setting is given.

    Example:
        >>> check_image_spec(spec, own_test_set="this .npz")  # doctest: +SKIP
    """
    source, data = spec.source, spec.data
    problems: list[Problem] = []
    if own_test_set is not None and spec.split.test is not None:
        problems.append(Problem(
            source, "split.test", f"{own_test_set} brings its own test set (x_test): remove split.test",
            got=spec.split.test,
            hint="Its test images are the test set; split.validation carves a validation set "
            "out of the training images.",
        ))
    method = _scaling_method(data.scaling, source)
    if not method.for_images:
        problems.append(Problem(
            source, "data.scaling", f"images are scaled with {_image_methods_text()}", got=data.scaling,
            hint="Use scaling = 'pixels' for 0–255 images, as the lesson's train_images / 255.0, or 'minmax' "
            "for images on another scale.",
        ))
    elif streamed and method.image_divisor is None:
        problems.append(Problem(
            source, "data.scaling", f"{data.scaling!r} ({method.description}) is fitted on the training pixels, "
            "but a folder's images are read batch by batch while training", got=data.scaling,
            hint="Use scaling = 'pixels': image files hold 0–255 values.",
        ))
    if spec.split.order_by is not None:
        problems.append(Problem(
            source, "split.order_by", "images have no column to order them by", got=spec.split.order_by,
            hint="Remove split.order_by (an 'ordered' split keeps the images' order in the file).",
        ))
    if data.target is not None and data.target != IMAGE_TARGET:
        problems.append(Problem(
            source, "data.target", "images carry their labels; there is no target column to name", got=data.target,
            hint="Remove data.target from the [data] table.",
        ))
    defaults = {"drop": (), "select": (), "shift": 0, "dropna": False}
    for key in TABLE_ONLY_SETTINGS:
        value = getattr(data, key)
        if value != defaults[key]:
            problems.append(Problem(
                source, f"data.{key}", "applies to tables only, not to images",
                got=list(value) if isinstance(value, tuple) else value,
                hint=f"Remove data.{key} from the [data] table.",
            ))
    if data.task == "regression":
        problems.append(Problem(
            source, "data.task", "image data is classified: each image's label is its class", got=data.task,
            hint="Remove data.task (or set it to 'classification').",
        ))
    if spec.evaluate.persistence is not None:
        problems.append(Problem(
            source, "evaluate.persistence", "the persistence baseline needs a table column; images have none",
            got=spec.evaluate.persistence, hint="Remove evaluate.persistence.",
        ))
    if problems:
        raise SpecError(problems)


def image_scale(scaling: str) -> float:
    """The factor pixels are multiplied by for a ``data.scaling`` value.

    Args:
        scaling: A registered scaling method for images: ``none``, ``pixels`` (or one registered).

    Returns:
        1.0 or 1/255.

    Raises:
        SpecError: for a method that is unknown or does not apply to images
            (:func:`check_image_spec` reports it first).

    Example:
        >>> image_scale("none")
        1.0
    """
    factor = _scaling_method(scaling, "<spec>").image_factor
    if factor is None:
        raise SpecError.single("<spec>", "data.scaling", f"images are scaled with {_image_methods_text()}", got=scaling)
    return factor


def scale_images(images: np.ndarray, scaling: str | ImageScaling) -> np.ndarray:
    """Network input from raw images: float32, C-contiguous, scaled.

    ``pixels`` divides by 255 in float32, which gives the same numbers as the lesson's
    ``train_images / 255.0`` cast to float32; any method divides by its ``image_divisor``.
    A fitted method (``minmax``) needs its fitted :class:`ImageScaling`: ``(x - offset) * scale``.

    Args:
        images: Raw images ``(n, height, width, channels)`` of any numeric type.
        scaling: ``none`` (the raw values as float32) or ``pixels`` (divided by 255), or an
            :class:`ImageScaling` (from :func:`fit_image_scaling` or a saved preprocessing).

    Returns:
        A new float32, C-contiguous array of the same shape.

    Example:
        >>> scale_images(np.array([[[[255, 0, 51]]]], np.uint8), "pixels").tolist()
        [[[[1.0, 0.0, 0.20000000298023224]]]]
    """
    fitted = scaling if isinstance(scaling, ImageScaling) else None
    method = _scaling_method(fitted.method if fitted else str(scaling), "<spec>")
    divisor = method.image_divisor
    if divisor is None:
        if fitted is None:
            raise SpecError.single("<spec>", "data.scaling", f"{scaling!r} is fitted on training images: "
                                   "pass its ImageScaling (fit_image_scaling)", got=scaling)
        shifted = np.subtract(images, np.float32(fitted.offset), dtype=np.float32)
        return np.ascontiguousarray(np.multiply(shifted, np.float32(fitted.scale), dtype=np.float32))
    if divisor != 1.0:
        return np.ascontiguousarray(np.divide(images, np.float32(divisor), dtype=np.float32))
    return np.array(images, dtype=np.float32, order="C")


def fit_image_scaling(scaling: str, train_images: np.ndarray) -> ImageScaling:
    """The pixel scaling of ``data.scaling``, fitted on the training images when the method is fitted.

    Args:
        scaling: ``none``, ``pixels``, ``minmax`` or a registered method for images.
        train_images: The training part's raw images (never validation or test images).

    Returns:
        ``none``/``pixels``: their fixed factor; ``minmax``: offset = the training minimum,
        scale = 1 / (maximum - minimum) (1 when every pixel is the same).

    Example:
        >>> fit_image_scaling("minmax", np.array([[0, 8], [16, 4]]))
        ImageScaling(method='minmax', scale=0.0625, offset=0.0)
        >>> fit_image_scaling("pixels", np.zeros(2)).scale
        0.00392156862745098
    """
    method = _scaling_method(scaling, "<spec>")
    if method.image_statistics is None:
        return ImageScaling(scaling, image_scale(scaling))
    offset, divisor = method.image_statistics(train_images)
    return ImageScaling(scaling, 1.0 / float(divisor), float(offset))


PIXEL_RANGE = (0.0, 255.0)
"""The values ``pixels`` expects: 8-bit images."""

FAR_BELOW_255 = 64.0
"""A training maximum at or below this is far from 255: ``pixels`` would squeeze the inputs into a quarter of 0–1."""


def pixel_range_warnings(train_images: np.ndarray, scaling: str, *, source: str = "<spec>") -> tuple[str, ...]:
    """Warn when ``pixels`` (divide by 255) meets training images whose values are far from 0–255.

    Images on another scale (0–16, 0–1, 12-bit 0–4095) divided by 255 train on inputs squeezed
    into a corner of 0–1, or spread past it; the run goes on (it may still learn) but says so and
    names ``minmax``, which maps the training range to 0–1.

    Args:
        train_images: The training part's raw images.
        scaling: ``data.scaling``.
        source: The spec file, for the message.

    Returns:
        One message when ``scaling`` is ``pixels`` and the training values lie outside 0–255 or
        reach no higher than :data:`FAR_BELOW_255`; none otherwise.

    Example:
        >>> (message,) = pixel_range_warnings(np.array([0, 16]), "pixels", source="d.toml")
        >>> message.split(";")[0]
        "d.toml: data.scaling: 'pixels' divides by 255, but the training images' values run from 0 to 16"
        >>> pixel_range_warnings(np.array([0, 255], np.uint8), "pixels")
        ()
    """
    if scaling != "pixels" or np.size(train_images) == 0:
        return ()
    low, high = float(np.min(train_images)), float(np.max(train_images))
    if PIXEL_RANGE[0] <= low and high <= PIXEL_RANGE[1] and high > FAR_BELOW_255:
        return ()
    return (str(Problem(
        source, "data.scaling", f"'pixels' divides by 255, but the training images' values run from {low:g} to "
        f"{high:g}; the network's inputs then lie between {low / 255:.3g} and {high / 255:.3g}, not 0 and 1",
        got=scaling, hint="Use scaling = 'minmax' (the training minimum becomes 0 and the maximum 1), "
        "or 'none' when the values are already small.",
    )),)


def _scaling_method(scaling: str, source: str) -> ScalingMethod:
    if scaling not in SCALING_METHODS:
        raise SpecError.single(
            source, "data.scaling", "unknown scaling method", got=scaling, hint=SCALING_METHODS.hint(scaling)
        )
    return SCALING_METHODS[scaling]


def _image_methods_text() -> str:
    """``'pixels' (divide by 255), 'none' or 'minmax' (...)``: the registered methods for images, 'pixels' first."""
    names = sorted((n for n in SCALING_METHODS if SCALING_METHODS[n].for_images), key=lambda n: n != "pixels")
    described = [f"{name!r} ({SCALING_METHODS[name].description})" if name != "none" else repr(name)
                 for name in names]
    return described[0] if len(described) == 1 else ", ".join(described[:-1]) + " or " + described[-1]


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize every image to ``size`` with Pillow's bilinear filter.

    8-bit images with 1, 3 or 4 channels are resized as such (the result stays uint8, as
    Pillow rounds it); any other type or channel count is resized channel by channel in
    float32.

    Args:
        images: ``(n, height, width, channels)``.
        size: ``(height, width)``, as ``data.image_size``.

    Returns:
        ``(n, size[0], size[1], channels)``; ``images`` itself when it has that size already.

    Example:
        >>> resize_images(np.zeros((2, 32, 32, 3), np.uint8), (64, 64)).shape
        (2, 64, 64, 3)
    """
    from PIL import Image

    height, width = size
    count, old_height, old_width, channels = images.shape
    if (old_height, old_width) == (height, width):
        return images
    bilinear = Image.Resampling.BILINEAR
    if images.dtype == np.uint8 and channels in (1, 3, 4):
        resized = np.empty((count, height, width, channels), dtype=np.uint8)
        for index in range(count):
            image = images[index, :, :, 0] if channels == 1 else images[index]
            pixels = np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((width, height), bilinear))
            resized[index] = pixels.reshape(height, width, channels)
        return resized
    resized = np.empty((count, height, width, channels), dtype=np.float32)
    for index in range(count):
        for channel in range(channels):
            plane = np.ascontiguousarray(images[index, :, :, channel], dtype=np.float32)
            resized[index, :, :, channel] = np.asarray(Image.fromarray(plane).resize((width, height), bilinear))
    return resized


def encode_labels(labels: np.ndarray, num_classes: int, encoding: str) -> np.ndarray:
    """The network's target from class indices.

    Args:
        labels: Class indices ``(n,)``.
        num_classes: Number of classes.
        encoding: ``integer`` (int32 indices, for sparse cross-entropy) or ``onehot``
            (float32 ``(n, classes)``).

    Returns:
        The encoded target, C-contiguous.

    Example:
        >>> encode_labels(np.array([1, 0]), 2, "integer").dtype
        dtype('int32')
    """
    if encoding == "onehot":
        return np.ascontiguousarray(np.eye(num_classes, dtype=np.float32)[labels])
    return np.ascontiguousarray(labels, dtype=np.int32)


def image_info(height: int, width: int, channels: int, scaling: str | ImageScaling) -> dict[str, Any]:
    """``Dataset.image``: the size every image has and the factor its pixels are multiplied by.

    Args:
        height: Image height after resizing.
        width: Image width after resizing.
        channels: Colour channels (3 for RGB).
        scaling: ``data.scaling`` (``none`` or ``pixels``), or a fitted :class:`ImageScaling`.

    Returns:
        ``{"height", "width", "channels", "scale"}``, and ``"offset"`` when a fitted scaling
        subtracts one.

    Example:
        >>> image_info(32, 32, 3, "none")
        {'height': 32, 'width': 32, 'channels': 3, 'scale': 1.0}
    """
    fitted = scaling if isinstance(scaling, ImageScaling) else ImageScaling(scaling, image_scale(scaling))
    info = {"height": int(height), "width": int(width), "channels": int(channels), "scale": fitted.scale}
    return {**info, "offset": fitted.offset} if fitted.offset else info


def image_preprocessing(
    image: dict[str, Any], class_names: Sequence[str], target_encoding: str, scaling: str | ImageScaling,
    *, origin: str,
) -> ImagePreprocessing:
    """The preprocessing of image data, saved with a run (``preprocessing.json``).

    Args:
        image: ``Dataset.image``.
        class_names: Class names in label order.
        target_encoding: ``integer`` or ``onehot``.
        scaling: ``data.scaling``, or its fitted :class:`ImageScaling`.
        origin: Which kind of image source: ``arrays`` or ``folder``.

    Returns:
        The image size, classes, target encoding and pixel scaling; its ``to_dict`` is
        ``{"kind": "images", "origin", "image", "class_names", "target", "task",
        "target_encoding", "scaling": {"method", "scale"}}``.

    Example:
        >>> image_preprocessing(image_info(8, 8, 3, "pixels"), ["a", "b"], "integer", "pixels",
        ...                     origin="folder").scaling
        ImageScaling(method='pixels', scale=0.00392156862745098, offset=0.0)
    """
    return ImagePreprocessing(
        origin=origin,
        image=ImageInput.from_dict(image, path="image"),
        class_names=tuple(class_names),
        target=IMAGE_TARGET,
        task="classification",
        target_encoding=target_encoding,
        scaling=scaling if isinstance(scaling, ImageScaling) else ImageScaling(scaling, image_scale(scaling)),
    )


def label_frame(
    positions: np.ndarray, labels: np.ndarray, class_names: Sequence[str], *, files: Sequence[str] | None = None
) -> pd.DataFrame:
    """A part's frame: one row per image, indexed by its position in the source, no pixels.

    Args:
        positions: Each image's position in the source arrays (or sorted file list).
        labels: Class indices, aligned with ``positions``.
        class_names: Class names in label order.
        files: For a folder, each image's file (relative to the folder); becomes the first column.

    Returns:
        Columns ``file`` (folders only) and ``label`` (the class name).

    Example:
        >>> label_frame(np.array([4, 7]), np.array([1, 0]), ["cat", "dog"])["label"].tolist()
        ['dog', 'cat']
    """
    columns: dict[str, Any] = {}
    if files is not None:
        columns["file"] = list(files)
    columns[IMAGE_TARGET] = np.asarray(class_names, dtype=object)[labels]
    return pd.DataFrame(columns, index=pd.Index(np.asarray(positions, dtype=np.int64)))


def keep_rows(count: int, rows: int | None, *, source: str, what: str) -> int:
    """How many images ``data.rows`` keeps (the first N).

    Args:
        count: Images available.
        rows: ``data.rows``, or None for every image.
        source: The spec file, for error messages.
        what: The images counted, e.g. ``"training images in 'x.npz'"``.

    Returns:
        The number of images to keep.

    Raises:
        DataError: at ``data.rows`` when it asks for more than there are.

    Example:
        >>> keep_rows(5000, None, source="s.toml", what="training images")
        5000
    """
    if rows is None:
        return count
    if rows > count:
        raise DataError.single(
            source, "data.rows", f"asks for more images than there are: {count} {what}", got=rows,
            hint=f"Set data.rows to {count} or less, or leave it out to use every image.",
        )
    return rows
