"""Models layer: a spec's ``[model]`` becomes a Keras model; its parameters explained.

Importing this package does not import Keras (the Keras backend must be chosen first, see
:func:`dlworkflow.training.activate_backend`); the functions import it when called.

Example:
    >>> from dlworkflow.models import build_model, explain_parameters  # doctest: +SKIP
    >>> explain_parameters(build_model(spec, dataset)).total  # doctest: +SKIP
    14101
"""

from dlworkflow.models.base import (
    base_warning,
    build_base,
    find_base,
    trainable_parameter_count,
    unfreeze_base,
)
from dlworkflow.models.builder import (
    build_model,
    check_output,
    model_input_shape,
    model_name,
    output_activation_note,
)
from dlworkflow.models.parameters import (
    LayerParameters,
    ParameterReport,
    explain_parameters,
    layer_formula,
    overparameterized_warning,
    shape_note,
)

__all__ = [
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
