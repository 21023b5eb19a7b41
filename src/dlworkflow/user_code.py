"""The user's own code that a spec names by ``"module:attribute"``, imported from beside the spec file.

A model builder (``model.builder``) and a baseline (``evaluate.baselines``) live in the
user's modules, usually next to their spec: while one is imported, the spec's folder comes
first on ``sys.path``, and it is taken off again afterwards.

Example:
    >>> import sys, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with first_on_sys_path(folder):
    ...     sys.path[0] == folder
    True
    >>> folder in sys.path
    False
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def first_on_sys_path(folder: str | Path) -> Iterator[None]:
    """Put a folder first on ``sys.path`` for the block (unless it is there already), then take it off.

    Args:
        folder: The folder whose modules should be importable, e.g. the spec file's.

    Yields:
        Nothing; import inside the block.
    """
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
