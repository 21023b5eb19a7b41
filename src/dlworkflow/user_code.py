"""The user's own code that a spec names by ``"module:attribute"``, imported from beside the spec file.

A model builder (``model.builder``) and a baseline (``evaluate.baselines``) live in the
user's modules, usually next to their spec: while one is imported, the spec's folder comes
first on ``sys.path``, and it is taken off again afterwards.

Only the user's own code runs: :func:`import_user_attribute` refuses, before importing
anything, a module of the standard library (``os:system``, ``subprocess:run``,
``builtins:eval``) or of dlworkflow and the libraries it runs on (:data:`NOT_USER_CODE`), and
after importing it refuses an attribute that is not a plain Python function or class *defined*
in that module (a re-export such as ``from os import system``). :func:`call_user_code` turns
whatever the user's code raises (``SystemExit`` and a ``RecursionError`` included; Ctrl-C
excepted) into one :class:`~dlworkflow.errors.SpecError`.

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

import functools
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from dlworkflow.errors import SpecError, WorkflowError, suggestion

NOT_USER_CODE = frozenset({
    "dlworkflow", "keras", "tf_keras", "tensorflow", "jax", "jaxlib", "flax", "torch", "numpy", "pandas", "scipy",
    "sklearn", "pydantic", "pydantic_core", "sqlalchemy", "alembic", "rich", "typer", "click", "h5py", "PIL",
    "matplotlib", "pip", "setuptools", "pkg_resources", "_pytest", "pytest", "IPython", "joblib", "cloudpickle", "dill",
    "yaml", "requests", "urllib3",
})
"""Top-level packages a spec may not name code from: dlworkflow and the libraries it runs on (with the standard
library, ``sys.stdlib_module_names``, and every package installed as a dependency of dlworkflow, see
:func:`library_modules`). Their functions are not model code, and some write files, load pickles or run commands."""


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
        SpecError: at ``spec_path`` when the module cannot be imported, saying where it was looked for, or
            when importing it raises (a syntax error, ``sys.exit()``: anything but Ctrl-C).

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
        except (KeyboardInterrupt, WorkflowError):
            raise
        except BaseException as err:  # the module's own code (a SyntaxError, sys.exit() at import): one clear error
            raise SpecError.single(
                source, spec_path, f"importing the module {module_name!r} raised {_describe(err)}", got=reference,
                hint=f"Fix {module_name.replace('.', '/')}.py so that it imports without error.",
            ) from err


def import_user_attribute(
    reference: str, folder: str | Path, *, source: str, spec_path: str, kind: str = "function"
) -> Any:
    """Import the function or class a ``"module:attribute"`` reference names, if it is the user's own code.

    The module is refused before it is imported when it belongs to the standard library or to
    :data:`NOT_USER_CODE`; after the import, the attribute must be a Python function or class
    whose ``__module__`` is the named module (defined there, not imported into it).

    Args:
        reference: The spec's ``"module:attribute"`` text.
        folder: The folder searched first (the spec file's).
        source: The spec file, for the error.
        spec_path: The spec key that names the reference (``model.builder``, ``evaluate.baselines[0]``).
        kind: ``"function"`` (a function or a class) or ``"class"`` (a class only), for the checks and messages.

    Returns:
        The function or class.

    Raises:
        SpecError: at ``spec_path`` when the module is not the user's, cannot be imported, lacks the
            attribute, or the attribute is not defined in it.

    Example:
        >>> try:
        ...     import_user_attribute("os:system", ".", source="spec.toml", spec_path="model.builder")
        ... except SpecError as err:
        ...     "the standard library" in str(err)
        True
    """
    module_name, _, attribute = reference.partition(":")
    refuse_foreign_module(reference, source=source, spec_path=spec_path)
    module = import_user_module(reference, folder, source=source, spec_path=spec_path)
    value = getattr(module, attribute, None)
    if callable(value) and not _defined_in(value, module_name):
        defined = getattr(value, "__module__", None)
        origin = f" (it is imported there from {defined!r})" if isinstance(defined, str) else ""
        raise SpecError.single(
            source, spec_path, f"{attribute!r} is not defined in the module {module_name!r}{origin}; a spec names "
            "only code defined in the named module", got=reference,
            hint=f"Write a {kind} in {module_name.replace('.', '/')}.py (beside the spec) that does what you need, "
            "and name that one.",
        )
    wanted = inspect.isclass(value) if kind == "class" else (inspect.isfunction(value) or inspect.isclass(value))
    if not wanted:
        names = sorted(
            name for name, item in vars(module).items()
            if not name.startswith("_") and _defined_in(item, module_name)
            and (inspect.isclass(item) or (kind != "class" and inspect.isfunction(item)))
        )
        what = (f"the module {module_name!r} has no {kind} {attribute!r}" if value is None
                else f"{attribute!r} in the module {module_name!r} is not a Python {kind} "
                f"(it is a {type(value).__name__})")
        raise SpecError.single(
            source, spec_path, what, got=reference,
            hint=suggestion(attribute, names) or f"Name a {kind} defined in {module_name}.py.",
        )
    return value


def refuse_foreign_module(reference: str, *, source: str, spec_path: str) -> None:
    """Refuse, without importing it, a module of the standard library or of :data:`NOT_USER_CODE`.

    Args:
        reference: The spec's ``"module:attribute"`` text.
        source: The spec file, for the error.
        spec_path: The spec key that names the reference.

    Raises:
        SpecError: at ``spec_path`` for such a module.

    Example:
        >>> refuse_foreign_module("my_models:build", source="spec.toml", spec_path="model.builder")
        >>> try:
        ...     refuse_foreign_module("subprocess:run", source="spec.toml", spec_path="model.builder")
        ... except SpecError as err:
        ...     str(err).split(";")[0]
        "spec.toml: model.builder: 'subprocess' is part of the standard library, not your code"
    """
    problem = foreign_module_problem(reference)
    if problem is not None:
        raise SpecError.single(source, spec_path, problem, got=reference, hint=FOREIGN_MODULE_HINT)


FOREIGN_MODULE_HINT = (
    "Write the function or class in a module of your own beside the spec (e.g. my_models.py with "
    "def build(...) returning the model) and name it: 'my_models:build'. Nothing was imported or run."
)


def foreign_module_problem(reference: str) -> str | None:
    """Why a ``"module:attribute"`` reference names code that is not the user's, or None; nothing is imported.

    Args:
        reference: The spec's ``"module:attribute"`` text.

    Returns:
        The problem (the module belongs to the standard library, or to dlworkflow and its libraries), or None.

    Example:
        >>> foreign_module_problem("my_models:build") is None
        True
        >>> foreign_module_problem("builtins:eval")
        "'builtins' is part of the standard library, not your code; a spec may only name a function or class of your own"
    """
    top = reference.partition(":")[0].split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        owner = "the standard library"
    elif top in NOT_USER_CODE or top in library_modules():
        owner = "dlworkflow or a library it runs on"
    else:
        return None
    return f"{top!r} is part of {owner}, not your code; a spec may only name a function or class of your own"


@functools.lru_cache(maxsize=1)
def library_modules() -> frozenset[str]:
    """The top-level modules of every package dlworkflow depends on, directly or not (read once from the metadata).

    Returns:
        Module names such as ``"joblib"``, ``"yaml"``, ``"requests"``; empty when dlworkflow is not installed
        as a distribution (then :data:`NOT_USER_CODE` alone applies).

    Example:
        >>> "numpy" in library_modules() or not library_modules()
        True
    """
    from importlib import metadata

    needed: set[str] = set()
    waiting = ["dlworkflow"]
    while waiting:
        try:
            requirements = metadata.requires(waiting.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requirements:
            if "extra ==" in requirement:
                continue
            name = _distribution_key(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
            if name not in needed:
                needed.add(name)
                waiting.append(name)
    return frozenset(
        top for top, distributions in metadata.packages_distributions().items()
        if any(_distribution_key(distribution) in needed for distribution in distributions)
    )


def _distribution_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def call_user_code(function: Callable[..., Any], *args: Any, describe: str, source: str, spec_path: str,
                   hint: str, **kwargs: Any) -> Any:
    """Call the user's function, turning anything it raises (except Ctrl-C) into one SpecError.

    ``SystemExit`` (``sys.exit(0)`` too), a ``RecursionError``, a ``MemoryError`` and any other
    exception become a :class:`~dlworkflow.errors.SpecError` naming the code and the spec path;
    a :class:`~dlworkflow.errors.WorkflowError` the code raises passes through; only
    ``KeyboardInterrupt`` (Ctrl-C) is raised as it is.

    Args:
        function: The user's function or class.
        *args: Its positional arguments.
        describe: What is called, for the message (``"the builder my_models:build"``).
        source: The spec file.
        spec_path: The spec key that names it.
        hint: The fix.
        **kwargs: Its keyword arguments.

    Returns:
        What the function returns.

    Raises:
        SpecError: when the function raises.

    Example:
        >>> def fails():
        ...     raise SystemExit(0)
        >>> try:
        ...     call_user_code(fails, describe="my_models:fails", source="spec.toml", spec_path="model.builder",
        ...                    hint="Fix it.")
        ... except SpecError as err:
        ...     print(err)
        spec.toml: model.builder: my_models:fails raised SystemExit(0). Fix it.
    """
    try:
        return function(*args, **kwargs)
    except (KeyboardInterrupt, WorkflowError):
        raise
    except BaseException as err:  # the user's code may raise anything: each becomes one clear error
        raise SpecError.single(source, spec_path, f"{describe} raised {_describe(err)}", hint=hint) from err


def _describe(err: BaseException) -> str:
    if isinstance(err, SystemExit):
        return f"SystemExit({err.code!r})"
    if isinstance(err, RecursionError):
        return "RecursionError (it calls itself without end)"
    text = " ".join(str(err).split())
    if len(text) > 300:
        text = text[:300] + "…"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _defined_in(value: Any, module_name: str) -> bool:
    return getattr(value, "__module__", None) == module_name
