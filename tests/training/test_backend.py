"""Tests of dlworkflow.training.backend: backend choice (pure) and activation."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec import validate_spec
from dlworkflow.training import BackendWarning, activate_backend, choose_backend
from dlworkflow.training.backend import forget_backend_warnings, trains_on_logits


def make_spec(*, layers=None, builder=None, backend="auto"):
    model = {"builder": builder} if builder else {"layers": layers or [{"type": "Dense", "units": 1}]}
    document = {
        "name": "m",
        "data": {"dataset": "weather", "target": "y"},
        "model": model,
        "train": {"backend": backend},
    }
    return validate_spec(document, source="m.toml")


def installed(*names):
    """A fake for the installed-package check: only ``names`` are installed."""
    return lambda backend: backend in names


EVERYTHING = installed("jax", "tensorflow", "torch")
CONVOLUTIONAL = [
    {"type": "Reshape", "target_shape": [4, 1]},
    {"type": "Conv1D", "filters": 2, "kernel_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 1},
]
POOLING = [{"type": "Reshape", "target_shape": [4, 1]}, {"type": "MaxPooling1D"}, {"type": "Flatten"}]
SOFTMAX = [{"type": "Dense", "units": 10, "activation": "relu"}, {"type": "Dense", "units": 3, "activation": "softmax"}]
SOFTMAX_LAYER = SOFTMAX[:1] + [{"type": "Dense", "units": 3}, {"type": "Activation", "activation": "softmax"}]
# An RNN's activation acts inside its cell: there are no logits to train on, so TensorFlow stays.
RECURRENT_SOFTMAX = [{"type": "Reshape", "target_shape": [4, 1]}, {"type": "SimpleRNN", "units": 3, "activation": "softmax"}]


@pytest.mark.parametrize(
    ("spec_arguments", "expected"),
    [
        ({}, "jax"),
        ({"layers": CONVOLUTIONAL}, "tensorflow"),
        ({"layers": POOLING}, "tensorflow"),
        ({"builder": "my_models:build"}, "tensorflow"),
        ({"layers": SOFTMAX}, "jax"),
        ({"layers": SOFTMAX_LAYER}, "jax"),
        ({"layers": RECURRENT_SOFTMAX}, "tensorflow"),
        ({"layers": SOFTMAX[:1] + [{"type": "Dense", "units": 3}]}, "jax"),
        ({"backend": "torch"}, "torch"),
        ({"backend": "tensorflow"}, "tensorflow"),
    ],
    ids=["dense-auto", "conv-auto", "pooling-auto", "builder-auto", "softmax-crossentropy-auto", "softmax-layer-auto",
         "recurrent-softmax-auto", "logits-auto", "explicit-torch", "explicit-tensorflow"],
)
def test_choice_when_everything_is_installed(spec_arguments, expected):
    assert choose_backend(make_spec(**spec_arguments), installed=EVERYTHING) == expected


def test_explicit_backend_is_returned_even_when_not_installed():
    assert choose_backend(make_spec(backend="torch"), installed=installed("jax")) == "torch"


@pytest.mark.parametrize(
    ("spec_arguments", "available", "expected"),
    [
        ({}, ("tensorflow",), "tensorflow"),
        ({}, ("torch",), "torch"),
        ({"layers": CONVOLUTIONAL}, ("jax", "torch"), "jax"),
        ({"builder": "my_models:build"}, ("torch",), "torch"),
    ],
)
def test_auto_falls_back_to_an_installed_backend(spec_arguments, available, expected):
    assert choose_backend(make_spec(**spec_arguments), installed=installed(*available)) == expected


def test_no_backend_installed():
    with pytest.raises(SpecError, match=r"m\.toml: train\.backend: no Keras backend is installed; got 'auto'"):
        choose_backend(make_spec(), installed=installed())


def test_activate_returns_the_backend_in_use_without_warning():
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert activate_backend(keras.backend.backend()) == keras.backend.backend()


def test_activate_after_keras_was_imported_with_another_backend_warns_once():
    import keras

    forget_backend_warnings()
    actual = keras.backend.backend()
    other = "tensorflow" if actual != "tensorflow" else "jax"
    with pytest.warns(BackendWarning, match=rf"'{other}' could not be used.*already imported.*said once.*restart"):
        assert activate_backend(other) == actual
    # A notebook's later runs: the same backend in use, no second warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert activate_backend(other) == actual
    forget_backend_warnings()
    with pytest.warns(BackendWarning):
        activate_backend(other)


@pytest.mark.parametrize(
    ("layers", "loss", "backend", "expected"),
    [
        (SOFTMAX, "auto", "jax", True),
        (SOFTMAX, "auto", "torch", True),
        (SOFTMAX, "categorical_crossentropy", "jax", True),
        (SOFTMAX_LAYER, "auto", "jax", True),
        (SOFTMAX, "auto", "tensorflow", False),  # TensorFlow's cross-entropy reads the logits itself
        (SOFTMAX, "mse", "jax", False),
        (SOFTMAX, {"type": "sparse_categorical_crossentropy", "from_logits": True}, "jax", False),
        (RECURRENT_SOFTMAX, "auto", "jax", False),
        (SOFTMAX[:1] + [{"type": "Dense", "units": 3}], "auto", "jax", False),
    ],
    ids=["softmax-jax", "softmax-torch", "named-crossentropy", "activation-layer", "tensorflow", "mse",
         "spec-from-logits", "recurrent", "no-activation"],
)
def test_trains_on_logits(layers, loss, backend, expected):
    spec = validate_spec(
        {"name": "m", "data": {"dataset": "penguins", "target": "species"},
         "model": {"layers": layers}, "train": {"loss": loss}},
        source="m.toml",
    )
    assert trains_on_logits(spec, backend) is expected


def test_activate_rejects_unknown_names():
    with pytest.raises(SpecError, match=r"train\.backend: must be a Keras backend; got 'theano'"):
        activate_backend("theano")


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_activate_sets_the_environment_before_keras_is_imported():
    code = (
        "import os, sys\n"
        "import dlworkflow.training, dlworkflow.models\n"
        "assert 'keras' not in sys.modules\n"
        "from dlworkflow.training import activate_backend\n"
        "print(activate_backend('jax'), os.environ['KERAS_BACKEND'], os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["jax", "jax", "2"]


def test_softmax_with_a_loss_that_is_not_crossentropy_stays_on_jax():
    spec = validate_spec(
        {"name": "m", "data": {"dataset": "penguins", "target": "species"},
         "model": {"layers": SOFTMAX}, "train": {"loss": "mse"}},
        source="m.toml",
    )
    assert choose_backend(spec, installed=EVERYTHING) == "jax"


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_tensorflow_import_noise_is_held_back():
    code = "from dlworkflow.training import activate_backend; print(activate_backend('tensorflow'))"
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tensorflow"
    assert "oneDNN" not in result.stderr and "absl::InitializeLog" not in result.stderr


@pytest.mark.parametrize(("setting", "expected"), [("off", None), ("/tmp/xla-here", "/tmp/xla-here"), ("", "CACHE/dlworkflow/xla")])
def test_compilation_cache_folder(monkeypatch, setting, expected):
    from dlworkflow.training.backend import compilation_cache_dir

    monkeypatch.setenv("DLW_COMPILATION_CACHE", setting)
    monkeypatch.setenv("XDG_CACHE_HOME", "CACHE")
    folder = compilation_cache_dir()
    assert (None if folder is None else folder.as_posix()) == expected


# Two fresh processes. The suite itself runs with the cache on (tests/conftest.py), so every
# repeated run in it already reuses compiled steps and must give the same numbers.
@pytest.mark.slow
def test_a_second_run_reuses_the_compiled_steps_and_gives_the_same_numbers(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "examples" / "weather_small.toml"
    environment = {**os.environ, "DLW_COMPILATION_CACHE": str(tmp_path / "xla")}
    environment.pop("KERAS_BACKEND", None)
    code = (
        "import json, sys, dlworkflow\n"
        f"r = dlworkflow.run({str(spec)!r}, registry='sqlite:///{tmp_path}/r.db', train__epochs=2)\n"
        "print(json.dumps(r.record['metrics']['test']))\n"
    )
    first = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    cached = sorted(p.name for p in (tmp_path / "xla").iterdir())
    assert cached  # compiled steps were kept
    second = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.splitlines()[-1]) == json.loads(first.stdout.splitlines()[-1])
