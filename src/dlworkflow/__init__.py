"""dlworkflow: the deep-learning workflow of the workshop, from a spec file to a results table.

The curated public API. Importing it does not import Keras; training does, after choosing
the backend.

Example:
    >>> import dlworkflow
    >>> result = dlworkflow.run("examples/weather.toml", train__epochs=5)  # doctest: +SKIP
    >>> dlworkflow.runs()[["name", "primary_value", "baseline_name"]]  # doctest: +SKIP
"""

from dlworkflow.api import ModelSummary, Run, comment, load_spec, run, runs, show, summary
from dlworkflow.errors import DataError, RegistryError, SpecError, TrainingError, WorkflowError
from dlworkflow.spec import Spec

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "ModelSummary",
    "RegistryError",
    "Run",
    "Spec",
    "SpecError",
    "TrainingError",
    "WorkflowError",
    "comment",
    "load_spec",
    "run",
    "runs",
    "show",
    "summary",
]
