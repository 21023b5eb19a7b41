"""The sha256 of a file's bytes, the one way dlworkflow hashes a file.

Image data fingerprints (:func:`dlworkflow.data.fingerprint.file_digests`) and bundle
manifests (:func:`dlworkflow.sharing.bundle.sha256_file`) both hash files through
:func:`file_sha256`, which leaves the reading to :func:`hashlib.file_digest` (Python 3.11):
no chunk loop of our own, and the file is never read into memory whole.

This module imports only the standard library, so every layer may use it.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "abc.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> file_sha256(path).hex()[:16]
    'ba7816bf8f01cfea'
"""

from __future__ import annotations

import hashlib
import os


def file_sha256(path: str | os.PathLike[str]) -> bytes:
    """The sha256 digest of a file's bytes.

    Args:
        path: The file.

    Returns:
        The 32-byte digest (``.hex()`` gives the 64 hexadecimal digits).

    Raises:
        OSError: when the file cannot be read.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "empty"
        >>> path.touch()
        >>> file_sha256(path).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        True
        >>> len(file_sha256(path))
        32
    """
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").digest()
