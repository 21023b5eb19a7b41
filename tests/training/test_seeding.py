"""Seeding fixes the initial weights, and on JAX it does not pull in TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import os, sys
os.environ["KERAS_BACKEND"] = "jax"
import keras, numpy as np
from dlworkflow.training import seed_everything
def weights():
    seed_everything(3)
    layer = keras.layers.Dense(4)
    layer.build((None, 5))
    return np.asarray(layer.kernel)
first, second = weights(), weights()
assert np.array_equal(first, second), "same seed, different weights"
seed_everything(4)
layer = keras.layers.Dense(4); layer.build((None, 5))
assert not np.array_equal(first, np.asarray(layer.kernel)), "other seed, same weights"
sys.exit(3 if "tensorflow" in sys.modules else 0)
"""


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_seed_fixes_weights_without_importing_tensorflow_on_jax():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


SAVE_CODE = """
import os, sys, tempfile
os.environ["KERAS_BACKEND"] = "jax"
import keras, numpy as np
from dlworkflow.training import save_model
inputs = keras.Input(shape=(3,))
model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
x = np.ones((4, 3), dtype="float32")
path = os.path.join(tempfile.mkdtemp(), "m.keras")
save_model(model, path)
assert "tensorflow" not in sys.modules, "saving imported TensorFlow"
loaded = keras.models.load_model(path)
assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
"""


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_saved_model_loads_back_and_tensorflow_stays_unimported():
    result = subprocess.run([sys.executable, "-c", SAVE_CODE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
