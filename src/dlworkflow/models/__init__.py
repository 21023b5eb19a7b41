"""Models layer: a spec's ``[model]`` becomes a Keras model; its parameters explained.

Importing this package does not import Keras (the Keras backend must be chosen first, see
:func:`dlworkflow.training.activate_backend`); the functions import it when called.

Example:
    >>> from dlworkflow.models import build_model, explain_parameters  # doctest: +SKIP
    >>> explain_parameters(build_model(spec, dataset)).total  # doctest: +SKIP
    14101
"""

from dlworkflow.models.builder import (
    build_model,
    check_output,
    model_name,
    output_activation_note,
)
from dlworkflow.models.parameters import (
    LayerParameters,
    ParameterReport,
    explain_parameters,
    layer_formula,
    overparameterized_warning,
)

__all__ = [
    "LayerParameters",
    "ParameterReport",
    "build_model",
    "check_output",
    "explain_parameters",
    "layer_formula",
    "model_name",
    "output_activation_note",
    "overparameterized_warning",
]
