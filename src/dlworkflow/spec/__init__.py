"""Spec layer: TOML → validated, frozen spec objects. Never imports Keras."""

from dlworkflow.spec.loader import expand_shorthands, load_spec, read_toml, validate_spec
from dlworkflow.spec.overrides import apply_overrides
from dlworkflow.spec.schema import (
    BaseSpec,
    DataSpec,
    EarlyStoppingSpec,
    EvaluateSpec,
    FineTuneSpec,
    LayerSpec,
    LossSpec,
    ModelSpec,
    OptimizerSpec,
    Spec,
    SplitSpec,
    TrainSpec,
)

__all__ = [
    "BaseSpec",
    "DataSpec",
    "EarlyStoppingSpec",
    "EvaluateSpec",
    "FineTuneSpec",
    "LayerSpec",
    "LossSpec",
    "ModelSpec",
    "OptimizerSpec",
    "Spec",
    "SplitSpec",
    "TrainSpec",
    "apply_overrides",
    "expand_shorthands",
    "load_spec",
    "read_toml",
    "validate_spec",
]
