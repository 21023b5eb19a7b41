"""Spec layer: TOML → validated, frozen spec objects. Never imports Keras.

Names are imported on first use, so a module that needs only a light part of the layer
(:mod:`dlworkflow.spec.resolution`, :mod:`dlworkflow.spec.registries`) does not pull in pydantic.

Example:
    >>> from dlworkflow.spec import apply_overrides
    >>> apply_overrides({"train": {"epochs": 5}}, ["train.epochs=2"])["train"]["epochs"]
    2
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports as _lazy_exports

if _TYPE_CHECKING:  # the names for type checkers; at run time __getattr__ imports them
    from dlworkflow.spec.loader import expand_shorthands, load_spec, read_toml, validate_spec  # noqa: F401
    from dlworkflow.spec.overrides import apply_overrides  # noqa: F401
    from dlworkflow.spec.schema import (  # noqa: F401
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

_HOMES = {
    "dlworkflow.spec.loader": ("expand_shorthands", "load_spec", "read_toml", "validate_spec"),
    "dlworkflow.spec.overrides": ("apply_overrides",),
    "dlworkflow.spec.schema": (
        "BaseSpec", "DataSpec", "EarlyStoppingSpec", "EvaluateSpec", "FineTuneSpec", "LayerSpec", "LossSpec",
        "ModelSpec", "OptimizerSpec", "Spec", "SplitSpec", "TrainSpec",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _MODULE_OF)
