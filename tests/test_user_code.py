"""Tests of dlworkflow.user_code: a spec names only the user's own code, and whatever it raises is one SpecError."""

from __future__ import annotations

import sys

import pytest

from dlworkflow.errors import DataError, SpecError
from dlworkflow.user_code import (
    call_user_code,
    foreign_module_problem,
    import_user_attribute,
)

USER_MODULE = '''
import sys
from os import system
from subprocess import run as launch
from json import JSONDecoder

LIMIT = 5


def build(input_shape=None):
    return "model"


class Baseline:
    def fit(self, train):
        return self

    def predict(self, part):
        return []


def exits():
    sys.exit(0)
'''


@pytest.fixture
def user_module(tmp_path):
    """``dlw_test_user_code.py`` beside a spec file in tmp_path; the spec file's path is returned."""
    (tmp_path / "dlw_test_user_code.py").write_text(USER_MODULE)
    yield str(tmp_path / "spec.toml")
    sys.modules.pop("dlw_test_user_code", None)


@pytest.mark.parametrize("reference", ["os:system", "subprocess:run", "builtins:eval", "posix:system",
                                        "antigravity:geohash", "os.path:join", "numpy:save", "keras.src.saving:load_model",
                                        "joblib.numpy_pickle:load", "yaml:unsafe_load",
                                        "dlworkflow.api:run"])
def test_the_standard_library_and_dlworkflows_libraries_are_refused_before_any_import(reference):
    module = reference.partition(":")[0]
    was_imported = module in sys.modules
    with pytest.raises(SpecError, match=r"^s\.toml: model\.builder: '\w+' is part of .*, not your code; .*"
                       r"Nothing was imported or run\."):
        import_user_attribute(reference, ".", source="s.toml", spec_path="model.builder")
    assert (module in sys.modules) == was_imported  # antigravity (it opens a browser) was never imported
    assert foreign_module_problem(reference) is not None


@pytest.mark.parametrize(("attribute", "origin"), [("system", "posix"), ("launch", "subprocess"),
                                                   ("JSONDecoder", "json.decoder")])
def test_a_name_imported_into_the_users_module_is_refused(user_module, attribute, origin):
    with pytest.raises(SpecError, match=rf"model\.builder: '{attribute}' is not defined in the module "
                       rf"'dlw_test_user_code' \(it is imported there from '{origin}'\)"):
        import_user_attribute(f"dlw_test_user_code:{attribute}", user_module.rpartition("/")[0],
                              source="s.toml", spec_path="model.builder")


def test_the_users_own_function_and_class_are_returned(user_module):
    folder = user_module.rpartition("/")[0]
    build = import_user_attribute("dlw_test_user_code:build", folder, source="s.toml", spec_path="model.builder")
    assert build() == "model"
    cls = import_user_attribute("dlw_test_user_code:Baseline", folder, source="s.toml",
                                spec_path="evaluate.baselines[0]", kind="class")
    assert cls.__name__ == "Baseline"
    with pytest.raises(SpecError, match=r"evaluate\.baselines\[0\]: 'build' in the module 'dlw_test_user_code' is "
                       r"not a Python class \(it is a function\)"):
        import_user_attribute("dlw_test_user_code:build", folder, source="s.toml", spec_path="evaluate.baselines[0]",
                              kind="class")
    with pytest.raises(SpecError, match=r"'LIMIT' in the module 'dlw_test_user_code' is not a Python function "
                       r"\(it is a int\)"):
        import_user_attribute("dlw_test_user_code:LIMIT", folder, source="s.toml", spec_path="model.builder")


class Escape(BaseException):
    """A BaseException that is not Ctrl-C."""


def _raise(error: BaseException):
    raise error


def _recurse():
    return _recurse()


@pytest.mark.parametrize(("function", "message"), [
    (lambda: _raise(SystemExit(0)), r"raised SystemExit\(0\)"),
    (lambda: _raise(SystemExit(3)), r"raised SystemExit\(3\)"),
    (lambda: _raise(SystemExit("bye")), r"raised SystemExit\('bye'\)"),
    (_recurse, r"raised RecursionError \(it calls itself without end\)"),
    (lambda: _raise(Escape("out")), r"raised Escape: out"),
    (lambda: _raise(MemoryError()), r"raised MemoryError"),
    (lambda: 1 / 0, r"raised ZeroDivisionError: division by zero"),
])
def test_whatever_the_users_code_raises_is_one_spec_error(function, message):
    with pytest.raises(SpecError, match=r"^s\.toml: model\.builder: the builder m:f " + message + r"\. Fix it\.$"):
        call_user_code(function, describe="the builder m:f", source="s.toml", spec_path="model.builder",
                       hint="Fix it.")


def test_ctrl_c_and_our_own_errors_pass_through():
    with pytest.raises(KeyboardInterrupt):
        call_user_code(lambda: _raise(KeyboardInterrupt()), describe="f", source="s", spec_path="p", hint="")
    with pytest.raises(DataError):
        call_user_code(lambda: _raise(DataError.single("s", "p", "bad")), describe="f", source="s", spec_path="p",
                       hint="")
    assert call_user_code(lambda x, y=0: x + y, 1, y=2, describe="f", source="s", spec_path="p", hint="") == 3


@pytest.mark.parametrize(("body", "message"), [
    ("import sys\nsys.exit(0)\n", r"raised SystemExit\(0\)"),
    ("def build(:\n", r"raised SyntaxError: invalid syntax \(dlw_test_import_fails\.py, line 1\)"),
    ("raise RuntimeError('no licence server')\n", r"raised RuntimeError: no licence server"),
])
def test_a_module_that_fails_while_imported_is_one_spec_error(tmp_path, body, message):
    from dlworkflow.user_code import import_user_module

    (tmp_path / "dlw_test_import_fails.py").write_text(body)
    try:
        with pytest.raises(SpecError, match=r"^s\.toml: model\.builder: importing the module 'dlw_test_import_fails' "
                           + message + r"; got 'dlw_test_import_fails:build'\. Fix dlw_test_import_fails\.py"):
            import_user_module("dlw_test_import_fails:build", tmp_path, source="s.toml", spec_path="model.builder")
    finally:
        sys.modules.pop("dlw_test_import_fails", None)
