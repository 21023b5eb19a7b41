"""Fingerprints: sha256 digests that say whether two runs saw the same data.

A fingerprint covers the feature names, the target name and every value, in row order.
It is computed from a canonical byte form, so it is the same in every process and on every
platform, and it does not depend on the storage type of a number: a column of integers and
the same numbers stored as floats give the same digest. Text values are hashed as UTF-8.
Any changed value, row, row order or column name gives a different digest.

Image data has its own canonical forms: :func:`array_fingerprint` hashes image arrays and
their labels (8-bit pixels as bytes), :func:`file_fingerprint` hashes a folder's image files
by relative path, label and content.

Example:
    >>> import pandas as pd
    >>> features = pd.DataFrame({"a": [1, 2]})
    >>> table_fingerprint(features, pd.Series([0.5, 1.5], name="y"))[:12]
    '28fa13256d2a'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dlworkflow.hashing import file_sha256
from dlworkflow.stage_clock import stage

FORMAT = b"dlworkflow-table-v1"
"""Version tag hashed first; change it when the canonical form changes."""

ARRAY_FORMAT = b"dlworkflow-image-arrays-v1"
"""Version tag of :func:`array_fingerprint`."""

FILE_FORMAT = b"dlworkflow-image-files-v1"
"""Version tag of :func:`file_fingerprint`."""

@stage("fingerprint")
def table_fingerprint(features: pd.DataFrame, target: pd.Series) -> str:
    """sha256 of feature columns and a target column, values in row order.

    The index is not hashed: two tables with the same columns and values in the same order
    have the same fingerprint wherever their rows came from.

    Args:
        features: The raw (unscaled) feature columns.
        target: The raw (unencoded) target values, aligned with ``features``; its ``name``
            is hashed as the target name.

    Returns:
        64 hexadecimal characters.

    Raises:
        ValueError: when ``features`` and ``target`` have different lengths.

    Example:
        >>> import pandas as pd
        >>> a = table_fingerprint(pd.DataFrame({"x": [1, 2]}), pd.Series(["u", "v"], name="y"))
        >>> b = table_fingerprint(pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["u", "v"], name="y"))
        >>> a == b
        True
    """
    if len(features) != len(target):
        raise ValueError(f"features have {len(features)} rows but the target has {len(target)}")
    digest = hashlib.sha256(FORMAT)
    _update(digest, b"rows", str(len(features)).encode())
    for name in features.columns:
        _hash_column(digest, b"feature", str(name), features[name])
    _hash_column(digest, b"target", str(target.name), target)
    return digest.hexdigest()


@stage("fingerprint")
def array_fingerprint(groups: Iterable[tuple[np.ndarray, np.ndarray]]) -> str:
    """sha256 of image arrays and their labels, group after group, images in order.

    Images whose values are all integers 0–255 (any integer type) are hashed as 8-bit bytes,
    so ``uint8`` and ``int32`` copies of the same pictures agree; other images are hashed as
    float64. Labels are hashed as 64-bit integers. Shapes are hashed too.

    Args:
        groups: ``(images, labels)`` pairs, e.g. the kept training images, then the test
            images; ``images`` is ``(n, height, width, channels)``, ``labels`` is ``(n,)``.

    Returns:
        64 hexadecimal characters.

    Example:
        >>> images = np.zeros((2, 4, 4, 3), np.uint8)
        >>> array_fingerprint([(images, np.array([0, 1]))]) == array_fingerprint(
        ...     [(images.astype(np.int32), np.array([0, 1], np.uint8))])
        True
    """
    digest = hashlib.sha256(ARRAY_FORMAT)
    for images, labels in groups:
        canonical = _canonical_images(images)
        _update(digest, b"shape", repr(tuple(int(n) for n in images.shape)).encode())
        _update_buffer(digest, b"images:" + canonical.dtype.str.encode(), canonical)
        _update(digest, b"labels", np.ascontiguousarray(labels, dtype="<i8").tobytes())
    return digest.hexdigest()


@stage("fingerprint")
def file_digests(root: str | Path, files: Sequence[str]) -> list[bytes]:
    """sha256 of each file's content (:func:`dlworkflow.hashing.file_sha256`).

    Args:
        root: The folder the files are relative to.
        files: Relative paths.

    Returns:
        One 32-byte digest per file, in order.

    Raises:
        OSError: when a file cannot be read.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "Cat").mkdir()
        >>> _ = (root / "Cat" / "0.jpg").write_bytes(b"abc")
        >>> file_digests(root, ["Cat/0.jpg"])[0].hex()[:12]
        'ba7816bf8f01'
    """
    return [file_sha256(os.path.join(root, relative)) for relative in files]


def content_digest(content: bytes) -> bytes:
    """The sha256 of a file's bytes already read, the same digest :func:`file_digests` gives for the file.

    For a caller that reads each file anyway (an image folder's header check), so the file is
    read once for both.

    Example:
        >>> content_digest(b"abc").hex()[:12]
        'ba7816bf8f01'
    """
    return hashlib.sha256(content).digest()


@stage("fingerprint")
def file_fingerprint(files: Sequence[str], labels: Sequence[str], content_digests: Sequence[bytes]) -> str:
    """sha256 of image files: each file's relative path, label and content, in order.

    The content enters through each file's own sha256 (:func:`file_digests`), so a file is
    read once even when it is hashed into both the whole-data and the test fingerprint.

    Args:
        files: Relative paths (``class/file``); ``\\`` is hashed as ``/``.
        labels: Each file's class name.
        content_digests: Each file's content digest, from :func:`file_digests`.

    Returns:
        64 hexadecimal characters.

    Raises:
        ValueError: when the three sequences differ in length.

    Example:
        >>> file_fingerprint(["Cat/0.jpg"], ["Cat"], [bytes(32)])[:12]  # doctest: +SKIP
        '5b0e6a1f9d2c'
    """
    if not len(files) == len(labels) == len(content_digests):
        raise ValueError(f"{len(files)} files, {len(labels)} labels and {len(content_digests)} digests")
    digest = hashlib.sha256(FILE_FORMAT)
    _update(digest, b"files", str(len(files)).encode())
    for relative, label, content in zip(files, labels, content_digests, strict=True):
        _update(digest, b"file", str(relative).replace("\\", "/").encode("utf-8", "surrogatepass"))
        _update(digest, b"label", str(label).encode("utf-8", "surrogatepass"))
        _update(digest, b"content", content)
    return digest.hexdigest()


def _canonical_images(images: np.ndarray) -> np.ndarray:
    if np.issubdtype(images.dtype, np.integer):
        if images.dtype == np.uint8 or images.size == 0 or (images.min() >= 0 and images.max() <= 255):
            return np.ascontiguousarray(images, dtype=np.uint8)
        return np.ascontiguousarray(images, dtype="<i8")
    return np.ascontiguousarray(images, dtype="<f8")


def _update_buffer(digest: Any, tag: bytes, array: np.ndarray) -> None:
    """Like :func:`_update`, for a large C-contiguous array, without copying it to bytes."""
    digest.update(tag + b":" + array.nbytes.to_bytes(8, "little"))
    digest.update(array.reshape(-1).view(np.uint8).data)


def _update(digest: Any, tag: bytes, payload: bytes) -> None:
    """Add one length-prefixed field, so no two different inputs share a byte stream."""
    digest.update(tag + b":" + len(payload).to_bytes(8, "little") + payload)


def _hash_column(digest: Any, role: bytes, name: str, column: pd.Series) -> None:
    _update(digest, role, name.encode("utf-8"))
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # -0.0 becomes 0.0
        values[np.isnan(values)] = np.nan  # one NaN bit pattern
        _update(digest, b"float64", values.astype("<f8").tobytes())
        return
    texts = ["\x00<missing>" if _is_missing(value) else str(value) for value in column.tolist()]
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    lengths = np.array([len(item) for item in encoded], dtype="<u8").tobytes()
    _update(digest, b"text", lengths + b"".join(encoded))


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
