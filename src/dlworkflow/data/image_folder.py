"""Image folders: ``data.path`` names a folder with one sub-folder of images per class.

The layout of ``keras.utils.image_dataset_from_directory``::

    cats_dogs/
        Cat/0.jpg, Cat/1.jpg, ...
        Dog/0.jpg, ...

The sorted sub-folder names are the class names; image files are found by extension
(:data:`IMAGE_EXTENSIONS`, any case, in nested folders too), in sorted order. Every file's
file is read once, one at a time: its bytes are hashed for the data's fingerprint and its header
is checked with Pillow — its size and a ``verify()`` — but no pixel is decoded here, so a folder
of tens of thousands of files is listed, checked and fingerprinted in seconds with little memory.
The parts are *streamed*: ``Part.x`` is None and ``Part.files`` lists the images, which the
training layer reads, resizes to ``Dataset.image`` and scales batch by batch.

The file list is split with the usual splitters (``split.test_fraction``,
``split.validation``; ``stratified`` on the labels, ``random`` with ``split.seed``), after
``data.rows`` keeps the first N files in (class, file name) order.

Example:
    >>> folder = scan_image_folder("cats_dogs_mini", source="dogs_cats.toml")  # doctest: +SKIP
    >>> folder.class_names, len(folder.files)  # doctest: +SKIP
    (('Cat', 'Dog'), 40)
    >>> build_folder_dataset(folder, spec).sizes()  # doctest: +SKIP
    {'train': 24, 'validation': 8, 'test': 8}
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlworkflow.data.data_source import ImageSource
from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.fingerprint import content_digest, file_digests, file_fingerprint
from dlworkflow.data.image_preparation import (
    IMAGE_TARGET,
    check_image_spec,
    encode_labels,
    image_info,
    image_preprocessing,
    keep_rows,
    label_frame,
)
from dlworkflow.data.split import split_rows
from dlworkflow.errors import DataError, Problem
from dlworkflow.spec.schema import Spec
from dlworkflow.stage_clock import stage

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
"""File name endings (any case) read as images, as ``keras.utils.image_dataset_from_directory``."""

CHANNELS = 3
"""Images from a folder are read as RGB."""

EXAMPLE_SIZE = (160, 160)
"""The ``image_size`` a message suggests for a folder of mixed sizes."""

MAX_LISTED_PROBLEMS = 10
"""At most this many unreadable files are named in one error."""


@dataclass(frozen=True)
class ImageFolder:
    """A folder of images, one sub-folder per class, listed and checked (no pixels read).

    Attributes:
        root: The folder, absolute.
        class_names: The sorted sub-folder names.
        files: Image files relative to ``root`` (``Cat/0.jpg``, ``/`` separated), sorted by
            class, then file name.
        labels: Each file's class index into ``class_names`` (int64).
        sizes: Each file's ``(height, width)`` in pixels, from its header (int64, ``(n, 2)``).
        digests: Each file's content digest (sha256, :func:`~dlworkflow.data.fingerprint.file_digests`'
            form), taken from the same read as its header.
    """

    root: Path
    class_names: tuple[str, ...]
    files: tuple[str, ...]
    labels: np.ndarray
    sizes: np.ndarray
    digests: tuple[bytes, ...] = ()

    @property
    def name(self) -> str:
        """The folder's name, used as the dataset's name."""
        return self.root.name

    def absolute(self, relative: str) -> str:
        """The absolute path of one of :attr:`files`."""
        return str(self.root / relative)


def scan_image_folder(path: str | Path, *, source: str = "<spec>") -> ImageFolder:
    """List a class-per-folder image folder and check every file's header.

    Args:
        path: The folder.
        source: The spec file, for error messages.

    Returns:
        The listed folder.

    Raises:
        DataError: at ``data.path`` when the folder has fewer than two class sub-folders,
            a class folder holds no image file (naming each such folder), or a file is not a
            readable image (naming each such file, and the fix: remove or replace it).

    Example:
        >>> scan_image_folder("cats_dogs_mini").class_names  # doctest: +SKIP
        ('Cat', 'Dog')
    """
    root = Path(path).absolute()
    class_names = _class_folders(root, source)
    files: list[str] = []
    labels: list[int] = []
    empty: list[Problem] = []
    for index, class_name in enumerate(class_names):
        found = _image_files(root, class_name)
        if not found:
            empty.append(Problem(
                source, "data.path", f"class folder {str(root / class_name)!r} holds no image files "
                f"({', '.join(IMAGE_EXTENSIONS)})",
                hint="Put that class's images in it, or remove the folder.",
            ))
        files += found
        labels += [index] * len(found)
    if empty:
        raise DataError(empty)
    sizes, digests = _check_headers(root, files, source)
    return ImageFolder(
        root=root, class_names=class_names, files=tuple(files), labels=np.array(labels, dtype=np.int64),
        sizes=sizes, digests=digests,
    )


def build_folder_dataset(folder: ImageFolder, spec: Spec) -> Dataset:
    """Split a listed image folder as a spec's ``[data]`` and ``[split]`` ask, into streamed parts.

    Args:
        folder: From :func:`scan_image_folder`.
        spec: The validated spec.

    Returns:
        A classification dataset whose parts hold no pixels: ``x`` is None, ``files`` the
        absolute image paths in split order, ``y``/``labels`` as for arrays, and a frame
        (indexed by position in the sorted file list) with ``file`` (relative) and ``label``.
        ``Dataset.image`` gives the size to read the images at: ``data.image_size``, or the
        size they all share.

    Raises:
        SpecError: for a setting that does not apply to images.
        DataError: at ``data.image_size`` when the images differ in size and it is not set;
            at ``data.rows`` or ``split`` when the files cannot be kept or split as asked.

    Example:
        >>> dataset = build_folder_dataset(scan_image_folder("cats_dogs_mini"), spec)  # doctest: +SKIP
        >>> dataset.train.streamed, dataset.input_shape  # doctest: +SKIP
        (True, (128, 128, 3))
    """
    data, source = spec.data, spec.source
    check_image_spec(spec, own_test_set=None, streamed=True)
    kept = keep_rows(len(folder.files), data.rows, source=source, what=f"image files in {str(folder.root)!r}")
    files, labels, sizes = folder.files[:kept], folder.labels[:kept], folder.sizes[:kept]
    height, width = data.image_size if data.image_size is not None else _common_size(files, sizes, source)
    positions = split_rows(spec.split, labels, task="classification", class_names=folder.class_names, source=source)
    parts = {name: _part(name, rows, folder, spec) for name, rows in positions.items()}
    digests = folder.digests[:kept] if len(folder.digests) == len(folder.files) else file_digests(folder.root, files)
    names = np.asarray(folder.class_names, dtype=object)
    test = positions["test"]
    image = image_info(height, width, CHANNELS, data.scaling)
    return Dataset(
        name=folder.name,
        task="classification",
        target=IMAGE_TARGET,
        feature_names=(),
        class_names=folder.class_names,
        target_encoding=data.target_encoding,
        parts=parts,
        preprocessing=image_preprocessing(
            image, folder.class_names, data.target_encoding, data.scaling, origin="folder"
        ),
        fingerprint=file_fingerprint(files, names[labels].tolist(), digests),
        test_fingerprint=file_fingerprint(
            [files[i] for i in test], names[labels[test]].tolist(), [digests[i] for i in test]
        ),
        image=image,
    )


class ImageFolderSource(ImageSource):
    """``data.path = "pets"`` naming a folder: one sub-folder of images per class, streamed from disk."""

    label = "image folder"

    def build_dataset(self, location: str | Path, spec: Spec) -> Dataset:
        """Scan the folder and build the dataset (see :func:`build_folder_dataset`)."""
        return build_folder_dataset(scan_image_folder(location, source=spec.source), spec)


IMAGE_FOLDER = ImageFolderSource()
"""The source of a ``data.path`` that is a folder (:data:`dlworkflow.spec.registries.FOLDER_SOURCE`)."""


def _part(name: str, rows: np.ndarray, folder: ImageFolder, spec: Spec) -> Part:
    labels = np.ascontiguousarray(folder.labels[rows])
    relative = [folder.files[i] for i in rows]
    return Part(
        name=name,
        x=None,
        y=encode_labels(labels, len(folder.class_names), spec.data.target_encoding),
        labels=labels,
        frame=label_frame(rows, labels, folder.class_names, files=relative),
        files=tuple(folder.absolute(path) for path in relative),
    )


def _class_folders(root: Path, source: str) -> tuple[str, ...]:
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except NotADirectoryError as err:
        raise DataError.single(
            source, "data.path", f"{str(root)!r} is not a folder", hint="Name a folder of class sub-folders.",
        ) from err
    except OSError as err:
        raise DataError.single(
            source, "data.path", f"cannot list the image folder {str(root)!r} ({err.strerror or err})",
            hint="Check that the folder exists and can be read.",
        ) from err
    folders = tuple(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))
    if len(folders) >= 2:
        return folders
    loose = [entry.name for entry in entries if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS)]
    found = (
        f"it has only the sub-folder {folders[0]!r}" if folders
        else f"it holds {len(loose)} image files but no sub-folders" if loose
        else "it has no sub-folders"
    )
    raise DataError.single(
        source, "data.path", f"an image folder needs one sub-folder per class, at least two; "
        f"{found}: {str(root)!r}",
        hint=f"Put the images in one folder per class, e.g. '{root.name}/cat/1.jpg' and '{root.name}/dog/1.jpg' "
        "(the folder names are the class names).",
    )


def _image_files(root: Path, class_name: str) -> list[str]:
    """Image files under one class folder, relative to ``root``, in Keras' order."""
    found = []
    for directory, _, names in sorted(os.walk(root / class_name), key=lambda item: item[0]):
        relative = Path(directory).relative_to(root).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        found += [
            f"{relative}/{name}" for name in sorted(names)
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
        ]
    return found


@stage("read")
def _check_headers(root: Path, files: list[str], source: str) -> tuple[np.ndarray, tuple[bytes, ...]]:
    """Each file's (height, width) from its header and its content digest, from one read of the file.

    Raises:
        DataError: naming every unreadable file.
    """
    from PIL import Image

    sizes = np.zeros((len(files), 2), dtype=np.int64)
    digests: list[bytes] = []
    bad: list[tuple[str, str]] = []
    for index, relative in enumerate(files):
        path = root / relative
        try:
            content = path.read_bytes()
            digests.append(content_digest(content))
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                image.verify()
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError) as err:
            bad.append((str(path), _reason(err)))
            continue
        sizes[index] = (height, width)
    if bad:
        raise DataError(_unreadable(bad, source))
    return sizes, tuple(digests)


def _unreadable(bad: list[tuple[str, str]], source: str) -> list[Problem]:
    problems = [
        Problem(source, "data.path", f"cannot read image file {path!r} ({reason})",
                hint="Remove the file from the folder, or replace it with a good copy.")
        for path, reason in bad[:MAX_LISTED_PROBLEMS]
    ]
    if len(bad) > MAX_LISTED_PROBLEMS:
        problems.append(Problem(
            source, "data.path", f"and {len(bad) - MAX_LISTED_PROBLEMS} more unreadable image files",
            hint="Remove or replace every file named above and run again.",
        ))
    return problems


def _common_size(files: tuple[str, ...], sizes: np.ndarray, source: str) -> tuple[int, int]:
    differs = np.flatnonzero((sizes != sizes[0]).any(axis=1))
    if differs.size == 0:
        return int(sizes[0, 0]), int(sizes[0, 1])
    other = int(differs[0])
    examples = " and ".join(
        f"{files[i]!r} is {int(sizes[i, 0])}x{int(sizes[i, 1])}" for i in (0, other)
    )
    height, width = EXAMPLE_SIZE
    raise DataError.single(
        source, "data.image_size", f"the images differ in size (height x width): {examples}; "
        "a network takes one size",
        hint=f"Set image_size = [{height}, {width}] in [data] to resize every image as it is read.",
    )


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
