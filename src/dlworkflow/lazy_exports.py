"""Packages whose public names are imported on first use, so that importing the package is cheap.

``dlw --help`` must not import pydantic, SQLAlchemy or Keras, yet ``dlworkflow.run`` and
``dlworkflow.training.fit_model`` should work as names of their packages. A package lists
where each public name lives and gets a module ``__getattr__`` (PEP 562) that imports the
home module on first use and keeps the value, and a ``__dir__`` that shows the names.

Example:
    >>> homes = {"fit_model": "dlworkflow.training.trainer"}
    >>> __getattr__, __dir__ = lazy_exports(__name__, globals(), homes)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names are imported on first use.

    Args:
        package: The package's ``__name__`` (for error messages).
        namespace: The package's ``globals()``; a name is stored there once imported.
        homes: ``{public name: module that defines it}`` (absolute module names); a
            submodule of the package maps to itself (``{"artifacts": "pkg.artifacts"}``).

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's top level.

    Example:
        >>> getattr_, dir_ = lazy_exports("pkg", {}, {"dumps": "json"})
        >>> getattr_("dumps").__name__, "dumps" in dir_()
        ('dumps', True)
    """

    def __getattr__(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        if module == f"{package}.{name}":  # a submodule, unless it defines a name of its own name
            value = getattr(imported, name, imported)
        else:
            value = getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
