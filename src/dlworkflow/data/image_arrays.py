"""Image arrays: an ``.npz`` file (or a Keras image set) of training and test images.

The file holds the four arrays ``keras.datasets.<name>.load_data()`` returns, saved with
``np.savez``: ``x_train``, ``y_train``, ``x_test``, ``y_test``, and optionally
``class_names``. It is read without pickle. Its test arrays ARE the test set, so the spec
gives no ``split.test``; ``split.validation`` carves a validation set out of the training
images with the usual splitters.

Preparation, in order: keep the first ``data.rows`` training images (the lesson's
``n = 5000``) → split train/validation on the labels → resize to ``data.image_size`` →
scale (``pixels``: divide by 255; ``minmax``: the training part's minimum and maximum to 0 and
1) → encode the labels (``data.target_encoding``). ``pixels`` on images far from 0–255 (the
digits' 0–16) is warned about in ``Dataset.warnings``.

Example:
    >>> arrays = read_image_arrays("cifar10_subset.npz", source="cifar10.toml")  # doctest: +SKIP
    >>> arrays.x_train.shape, arrays.class_names[:2]  # doctest: +SKIP
    ((5000, 32, 32, 3), ('airplane', 'automobile'))
    >>> build_array_dataset(arrays, spec).sizes()  # doctest: +SKIP
    {'train': 4000, 'validation': 1000, 'test': 1000}
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dlworkflow.data.data_source import ImageSource
from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.fingerprint import array_fingerprint
from dlworkflow.data.image_preparation import (
    IMAGE_TARGET,
    check_image_spec,
    encode_labels,
    fit_image_scaling,
    image_info,
    image_preprocessing,
    keep_rows,
    label_frame,
    pixel_range_warnings,
    resize_images,
    scale_images,
)
from dlworkflow.data.memory import available_memory, format_bytes
from dlworkflow.data.preprocessing import ImageScaling
from dlworkflow.data.split import split_train_validation
from dlworkflow.errors import DataError
from dlworkflow.spec.schema import Spec

ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
"""Arrays an image ``.npz`` must hold (``class_names`` is optional)."""

SAVE_HINT = "Save it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=..., class_names=...)."


@dataclass(frozen=True)
class ImageArrays:
    """Training and test images with their labels, checked and in one layout.

    Attributes:
        name: Short label of the source (the file stem, or the Keras set's name).
        origin: Where the arrays came from, for messages (a file path, or ``keras.datasets.cifar10``).
        owner: How a message names the source of the test set, e.g. ``"this .npz"``.
        x_train: Training images ``(n, height, width, channels)``, raw values and type.
        y_train: Training labels, int64 class indices ``(n,)``.
        x_test: Test images, same height, width and channels as ``x_train``.
        y_test: Test labels, int64 ``(m,)``.
        class_names: Class names in label order.
    """

    name: str
    origin: str
    owner: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def read_image_arrays(
    path: str | Path,
    *,
    source: str = "<spec>",
    spec_path: str = "data.path",
    name: str | None = None,
    owner: str = "this .npz",
    default_class_names: Sequence[str] | None = None,
) -> ImageArrays:
    """Read an ``.npz`` of images (without pickle) and check it.

    Args:
        path: The ``.npz`` file.
        source: The spec file, for error messages.
        spec_path: The spec key that named the file (``data.path`` or ``data.dataset``).
        name: The dataset's name; defaults to the file stem.
        owner: How a message names the file as the source of the test set.
        default_class_names: Class names when the file has no ``class_names`` array
            (else ``"0" .. "k-1"``).

    Returns:
        The checked arrays.

    Raises:
        DataError: at ``spec_path`` when the file is not a readable ``.npz``, lacks one of
            ``x_train, y_train, x_test, y_test``, or holds arrays of the wrong shape or type
            (naming the file and the key).

    Example:
        >>> read_image_arrays("cifar10_subset.npz").class_names[-1]  # doctest: +SKIP
        'truck'
    """
    path = Path(path)
    file_text = repr(str(path))
    if not zipfile.is_zipfile(path):
        raise DataError.single(
            source, spec_path, f"{file_text} is not an .npz file (not a complete zip archive of arrays)",
            hint=f"Check that the file is complete (a download may have stopped early). {SAVE_HINT}",
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            missing = [key for key in ARRAY_KEYS if key not in keys]
            if missing:
                raise DataError.single(
                    source, spec_path, f"{file_text} has no array {missing[0]!r} "
                    f"(it holds {', '.join(map(repr, keys)) or 'no arrays'})",
                    hint=f"An image .npz needs the arrays {', '.join(ARRAY_KEYS)}. {SAVE_HINT}",
                )
            wanted = [key for key in (*ARRAY_KEYS, "class_names") if key in keys]
            _check_declared_sizes(archive, wanted, file_text, source, spec_path)
            arrays = {key: archive[key] for key in wanted}
    except DataError:
        raise
    except ValueError as err:  # an array stored as pickled objects
        raise DataError.single(
            source, spec_path, f"cannot read {file_text} as an .npz of arrays without pickle ({_first_line(err)})",
            hint=f"Store plain numeric arrays and class_names as strings. {SAVE_HINT}",
        ) from err
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise DataError.single(
            source, spec_path, f"cannot read {file_text} as an .npz file ({_first_line(err)})",
            hint=f"Check that the file is complete. {SAVE_HINT}",
        ) from err
    return image_arrays(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
        class_names=arrays.get("class_names"), default_class_names=default_class_names,
        name=name or path.stem, origin=str(path), owner=owner, source=source, spec_path=spec_path,
    )


def image_arrays(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    *,
    class_names: Any = None,
    default_class_names: Sequence[str] | None = None,
    name: str,
    origin: str,
    owner: str = "this .npz",
    source: str = "<spec>",
    spec_path: str = "data.path",
) -> ImageArrays:
    """Check four image arrays and bring them into one layout.

    Images ``(n, height, width)`` get a channel axis; ``(n, height, width, channels)`` are
    kept. Labels ``(n,)`` or ``(n, 1)`` (as Keras' CIFAR-10) become int64 ``(n,)``.

    Args:
        x_train: Training images.
        y_train: Training labels (integers from 0).
        x_test: Test images.
        y_test: Test labels.
        class_names: Names in label order (an array of strings), or None.
        default_class_names: Names to use when ``class_names`` is None (else ``"0" .. "k-1"``).
        name: The dataset's name.
        origin: Where the arrays came from, named in messages.
        owner: How a message names the source of the test set.
        source: The spec file, for error messages.
        spec_path: The spec key that named the data.

    Returns:
        The checked arrays.

    Raises:
        DataError: at ``spec_path``, naming ``origin`` and the array, when a shape, type or
            label is wrong.

    Example:
        >>> arrays = image_arrays(np.zeros((4, 8, 8), np.uint8), np.array([0, 1, 0, 1]),
        ...                       np.zeros((2, 8, 8), np.uint8), np.array([[1], [0]]), name="tiny", origin="<test>")
        >>> arrays.x_train.shape, arrays.y_test.tolist(), arrays.class_names
        ((4, 8, 8, 1), [1, 0], ('0', '1'))
    """
    check = _Checker(source, spec_path, origin)
    images = {"x_train": check.images("x_train", x_train), "x_test": check.images("x_test", x_test)}
    labels = {"y_train": check.labels("y_train", y_train), "y_test": check.labels("y_test", y_test)}
    for images_key, labels_key in (("x_train", "y_train"), ("x_test", "y_test")):
        num_images, num_labels = len(images[images_key]), len(labels[labels_key])
        if num_images != num_labels:
            raise check.error(
                labels_key, f"has {num_labels} labels for {num_images} images in {images_key!r}",
                hint="Give one label per image.",
            )
    if images["x_train"].shape[1:] != images["x_test"].shape[1:]:
        raise check.error(
            "x_test", f"holds images of shape {images['x_test'].shape[1:]}, but 'x_train' holds "
            f"{images['x_train'].shape[1:]}", hint="Give training and test images of one size and channel count.",
        )
    names = check.class_names(class_names, default_class_names, labels)
    return ImageArrays(
        name=name, origin=origin, owner=owner, x_train=images["x_train"], y_train=labels["y_train"],
        x_test=images["x_test"], y_test=labels["y_test"], class_names=names,
    )


def build_array_dataset(arrays: ImageArrays, spec: Spec) -> Dataset:
    """Prepare and split image arrays as a spec's ``[data]`` and ``[split]`` ask.

    Args:
        arrays: From :func:`read_image_arrays` or
            :func:`dlworkflow.data.keras_datasets.load_keras_dataset`.
        spec: The validated spec.

    Returns:
        A classification dataset with in-memory parts: ``x`` float32 ``(n, h, w, c)``,
        ``y`` int32 labels or float32 one-hot rows, ``labels`` int64 class indices, and a
        frame indexed by each image's position in the source arrays with its ``label``.

    Raises:
        SpecError: for a setting that does not apply (see
            :func:`~dlworkflow.data.image_preparation.check_image_spec`).
        DataError: when ``data.rows`` asks for too many images or the split cannot be made.

    Example:
        >>> dataset = build_array_dataset(read_image_arrays("cifar10_subset.npz"), spec)  # doctest: +SKIP
        >>> dataset.input_shape  # doctest: +SKIP
        (32, 32, 3)
    """
    data, source = spec.data, spec.source
    check_image_spec(spec, own_test_set=arrays.owner)
    kept = keep_rows(len(arrays.x_train), data.rows, source=source, what=f"training images in {arrays.origin!r}")
    raw_train, train_labels = arrays.x_train[:kept], arrays.y_train[:kept]
    positions = split_train_validation(spec.split, train_labels, class_names=arrays.class_names, source=source)
    train_images, test_images = raw_train, arrays.x_test
    if data.image_size is not None:
        _check_resized_size(len(raw_train) + len(arrays.x_test), arrays.x_test, data.image_size, source)
        train_images = resize_images(raw_train, data.image_size)
        test_images = resize_images(arrays.x_test, data.image_size)
    training = train_images[positions["train"]]
    scaling = fit_image_scaling(data.scaling, training)
    parts = {
        name: _part(name, rows, train_images, train_labels, arrays.class_names, spec, scaling)
        for name, rows in positions.items()
    }
    parts["test"] = _part(
        "test", np.arange(len(test_images)), test_images, arrays.y_test, arrays.class_names, spec, scaling
    )
    height, width, channels = (int(n) for n in test_images.shape[1:])
    image = image_info(height, width, channels, scaling)
    return Dataset(
        name=arrays.name,
        task="classification",
        target=IMAGE_TARGET,
        feature_names=(),
        class_names=arrays.class_names,
        target_encoding=data.target_encoding,
        parts=parts,
        preprocessing=image_preprocessing(image, arrays.class_names, data.target_encoding, scaling, origin="arrays"),
        fingerprint=array_fingerprint([(raw_train, train_labels), (arrays.x_test, arrays.y_test)]),
        test_fingerprint=array_fingerprint([(arrays.x_test, arrays.y_test)]),
        image=image,
        warnings=pixel_range_warnings(training, data.scaling, source=source),
    )


class ImageArrayFile(ImageSource):
    """``data.path = "images.npz"``: arrays ``x_train, y_train, x_test, y_test`` (see :func:`read_image_arrays`)."""

    label = "image array file"

    def build_dataset(self, location: str | Path, spec: Spec) -> Dataset:
        """Read the arrays and build the dataset (see :func:`build_array_dataset`)."""
        return build_array_dataset(read_image_arrays(location, source=spec.source), spec)


IMAGE_ARRAY_FILE = ImageArrayFile()
"""The source registered for ``.npz`` in :data:`dlworkflow.spec.registries.DATA_FILES`."""


def _part(
    name: str, rows: np.ndarray, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], spec: Spec,
    scaling: ImageScaling,
) -> Part:
    part_labels = np.ascontiguousarray(labels[rows])
    return Part(
        name=name,
        x=scale_images(images[rows], scaling),
        y=encode_labels(part_labels, len(class_names), spec.data.target_encoding),
        labels=part_labels,
        frame=label_frame(rows, part_labels, class_names),
    )


@dataclass(frozen=True)
class _Checker:
    source: str
    spec_path: str
    origin: str

    def error(self, key: str, what: str, **details: Any) -> DataError:
        return DataError.single(  # type: ignore[return-value]
            self.source, self.spec_path, f"{self.origin!r}: array {key!r} {what}", **details
        )

    def images(self, key: str, value: Any) -> np.ndarray:
        array = np.asarray(value)
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
            raise self.error(key, f"must hold numbers (pixel values), but holds {array.dtype}",
                             hint="Store the images as uint8 (0-255) or float arrays.")
        if array.ndim == 3:
            array = array[..., np.newaxis]
        if array.ndim != 4:
            raise self.error(
                key, f"must have shape (images, height, width) or (images, height, width, channels); "
                f"got shape {array.shape}", hint="Stack one image per row along the first axis.",
            )
        if array.shape[0] == 0 or min(array.shape[1:]) == 0:
            raise self.error(key, f"is empty (shape {array.shape})", hint="Give at least one image.")
        return array

    def labels(self, key: str, value: Any) -> np.ndarray:
        array = np.asarray(value)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise self.error(
                key, f"must have shape (images,) or (images, 1): one class index per image; got shape {array.shape}",
                hint="Give integer class indices, not one-hot rows (np.argmax(y, axis=1)).",
            )
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise self.error(key, f"must hold integer class indices, but holds {array.dtype}",
                             hint="Give labels 0, 1, ... (e.g. y.astype('int64')).")
        if array.size and array.min() < 0:
            raise self.error(key, f"holds a negative label ({int(array.min())})", hint="Number the classes from 0.")
        return array.astype(np.int64)

    def class_names(
        self, value: Any, default: Sequence[str] | None, labels: dict[str, np.ndarray]
    ) -> tuple[str, ...]:
        largest = max(int(array.max()) for array in labels.values() if array.size)
        if value is not None:
            array = np.asarray(value)
            if array.ndim != 1 or not (np.issubdtype(array.dtype, np.str_) or np.issubdtype(array.dtype, np.integer)):
                raise self.error(
                    "class_names", f"must be a 1-D array of names; got {array.dtype} of shape {array.shape}",
                    hint="Save class_names=np.array(['cat', 'dog']).",
                )
            names = tuple(str(item) for item in array.tolist())
        elif default is not None:
            names = tuple(default)
        else:
            names = tuple(str(index) for index in range(largest + 1))
        if largest >= len(names):
            key = next(key for key, array in labels.items() if array.size and int(array.max()) == largest)
            raise self.error(
                key, f"holds label {largest}, but there are {len(names)} class names", hint=(
                    "Number the classes 0 .. k-1 and give k class_names."
                ),
            )
        if len(names) < 2:
            raise self.error(
                "class_names" if value is not None else "y_train",
                f"gives {len(names)} class; classification needs at least 2",
                hint="Give images of at least two classes.",
            )
        if len(set(names)) != len(names):
            raise self.error("class_names", f"repeats a name: {list(names)!r}", hint="Give each class its own name.")
        return names


def declared_array(archive: Any, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and type an ``.npz`` member's ``.npy`` header declares, read without reading the array.

    Args:
        archive: An open ``np.load`` archive of an ``.npz`` file.
        key: The array's name (its member is ``<key>.npy``).

    Returns:
        ``(shape, dtype)`` as the header says.

    Raises:
        ValueError: when the member's header is not a valid ``.npy`` header.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> np.savez(buffer, x=np.zeros((2, 3), dtype=np.uint8))
        >>> _ = buffer.seek(0)
        >>> with np.load(buffer) as archive:
        ...     declared_array(archive, "x")
        ((2, 3), dtype('uint8'))
    """
    from numpy.lib import format as npy_format

    with archive.zip.open(f"{key}.npy") as member:
        version = npy_format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    return tuple(int(n) for n in shape), dtype


def _check_declared_sizes(archive: Any, keys: Sequence[str], file_text: str, source: str, spec_path: str) -> None:
    """Refuse, before reading them, arrays whose headers declare more bytes than the memory available."""
    declared = {key: declared_array(archive, key) for key in keys}
    sizes = {key: int(np.prod(shape, dtype=object)) * dtype.itemsize for key, (shape, dtype) in declared.items()}
    available = available_memory()
    if available is not None and sum(sizes.values()) > available:
        largest = max(sizes, key=sizes.__getitem__)
        shape, dtype = declared[largest]
        raise DataError.single(
            source, spec_path, f"{file_text} declares arrays of {format_bytes(sum(sizes.values()))} ({largest} of shape "
            f"{shape} and type {dtype}), more than the {format_bytes(available)} of memory available",
            hint="Check the file (a damaged header declares a wrong shape), or save a smaller subset of the images. "
            "Nothing was read.",
        )
    for key, size in sizes.items():
        stored = archive.zip.getinfo(f"{key}.npy").file_size
        if size > stored:
            shape, dtype = declared[key]
            raise DataError.single(
                source, spec_path, f"{file_text}: the array {key!r} declares shape {shape} and type {dtype} "
                f"({format_bytes(size)}), but the file holds only {format_bytes(stored)} for it",
                hint=f"The file is damaged or cut short; write it again. {SAVE_HINT}",
            )


def _check_resized_size(count: int, sample: np.ndarray, size: tuple[int, int], source: str) -> None:
    """Refuse a ``data.image_size`` whose resized images would not fit in memory, before resizing."""
    channels = sample.shape[-1] if sample.ndim == 4 else 1
    item = 1 if sample.dtype == np.uint8 and channels in (1, 3, 4) else 4  # as resize_images stores them
    needed = count * size[0] * size[1] * channels * item
    available = available_memory()
    if available is not None and needed > available:
        raise DataError.single(
            source, "data.image_size", f"{count} images resized to {size[0]}×{size[1]} would take "
            f"{format_bytes(needed)}, more than the {format_bytes(available)} of memory available",
            got=list(size), hint="Choose a smaller image_size (or fewer images, data.rows). Nothing was resized.",
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
