"""Registry layer: the results database and the artifact layout of runs. Never imports Keras.

Example:
    >>> from dlworkflow.registry import Registry
    >>> with Registry.open() as registry:     # doctest: +SKIP
    ...     rows = registry.list_runs()
"""

from dlworkflow.registry import artifacts
from dlworkflow.registry.artifacts import RunFolder
from dlworkflow.registry.database import mask_url
from dlworkflow.registry.record import RunRecord
from dlworkflow.registry.registry import Registry
from dlworkflow.registry.run_summary import RunSummary, higher_is_better

__all__ = [
    "Registry",
    "RunFolder",
    "RunRecord",
    "RunSummary",
    "artifacts",
    "higher_is_better",
    "mask_url",
]
