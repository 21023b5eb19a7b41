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
from types import ModuleType

from dlworkflow.errors import SpecError


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


def import_user_module(reference: str, folder: str | Path, *, source: str, spec_path: str) -> ModuleType:
    """Import the module of a ``"module:attribute"`` reference, the spec's folder searched first.

    Args:
        reference: The spec's ``"module:attribute"`` text.
        folder: The folder searched first (the spec file's).
        source: The spec file, for the error.
        spec_path: The spec key that names the reference (``model.builder``, ``evaluate.baselines[0]``).

    Returns:
        The imported module.

    Raises:
        SpecError: at ``spec_path`` when the module cannot be imported, saying where it was looked for.

    Example:
        >>> import_user_module("json:dumps", ".", source="spec.toml", spec_path="model.builder").__name__
        'json'
        >>> try:
        ...     import_user_module("no_such_module:build", ".", source="spec.toml", spec_path="model.builder")
        ... except SpecError as err:
        ...     str(err).startswith("spec.toml: model.builder: cannot import the module 'no_such_module'")
        True
    """
    module_name = reference.partition(":")[0]
    with first_on_sys_path(folder):
        try:
            return importlib.import_module(module_name)
        except ImportError as err:
            raise SpecError.single(
                source, spec_path, f"cannot import the module {module_name!r} ({err})", got=reference,
                hint=f"Put {module_name.replace('.', '/')}.py in the spec file's folder ({folder}), which is "
                "searched first, or install it; sys.path is then searched in order.",
            ) from err
