"""The data home: the one folder where dlworkflow looks for data files a spec does not carry along.

A relative ``data.path`` is looked for first next to the spec file (so a spec and its data
can move together), then in the data home. The data home is also where a Keras image set's
offline copy (``cifar10.npz``, ``mnist.npz``, ...) is found. It is, in this order:

1. the environment variable ``DLW_DATA_HOME``;
2. ``$XDG_CACHE_HOME/dlworkflow``;
3. ``~/.cache/dlworkflow``.

Example:
    >>> data_home()  # with DLW_DATA_HOME=/srv/lesson-data  # doctest: +SKIP
    PosixPath('/srv/lesson-data')
    >>> locate("cifar10_subset/cifar10_subset.npz", source="examples/cifar10.toml")  # doctest: +SKIP
    PosixPath('/srv/lesson-data/cifar10_subset/cifar10_subset.npz')
"""

from __future__ import annotations

import os
from pathlib import Path

from dlworkflow.errors import DataError
from dlworkflow.spec.registries import DATA_FILES, file_type

DATA_HOME_VARIABLE = "DLW_DATA_HOME"
"""Environment variable naming the data home."""

DATA_HOME_FOLDER = "dlworkflow"
"""Sub-folder of the user's cache folder used when ``DLW_DATA_HOME`` is not set."""


def data_home() -> Path:
    """The folder where data files and offline copies of Keras image sets are looked for.

    Returns:
        ``$DLW_DATA_HOME``, else ``$XDG_CACHE_HOME/dlworkflow``, else ``~/.cache/dlworkflow``
        (``~`` expanded; the folder may not exist). An empty variable counts as unset.

    Example:
        >>> data_home()  # with DLW_DATA_HOME unset and XDG_CACHE_HOME unset  # doctest: +SKIP
        PosixPath('/home/me/.cache/dlworkflow')
    """
    configured = os.environ.get(DATA_HOME_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / DATA_HOME_FOLDER


def resolve_path(path: str | Path, *, source: str) -> Path:
    """Resolve ``data.path`` relative to the spec file's folder.

    Args:
        path: As written in the spec (``~`` is expanded; absolute paths are kept).
        source: The spec file; when it is not an existing file (e.g. ``<api>``), the
            working directory is the base.

    Returns:
        The absolute path (which may not exist).

    Example:
        >>> resolve_path("data/x.csv", source="<api>") == Path.cwd() / "data" / "x.csv"
        True
    """
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    return (spec_folder(source) / candidate).absolute()


def spec_folder(source: str) -> Path:
    """The folder a relative ``data.path`` is read from first.

    Args:
        source: The spec file, or a label such as ``<api>``.

    Returns:
        The spec file's folder when ``source`` is an existing file, else the working directory.

    Example:
        >>> spec_folder("<api>") == Path.cwd()
        True
    """
    spec_file = Path(source)
    return spec_file.parent.absolute() if spec_file.is_file() else Path.cwd()


def spec_folder_text(source: str) -> str:
    """Describe :func:`spec_folder` for an error message.

    Args:
        source: The spec file, or a label such as ``<api>``.

    Returns:
        E.g. ``"the spec file's folder '/home/me/specs'"`` or ``"the working directory '/tmp'"``.

    Example:
        >>> spec_folder_text("<api>").startswith("the working directory")
        True
    """
    if Path(source).is_file():
        return f"the spec file's folder {str(spec_folder(source))!r}"
    return f"the working directory {str(Path.cwd())!r}"


def candidates(path_text: str | Path, *, source: str) -> list[Path]:
    """Every place :func:`locate` looks for ``data.path``, in order.

    Args:
        path_text: ``data.path`` as written in the spec.
        source: The spec file, or a label such as ``<api>``.

    Returns:
        One path for an absolute ``data.path``; else the path under the spec file's folder
        (or working directory), then under the data home.

    Example:
        >>> [str(p) for p in candidates("/abs/x.csv", source="<api>")]
        ['/abs/x.csv']
    """
    first = resolve_path(path_text, source=source)
    if Path(path_text).expanduser().is_absolute():
        return [first]
    in_home = (data_home() / Path(path_text)).absolute()
    return [first] if in_home == first else [first, in_home]


def locate(path_text: str | Path, *, source: str) -> Path:
    """Find the file or folder ``data.path`` names.

    An absolute path is used as is. A relative one is looked for first in the spec file's
    folder (the working directory when there is no spec file), then in the data home
    (:func:`data_home`).

    Args:
        path_text: ``data.path`` as written in the spec.
        source: The spec file, or a label such as ``<api>``; also used in error messages.

    Returns:
        The absolute path of the first place that exists.

    Raises:
        DataError: at ``data.path`` when it exists nowhere, naming every place looked and
            the fix.

    Example:
        >>> locate("cifar10_subset/cifar10_subset.npz", source="examples/cifar10.toml")  # doctest: +SKIP
        PosixPath('/srv/lesson-data/cifar10_subset/cifar10_subset.npz')
    """
    places = candidates(path_text, source=source)
    for place in places:
        if place.exists():
            return place
    raise DataError.single(
        source, "data.path", f"{_kind(path_text)} not found: {str(path_text)!r}",
        hint=_hint(path_text, places, source),
    )


def _kind(path_text: str | Path) -> str:
    """What ``data.path`` names, by its ending: the registered source's label (``CSV file``)."""
    ending = file_type(path_text)
    if ending is not None:
        return str(getattr(DATA_FILES[ending], "label", "data file"))
    return "data file or image folder" if not Path(path_text).suffix else "data file"


def _hint(path_text: str | Path, places: list[Path], source: str) -> str:
    looked = ", ".join(repr(str(place)) for place in places)
    if len(places) == 1:
        return f"Check the file name; looked in {looked}."
    return (
        f"Check the file name; a relative data.path is read from {spec_folder_text(source)}, "
        f"then from the data home {str(data_home())!r}. Looked in {looked}. "
        f"Put the file in one of those places, or set {DATA_HOME_VARIABLE} to the folder that holds "
        f"{str(path_text)!r}."
    )
