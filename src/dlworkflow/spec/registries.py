"""Open registries: the names a spec may use for split types, scaling methods and data sources.

Each registry maps a name the spec writes (``split.type = "ordered"``, ``data.scaling =
"minmax"``, ``data.dataset = "weather"``, the ``.parquet`` ending of ``data.path``) to the
object that does the work, which lives in the data layer. A built-in entry is written as a
``"module:attribute"`` reference and imported the first time it is used, so the spec layer
knows every name — and validates a spec against them — without importing pandas,
scikit-learn or Keras. The spec's validators read a registry when they run, never a copy, so
a name registered from Python is accepted by the next spec validated.

Adding one is one module plus one entry: write the splitter, scaling method or data source
in a module of its own, then register it (here for a built-in one, or from your code)::

    SPLIT_TYPES.register("blocked", "mypackage.blocked_split:BLOCKED")

An unknown name is a spec error that says which names there are and which one was probably
meant (:func:`unknown_name`).

Example:
    >>> "ordered" in SPLIT_TYPES, "pixels" in SCALING_METHODS, ".parquet" in DATA_FILES
    (True, True, True)
    >>> SPLIT_TYPES.hint("stratifed")
    "Did you mean 'stratified'? Valid options: 'random', 'stratified', 'ordered'."
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any, Generic, TypeVar, overload

from dlworkflow.errors import suggestion

Entry = TypeVar("Entry")

_REFERENCE_SEPARATOR = ":"


class Registry(Mapping[str, Entry], Generic[Entry]):
    """Names a spec may use for one kind of thing, each bound to its implementation.

    A read-only mapping (``name in registry``, ``registry[name]``, iteration in registration
    order) plus :meth:`register`. An entry given as a ``"module:attribute"`` string is imported
    when it is first looked up; ``name in registry`` and :meth:`names` never import anything.

    Args:
        kind: What an entry is, for messages: ``"split type"``.
        entries: The built-in entries, name → object or ``"module:attribute"``.

    Example:
        >>> colours = Registry("colour", {"red": "builtins:str"})
        >>> colours.register("blue", int)
        <class 'int'>
        >>> list(colours), colours["red"]
        (['red', 'blue'], <class 'str'>)
    """

    def __init__(self, kind: str, entries: Mapping[str, Any] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Any] = {}
        self._loaded: dict[str, Any] = {}
        for name, entry in (entries or {}).items():
            self.register(name, entry)

    @overload
    def register(self, name: str) -> Callable[[Any], Any]: ...

    @overload
    def register(self, name: str, entry: Any, *, replace: bool = False) -> Any: ...

    def register(self, name: str, entry: Any = None, *, replace: bool = False) -> Any:
        """Add an entry under ``name`` (a decorator when ``entry`` is left out).

        Args:
            name: The name a spec uses.
            entry: The implementation, or ``"module:attribute"`` naming it (imported on first use).
            replace: Allow replacing another entry of the same name.

        Returns:
            ``entry`` (so the call can decorate a class or function).

        Raises:
            ValueError: when ``name`` is empty or not a string, or is taken by another entry
                and ``replace`` is False.

        Example:
            >>> units = Registry("unit")
            >>> @units.register("metre")
            ... class Metre: ...
            >>> units["metre"].__name__
            'Metre'
        """
        if entry is None:
            return lambda decorated: self.register(name, decorated, replace=replace)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty name; got {name!r}")
        existing = self._entries.get(name, entry)
        same = existing is entry or (isinstance(existing, str) and existing == entry)
        if not same and not replace:
            raise ValueError(
                f"the {self.kind} {name!r} is registered already ({_describe(existing)}); "
                "choose another name, or pass replace=True"
            )
        self._entries[name] = entry
        self._loaded.pop(name, None)
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (tests register and remove their own).

        Args:
            name: A registered name.

        Raises:
            KeyError: when ``name`` is not registered.
        """
        del self._entries[name]
        self._loaded.pop(name, None)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order; nothing is imported.

        Example:
            >>> SCALING_METHODS.names()
            ('none', 'standardize', 'minmax', 'pixels')
        """
        return tuple(self._entries)

    def hint(self, value: str) -> str:
        """The fix for an unknown name: "Did you mean ...?" (difflib) and the registered names.

        Example:
            >>> SCALING_METHODS.hint("standardise")
            "Did you mean 'standardize'? Valid options: 'none', 'standardize', 'minmax', 'pixels'."
        """
        return suggestion(str(value), list(self._entries))

    def __getitem__(self, name: str) -> Entry:
        if name not in self._loaded:
            entry = self._entries[name]
            if isinstance(entry, str) and _REFERENCE_SEPARATOR in entry:
                entry = load_reference(entry, f"{self.kind} {name!r}")
            self._loaded[name] = entry
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)!r})"


def load_reference(reference: str, what: str | None = None) -> Any:
    """Import the object a ``"module:attribute"`` reference names.

    Args:
        reference: E.g. ``"dlworkflow.data.image_folder:IMAGE_FOLDER"``.
        what: What it is, for the message (default: the reference).

    Returns:
        The object.

    Raises:
        ImportError: when the module cannot be imported or lacks the attribute.

    Example:
        >>> load_reference("pathlib:PurePath").__name__
        'PurePath'
    """
    module_name, _, attribute = reference.partition(_REFERENCE_SEPARATOR)
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        named = f"the {what} {reference!r}" if what else repr(reference)
        raise ImportError(f"cannot load {named} ({err})") from err


def _describe(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    kind = entry if isinstance(entry, type) else type(entry)
    return f"{kind.__module__}.{kind.__qualname__}"


def spec_problem(what: str, got: Any, hint: str = "") -> ValueError:
    """An error a spec validator raises with its parts kept apart: what is wrong, the value, the fix.

    It is a pydantic ``PydanticCustomError`` of type ``spec_problem`` (a ``ValueError``);
    :func:`dlworkflow.spec.loader.validate_spec` renders it as ``spec.toml: <path>: <what>;
    got <value>. <hint>`` — the value is never taken apart as a sentence.

    Args:
        what: What is wrong or expected.
        got: The value received.
        hint: One concrete fix.

    Returns:
        The error, to raise.

    Example:
        >>> str(spec_problem("must be 'module:Class'", "oops", "Write e.g. 'mine:Median'."))
        "must be 'module:Class'"
    """
    from pydantic_core import PydanticCustomError

    return PydanticCustomError("spec_problem", "{what}", {"what": what, "got": got, "hint": hint})


def unknown_name(registry: Registry[Any], value: Any, what: str | None = None, *, more: str = "") -> ValueError:
    """The error a spec validator raises for a name the registry lacks (see :func:`spec_problem`).

    Args:
        registry: The registry consulted.
        value: What the spec says.
        what: The problem's wording (default: ``"unknown <kind>"``).
        more: A sentence added to the fix.

    Returns:
        The error, to raise: ``spec.toml: split.type: unknown split type; got 'x'. Did you mean ...?
        Valid options: ...``.

    Example:
        >>> str(unknown_name(SPLIT_TYPES, "ordred"))
        'unknown split type'
    """
    hint = " ".join(part for part in (registry.hint(value), more) if part)
    return spec_problem(what or f"unknown {registry.kind}", value, hint)


SPLIT_TYPES: Registry[Any] = Registry("split type", {
    "random": "dlworkflow.data.split:RANDOM",
    "stratified": "dlworkflow.data.split:STRATIFIED",
    "ordered": "dlworkflow.data.split:ORDERED",
})
"""``split.type`` → a :class:`~dlworkflow.data.split.Splitter`."""

SCALING_METHODS: Registry[Any] = Registry("scaling method", {
    "none": "dlworkflow.data.scaling:NO_SCALING",
    "standardize": "dlworkflow.data.scaling:STANDARDIZE",
    "minmax": "dlworkflow.data.scaling:MINMAX",
    "pixels": "dlworkflow.data.scaling:PIXELS",
})
"""``data.scaling`` → a :class:`~dlworkflow.data.scaling.ScalingMethod` (for tables, images or both)."""

DATASETS: Registry[Any] = Registry("dataset", {
    "penguins": "dlworkflow.data.builtin_tables:BUILTIN_TABLE",
    "weather": "dlworkflow.data.builtin_tables:BUILTIN_TABLE",
    "cifar10": "dlworkflow.data.keras_datasets:KERAS_DATASET",
    "mnist": "dlworkflow.data.keras_datasets:KERAS_DATASET",
    "fashion_mnist": "dlworkflow.data.keras_datasets:KERAS_DATASET",
})
"""``data.dataset`` → the :class:`~dlworkflow.data.data_source.DataSource` that loads it by name."""

DATA_FILES: Registry[Any] = Registry("data file type", {
    ".csv": "dlworkflow.data.csv_file:CSV_FILE",
    ".parquet": "dlworkflow.data.parquet_file:PARQUET_FILE",
    ".npz": "dlworkflow.data.image_arrays:IMAGE_ARRAY_FILE",
})
"""The ending of a ``data.path`` file (lower case, with its dot) → the
:class:`~dlworkflow.data.data_source.DataSource` that reads it. A folder is read by :data:`FOLDER_SOURCE`."""

FOLDER_SOURCE = "dlworkflow.data.image_folder:IMAGE_FOLDER"
"""The source of a ``data.path`` that is a folder: images, one sub-folder per class."""


def file_type(path: str | PurePath) -> str | None:
    """The :data:`DATA_FILES` key a file name ends with (the longest one), or None.

    Args:
        path: A file name or path.

    Returns:
        E.g. ``".parquet"``; None when no registered ending matches.

    Example:
        >>> file_type("tables/Weather.PARQUET"), file_type("notes.txt")
        ('.parquet', None)
    """
    name = PurePath(path).name.lower()
    endings = sorted((key for key in DATA_FILES.names() if name.endswith(key.lower())), key=len, reverse=True)
    return endings[0] if endings else None
