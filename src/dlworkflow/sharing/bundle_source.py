"""Where ``dlw predict`` finds a model: an exported bundle folder, or a run of the registry.

Example:
    >>> bundle_for("20261123", None).backend  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

import os
from pathlib import Path

from dlworkflow.errors import DataError, RegistryError
from dlworkflow.sharing.bundle import Bundle


def bundle_for(source: str | Path, registry: str | None) -> Bundle:
    """The bundle ``dlw predict`` reads: a bundle folder, else a run of the registry.

    Args:
        source: A bundle folder (``dlw export``), or a run id or unique prefix.
        registry: A SQLAlchemy URL (for a run id).

    Returns:
        The bundle (a folder's files are checked against its manifest).

    Raises:
        DataError: for a path that is a file, or a folder that does not exist.
        RegistryError: when ``source`` is neither a bundle folder nor a run (the message names both).

    Example:
        >>> bundle_for("shared/weather", None).backend  # doctest: +SKIP
        'jax'
    """
    from dlworkflow.registry import Registry

    path = Path(source)
    if path.is_dir():
        return Bundle.open(path)
    text = str(source)
    if path.exists() or os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."):
        what = "is a file, not a bundle folder" if path.exists() else "bundle folder not found"
        raise DataError.single(text, "", what, hint="Give the folder `dlw export RUN DIR` wrote, or a run id.")
    with Registry.open(registry) as store:
        try:
            record = store.get(text)
        except RegistryError as err:
            problem = err.problems[0]
            raise RegistryError.single(
                problem.where, "RUN|DIR", f"{text!r} is neither a bundle folder nor a run: {problem.what}",
                hint=problem.hint,
            ) from err
        return Bundle.from_run(store.run_dir(record.id), record)
