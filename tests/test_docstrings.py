"""The examples in the docstrings run: every module that does not import Keras when imported.

The modules are those of the *imported* ``dlworkflow`` (an editable checkout or an installed
wheel alike, which ``--doctest-modules`` over ``src/`` could not promise: it imports the
files by path). A module is left out when importing it imports Keras, TensorFlow or JAX,
found from the import statements that run at import time (module level, ``try``/``if``
blocks, class bodies; not function bodies nor ``if TYPE_CHECKING:``), followed through the
package's own modules. An example that needs a trained model, the network or a registry
on disk says ``# doctest: +SKIP``; every other example must hold. An example runs in a
temporary folder, which it may name ``tmp``; what it sets in ``os.environ`` is undone.

Run only these: ``python -m pytest tests/test_docstrings.py``.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import os
import pkgutil
from functools import cache
from pathlib import Path

import pytest

import dlworkflow

HEAVY_PACKAGES = ("keras", "tensorflow", "jax", "jaxlib")
OPTION_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def package_modules() -> dict[str, Path]:
    """Every module of the imported dlworkflow → its source file."""
    modules = {"dlworkflow": Path(dlworkflow.__file__)}
    for info in pkgutil.walk_packages(dlworkflow.__path__, "dlworkflow."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            modules[info.name] = Path(spec.origin)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    return name.endswith("TYPE_CHECKING")


def import_time_imports(source: str, module: str, is_package: bool) -> set[str]:
    """The modules (and their parent packages) an import of ``module`` imports itself."""
    names: list[str] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                names.append(origin)
                names.extend(f"{origin}.{alias.name}" for alias in node.names)  # may be a submodule
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    visit([child for child in inner if isinstance(child, (ast.stmt, ast.ExceptHandler))])

    visit(ast.parse(source).body)
    parents = set()
    for name in names:
        parts = name.split(".")
        parents.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return parents


@cache
def import_graph() -> dict[str, set[str]]:
    return {
        name: import_time_imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
        for name, path in package_modules().items()
    }


def imports_keras(module: str, graph: dict[str, set[str]], _seen: frozenset[str] = frozenset()) -> bool:
    """Whether importing ``module`` imports Keras, TensorFlow or JAX (directly or through our modules)."""
    if module.split(".")[0] in HEAVY_PACKAGES:
        return True
    if module not in graph or module in _seen:
        return False
    return any(imports_keras(other, graph, _seen | {module}) for other in graph[module])


def light_modules() -> list[str]:
    graph = import_graph()
    return sorted(name for name in graph if not imports_keras(name, graph))


def docstring_examples() -> list[pytest.param]:
    """One parameter per docstring with examples, in the modules that leave Keras unimported."""
    params = []
    finder = doctest.DocTestFinder()
    for name in light_modules():
        module = importlib.import_module(name)
        for test in finder.find(module):
            if test.examples:
                params.append(pytest.param(test, id=test.name))
    return params


@pytest.mark.parametrize("example", docstring_examples())
def test_docstring_example(example: doctest.DocTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An example may set an environment variable or write a file: neither outlives it.
    environment = dict(os.environ)
    monkeypatch.chdir(tmp_path)
    # Each run starts from the module's own names, and ``tmp``: a folder for the files an example writes.
    example.globs = {"tmp": tmp_path, **example.globs}
    runner = doctest.DocTestRunner(optionflags=OPTION_FLAGS)
    report: list[str] = []
    try:
        result = runner.run(example, out=report.append, clear_globs=True)
    finally:
        os.environ.clear()
        os.environ.update(environment)
    assert result.failed == 0, "".join(report)


def test_the_keras_modules_are_found_and_left_out() -> None:
    graph = import_graph()
    assert imports_keras("dlworkflow.training.callbacks", graph)  # `import keras` at its top
    assert not imports_keras("dlworkflow.spec.schema", graph)
    assert "dlworkflow.registry.database" in light_modules()


def test_the_import_reading_follows_relative_imports_and_skips_function_bodies() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "if TYPE_CHECKING:\n    import keras\n"
        "try:\n    import numpy\nexcept ImportError:\n    pass\n"
        "def later():\n    import tensorflow\n"
    )
    found = import_time_imports(source, "dlworkflow.data.split", is_package=False)
    assert {"dlworkflow.data.sibling", "dlworkflow.other.thing", "numpy"} <= found
    assert "keras" not in found and "tensorflow" not in found
