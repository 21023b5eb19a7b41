"""The models and training packages must not import Keras on import (the backend is chosen later)."""

from __future__ import annotations

import subprocess
import sys

import dlworkflow.models
import dlworkflow.training


def test_importing_the_packages_does_not_import_keras():
    code = (
        "import dlworkflow.training, dlworkflow.models, sys\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'pandas') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout


def test_exported_members():
    assert dlworkflow.training.__all__ == [
        "BACKENDS",
        "BackendWarning",
        "EpochProgress",
        "StopOnNaN",
        "TrackedEarlyStopping",
        "TrainingResult",
        "activate_backend",
        "choose_backend",
        "compile_model",
        "evaluate_model",
        "fit_model",
        "image_stream",
        "make_callbacks",
        "make_loss",
        "make_metrics",
        "make_optimizer",
        "predict",
        "resolve_loss",
        "save_model",
        "seed_everything",
        "steps_per_execution",
        "tensorflow_left_unimported",
    ]
    assert dlworkflow.models.__all__ == [
        "LayerParameters",
        "ParameterReport",
        "base_warning",
        "build_base",
        "build_model",
        "check_output",
        "explain_parameters",
        "find_base",
        "layer_formula",
        "model_input_shape",
        "model_name",
        "output_activation_note",
        "overparameterized_warning",
        "shape_note",
        "trainable_parameter_count",
        "unfreeze_base",
    ]
    for package in (dlworkflow.training, dlworkflow.models):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
