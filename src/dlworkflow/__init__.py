"""dlworkflow: the deep-learning workflow of the workshop, from a spec file to a results table.

The curated public API. Its names are imported on first use, so ``import dlworkflow`` (and
``dlw --help``) costs neither pydantic nor SQLAlchemy; Keras is imported only to train or
build a model, after choosing the backend.

Example:
    >>> import dlworkflow
    >>> result = dlworkflow.run("examples/weather.toml", train__epochs=5)  # doctest: +SKIP
    >>> dlworkflow.runs()[["name", "primary_value", "baseline_name"]]  # doctest: +SKIP
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports as _lazy_exports

if _TYPE_CHECKING:  # the names for type checkers; at run time __getattr__ imports them
    from dlworkflow.api import (  # noqa: F401
        ModelSummary,
        Run,
        comment,
        inspect,
        run,
        runs,
        show,
        summary,
    )
    from dlworkflow.errors import (  # noqa: F401
        DataError,
        RegistryError,
        SpecError,
        TrainingError,
        WorkflowError,
    )
    from dlworkflow.spec import Spec, load_spec  # noqa: F401
    from dlworkflow.workflow_warning import WorkflowWarning  # noqa: F401

__version__ = "0.1.0"

_HOMES = {
    "dlworkflow.api": ("ModelSummary", "Run", "comment", "inspect", "run", "runs", "show", "summary"),
    "dlworkflow.errors": ("DataError", "RegistryError", "SpecError", "TrainingError", "WorkflowError"),
    "dlworkflow.spec": ("Spec", "load_spec"),
    "dlworkflow.workflow_warning": ("WorkflowWarning",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _MODULE_OF)
