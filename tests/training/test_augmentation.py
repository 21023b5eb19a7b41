"""Data augmentation layers train with the model and stay inactive at inference."""

from __future__ import annotations

import numpy as np
import pytest

from dlworkflow.models import build_model
from dlworkflow.spec import validate_spec
from dlworkflow.training import compile_model, evaluate_model, fit_model, predict, seed_everything

AUGMENTED_CNN = [
    {"type": "RandomFlip", "mode": "horizontal"},
    {"type": "RandomRotation", "factor": 0.1},
    {"type": "RandomZoom", "height_factor": 0.1},
    {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
    {"type": "RandomContrast", "factor": 0.2},
    {"type": "Conv2D", "filters": 4, "kernel_size": [3, 3], "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": [2, 2]},
    {"type": "Flatten"},
    {"type": "Dense", "units": 2},
]


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_augmented_model_trains_and_predicts_deterministically(make_image_dataset):
    spec = validate_spec(
        {
            "name": "augmented",
            "data": {"path": "images", "target_encoding": "integer"},
            "split": {"validation": 0.2},
            "model": {"layers": AUGMENTED_CNN},
            "train": {
                "epochs": 1,
                "batch_size": 4,
                "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
                "metrics": ["accuracy"],
            },
        },
        source="augmented.toml",
    )
    dataset = make_image_dataset()
    seed_everything(0)
    model = compile_model(build_model(spec, dataset), spec, dataset)

    result = fit_model(model, spec, dataset, quiet=True)

    assert result.epochs_run == 1 and np.isfinite(result.history["loss"]).all()
    first = predict(model, dataset.test)
    np.testing.assert_array_equal(predict(model, dataset.test), first)
    assert evaluate_model(model, dataset.test) == evaluate_model(model, dataset.test)
