"""The layers contract: imports point one way, counting imports inside functions too.

errors, spec → data → models → training → evaluation → registry → reporting · sharing
→ execution → tuning → api → cli (see STYLE.md). Read from the source's syntax trees, so
a function-local import that would close a circle is caught as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dlworkflow"

LAYERS = {
    "errors": 0, "formatting": 0, "plain_text": 0, "folding_table": 0, "hashing": 0, "lazy_exports": 0, "output_files": 0, "provenance": 0, "user_code": 0,
    "workflow_warning": 0, "stage_clock": 0,
    "spec": 1,
    "data": 2,
    "models": 3,
    "training": 4,
    "evaluation": 5,
    "registry": 6,
    "reporting": 7, "sharing": 7,
    "execution": 8,
    "tuning": 9, "executors": 9,
    "ui": 9,
    "api": 10,
    "cli": 11, "__main__": 11, "warm": 11, "launch": 11,
}
"""Each top-level module or subpackage of dlworkflow and its layer: a module may import its own layer and below."""

ROOT = 12
"""The package itself (``dlworkflow/__init__.py``), which re-exports the public API."""

FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """Every module an import statement in the file names (anywhere: top level or inside a function)."""
    module = module_name(path, package)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.append((node.lineno, source))
            found += [(node.lineno, f"{source}.{alias.name}") for alias in node.names]
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts == ["dlworkflow"] or parts[1:] == ["__version__"]:
        return ROOT if parts == ["dlworkflow"] else 0
    return LAYERS.get(parts[1])


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    unplaced = sorted({module_name(path).split(".")[1] for path in SOURCES if module_name(path) != "dlworkflow"}
                      - set(LAYERS))
    assert not unplaced, f"add these to LAYERS in tests/test_layers.py (and STYLE.md's picture): {unplaced}"


def test_imports_point_one_way():
    upward = []
    for path in SOURCES:
        module = module_name(path)
        own = layer_of(module)
        for line, target in imported_names(path):
            if not target.startswith("dlworkflow.") or target == "dlworkflow.__version__":
                continue
            other = layer_of(target)
            if other is not None and own is not None and other > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(set(upward)))


def test_only_the_command_line_and_the_package_import_the_api():
    users = sorted({
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in SOURCES for line, target in imported_names(path)
        if target == "dlworkflow.api" or target.startswith("dlworkflow.api.")
    })
    allowed = {"dlworkflow/__init__.py"}
    outside = [user for user in users if user.split(":")[0] not in allowed and not user.startswith("dlworkflow/cli/")]
    assert outside == []
    assert users, "the command line imports the API: the check would not see an import at all"


@pytest.mark.parametrize("layer", ["spec", "data", "evaluation", "registry"])
def test_framework_free_layers_import_no_framework_at_module_level(layer):
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}:{node.lineno} {name}" for name in names if name.split(".")[0] in FRAMEWORKS]
    assert offenders == []


def test_no_source_module_is_over_600_lines():
    long = {str(path.relative_to(PACKAGE.parent)): count for path in SOURCES
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


@pytest.mark.parametrize("path", [PACKAGE / "api.py", *sorted((PACKAGE / "execution").glob("*.py"))],
                         ids=lambda path: path.name)
def test_no_function_of_the_runner_or_the_api_is_over_60_lines(path):
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    source = tmp_path / "dlworkflow" / "spec" / "example.py"
    source.parent.mkdir(parents=True)
    source.write_text("def later():\n    from ..api import run\n    return run\n")
    assert (2, "dlworkflow.api") in imported_names(source, tmp_path / "dlworkflow")
