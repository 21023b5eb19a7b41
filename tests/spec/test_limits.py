"""Bounded specs: file kind and size, nesting, layer count, refused layers, plain builder_args, the user's own code."""

from __future__ import annotations

import copy
import os
import socket
import threading

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec import load_spec, read_toml, validate_spec
from dlworkflow.spec.limits import (
    MAX_LAYERS,
    MAX_NESTING,
    MAX_SPEC_BYTES,
    REFUSED_LAYERS,
    file_kind_problem,
)
from dlworkflow.spec.resolution import user_code_notice

MINIMAL = {
    "name": "tiny",
    "data": {"dataset": "weather", "target": "BASEL_sunshine"},
    "model": {"layers": [{"type": "Dense", "units": 1}]},
}


def document(**model):
    result = copy.deepcopy(MINIMAL)
    result["model"] = model
    return result


# --- the spec file ---------------------------------------------------------------------------


def test_a_device_is_refused_without_reading_it():
    with pytest.raises(SpecError, match=r"^/dev/zero: is a character device, not a spec file\. Give the path of a TOML spec "
                       r"file \(a regular file\)\.$"):
        read_toml("/dev/zero")


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(outcome, fifo), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # it blocked on open(): unblock it by writing, then fail
        with open(fifo, "w") as unblock:
            unblock.write("")
        pytest.fail("reading a FIFO spec blocked")
    assert isinstance(outcome[0], SpecError)
    assert "is a FIFO (named pipe), not a spec file" in str(outcome[0])


def _capture(outcome: list[BaseException], path) -> None:
    try:
        read_toml(path)
    except BaseException as err:  # noqa: BLE001 - the test asserts which
        outcome.append(err)


def test_a_folder_and_a_socket_are_refused(tmp_path):
    with pytest.raises(SpecError, match=r"is a folder, not a spec file"):
        read_toml(tmp_path)
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert file_kind_problem(path) == "a socket"
        with pytest.raises(SpecError, match=r"is a socket, not a spec file"):
            read_toml(path)


def test_a_spec_file_over_1_mib_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * MAX_SPEC_BYTES)
    with pytest.raises(SpecError, match=r"big\.toml: the spec file is larger than 1 MiB; got '1,048,578 bytes'\. "
                       r"A spec is a short TOML file"):
        read_toml(path)
    path.write_text('name = "tiny"\n# ' + "x" * 1000)
    assert read_toml(path) == {"name": "tiny"}


def test_a_toml_nesting_bomb_is_one_spec_error(tmp_path):
    path = tmp_path / "bomb.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SpecError, match=rf"bomb\.toml: tables and lists nest more than {MAX_NESTING} levels deep"):
        read_toml(path)
    path.write_text("a = " + "{b = " * 100 + "1" + "}" * 100 + "\n")  # parses, but is deeper than a spec nests
    with pytest.raises(SpecError, match=rf"bomb\.toml: tables and lists nest more than {MAX_NESTING} levels deep"):
        load_spec(path)


def test_windows_line_endings_still_read(tmp_path):
    path = tmp_path / "crlf.toml"
    path.write_bytes(b'name = "tiny"\r\n[data]\r\ndataset = "weather"\r\n')
    assert read_toml(path) == {"name": "tiny", "data": {"dataset": "weather"}}


# --- the model ------------------------------------------------------------------------------------


def test_at_most_1000_layers():
    layers = [{"type": "Dense", "units": 1}] * (MAX_LAYERS + 1)
    with pytest.raises(SpecError, match=r"x\.toml: model\.layers: must hold at most 1000 layers; got '1001 layers'"):
        validate_spec(document(layers=layers), source="x.toml")
    assert len(validate_spec(document(layers=layers[:MAX_LAYERS])).model.layers) == MAX_LAYERS


@pytest.mark.parametrize("layer_type", sorted(REFUSED_LAYERS))
def test_layers_that_load_files_or_run_code_are_refused(layer_type):
    with pytest.raises(SpecError, match=rf"x\.toml: model\.layers\[0\]\.type: keras\.layers\.{layer_type} is "
                       rf"refused in a spec: it .*; got '{layer_type}'\. Use built-in layers"):
        validate_spec(document(layers=[{"type": layer_type, "filepath": "saved"}]), source="x.toml")


def test_builder_args_hold_plain_values_only():
    plain = {"hidden": [8, 4], "name": "n", "rate": 0.5, "flag": True, "table": {"a": [1, {"b": 2}]}}
    assert validate_spec(document(builder="my_models:build", builder_args=plain)).model.builder_args == plain
    with pytest.raises(SpecError, match=r"x\.toml: model\.builder_args: must hold plain values .*; table\.a\[1\] is "
                       r"function"):
        validate_spec(document(builder="my_models:build", builder_args={"table": {"a": [1, lambda: 0]}}),
                      source="x.toml")


@pytest.mark.parametrize("reference", ["os:system", "subprocess:run", "builtins:eval", "shutil:rmtree",
                                       "dlworkflow.api:run", "keras.src.saving.saving_api:load_model"])
def test_a_builder_from_the_standard_library_or_dlworkflows_libraries_is_refused_by_validation(reference):
    with pytest.raises(SpecError, match=r"x\.toml: model\.builder: '\w+' is part of .*, not your code; a spec may "
                       rf"only name a function or class of your own; got '{reference}'\. .*Nothing was imported"):
        validate_spec(document(builder=reference, builder_args={"command": "id > PWNED"}), source="x.toml")


def test_a_baseline_from_the_standard_library_is_refused_by_validation():
    spec = {**MINIMAL, "evaluate": {"baselines": ["collections:Counter"]}}
    with pytest.raises(SpecError, match=r"x\.toml: evaluate\.baselines\[0\]: 'collections' is part of the standard "
                       r"library, not your code"):
        validate_spec(spec, source="x.toml")


def test_a_spec_that_runs_code_says_so():
    assert user_code_notice(validate_spec(MINIMAL)) is None
    spec = validate_spec({**document(builder="my_models:build"), "evaluate": {"baselines": ["mine:Median"]}},
                         source="x.toml")
    assert user_code_notice(spec) == (
        "x.toml: this spec runs Python code: model.builder = 'my_models:build', evaluate.baselines[0] = "
        "'mine:Median' (imported from the spec's folder first, then the installed packages). Run only specs whose "
        "code you trust."
    )


def test_a_nesting_bomb_in_an_override_is_read_as_text():
    from dlworkflow.spec.overrides import parse_value

    bomb = "[" * 5000 + "]" * 5000
    assert parse_value(bomb) == bomb


def test_a_document_that_holds_itself_ends_in_one_spec_error():
    document = dict(MINIMAL)
    document["data"] = document
    with pytest.raises(SpecError, match=rf"api: tables and lists nest more than {MAX_NESTING} levels deep"):
        validate_spec(document, source="api")


def test_an_activation_is_a_name_not_a_serialized_config():
    config = {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function"}
    with pytest.raises(SpecError, match=r"x\.toml: model\.layers\[0\]: activation must be the name of a Keras "
                       r"activation; got \{'module': 'builtins'"):
        validate_spec(document(layers=[{"type": "Dense", "units": 1, "activation": config}]), source="x.toml")


def test_image_size_sides_are_bounded():
    spec = {**MINIMAL, "data": {"path": "images.npz", "image_size": [60000, 60000]}}
    with pytest.raises(SpecError, match=r"x\.toml: data\.image_size: each side must be at most 16384 pixels; got "
                       r"\[60000, 60000\]"):
        validate_spec(spec, source="x.toml")
