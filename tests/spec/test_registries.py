"""Tests of dlworkflow.spec.registries: open registries whose names the spec is validated against."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec import validate_spec
from dlworkflow.spec.registries import DATA_FILES, DATASETS, SCALING_METHODS, SPLIT_TYPES, Registry, file_type

MINIMAL = {"name": "r", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
           "model": {"layers": [{"type": "Dense", "units": 1}]}}


def test_entries_are_imported_on_first_lookup_only():
    registry = Registry("thing", {"lazy": "dlw_no_such_module_anywhere:THING"})
    assert "lazy" in registry and registry.names() == ("lazy",) and list(registry) == ["lazy"]
    with pytest.raises(ImportError, match="cannot load the thing 'lazy' 'dlw_no_such_module_anywhere:THING'"):
        registry["lazy"]
    registry = Registry("thing", {"path": "pathlib:PurePath"})
    from pathlib import PurePath

    assert registry["path"] is PurePath and registry.get("other") is None


def test_register_replace_decorate_and_unregister():
    registry: Registry[object] = Registry("colour")
    red = object()
    assert registry.register("red", red) is red
    registry.register("red", red)  # the same entry again (a module imported twice) is fine
    with pytest.raises(ValueError, match="the colour 'red' is registered already"):
        registry.register("red", object())
    blue = object()
    registry.register("red", blue, replace=True)
    assert registry["red"] is blue

    @registry.register("green")
    class Green:
        pass

    assert registry["green"] is Green and list(registry) == ["red", "green"]
    registry.unregister("red")
    assert "red" not in registry and len(registry) == 1
    with pytest.raises(ValueError, match="needs a non-empty name"):
        registry.register("", red)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("split.type", "stratifed", "split.type: unknown split type; got 'stratifed'. Did you mean 'stratified'? "
                                    "Valid options: 'random', 'stratified', 'ordered'."),
        ("data.scaling", "min_max", "data.scaling: unknown scaling method; got 'min_max'. Did you mean 'minmax'? "
                                    "Valid options: 'none', 'standardize', 'minmax', 'pixels'."),
        ("data.dataset", "wether", "data.dataset: unknown built-in dataset; got 'wether'. Did you mean 'weather'? "
                                   "Valid options: 'penguins', 'weather', 'cifar10', 'mnist', 'fashion_mnist'. "
                                   "Or give data.path = 'file.csv' for your own table."),
    ],
)
def test_an_unknown_name_names_the_spec_path_and_the_registered_names(path, value, message):
    section, key = path.split(".")
    document = {**MINIMAL, section: {**MINIMAL.get(section, {}), key: value}}
    with pytest.raises(SpecError) as caught:
        validate_spec(document, source="r.toml")
    assert str(caught.value) == f"r.toml: {message}"
    assert caught.value.problems[0].path == path and caught.value.problems[0].got == value


def test_a_registered_name_is_accepted_by_the_next_spec():
    document = {**MINIMAL, "split": {"type": "blocked"}}
    with pytest.raises(SpecError):
        validate_spec(document)
    SPLIT_TYPES.register("blocked", "dlworkflow.data.split:ORDERED")
    try:
        assert validate_spec(document).split.type == "blocked"
    finally:
        SPLIT_TYPES.unregister("blocked")


def test_file_type_is_the_longest_registered_ending():
    assert file_type("a/b/Weather.Parquet") == ".parquet"
    assert file_type("x.csv") == ".csv" and file_type("x.npz") == ".npz"
    assert file_type("x.tsv") is None and file_type("folder") is None
    DATA_FILES.register(".csv.gz", "dlworkflow.data.csv_file:CSV_FILE")
    try:
        assert file_type("x.csv.gz") == ".csv.gz"
    finally:
        DATA_FILES.unregister(".csv.gz")


def test_the_built_in_entries_load():
    for registry in (SPLIT_TYPES, SCALING_METHODS, DATASETS, DATA_FILES):
        assert all(registry[name] is not None for name in registry)


def test_validating_a_spec_imports_neither_the_data_layer_nor_its_libraries():
    code = (
        "import sys\n"
        "from dlworkflow.spec import validate_spec\n"
        "validate_spec({'name': 'r', 'data': {'path': 'x.parquet', 'target': 'y', 'scaling': 'minmax'},"
        " 'split': {'type': 'ordered'}, 'model': {'layers': [{'type': 'Dense', 'units': 1}]}})\n"
        "heavy = [m for m in ('pandas', 'numpy', 'sklearn', 'keras', 'tensorflow', 'jax', 'dlworkflow.data')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
