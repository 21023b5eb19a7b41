"""The spec's static lists of Keras names match the installed Keras."""

from __future__ import annotations

import inspect

from dlworkflow.spec.keras_names import KERAS_VERSION, LAYER_TYPES, OPTIMIZER_TYPES


def test_layer_and_optimizer_names_match_installed_keras():
    import keras

    assert keras.__version__ == KERAS_VERSION
    layers = {
        name
        for name, value in vars(keras.layers).items()
        if inspect.isclass(value) and issubclass(value, keras.layers.Layer) and name not in {"Layer", "InputLayer"}
    }
    assert set(LAYER_TYPES) == layers
    for name in OPTIMIZER_TYPES:
        assert issubclass(getattr(keras.optimizers, name), keras.optimizers.Optimizer)


def test_spec_layer_does_not_import_keras():
    import subprocess
    import sys

    code = "import sys, dlworkflow.spec; sys.exit(1 if 'keras' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
