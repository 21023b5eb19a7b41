"""Registry layer: the results database and the artifact layout of runs. Never imports Keras.

Names are imported on first use, so reading a local SQLite registry
(:mod:`dlworkflow.registry.quick_read`) does not import SQLAlchemy.

Example:
    >>> from dlworkflow.registry import Registry
    >>> with Registry.open() as registry:     # doctest: +SKIP
    ...     rows = registry.list_runs()
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports as _lazy_exports

if _TYPE_CHECKING:  # the names for type checkers; at run time __getattr__ imports them
    from dlworkflow.registry import artifacts  # noqa: F401
    from dlworkflow.registry.artifacts import RunFolder  # noqa: F401
    from dlworkflow.registry.database import mask_url  # noqa: F401
    from dlworkflow.registry.record import RunRecord  # noqa: F401
    from dlworkflow.registry.registry import Registry  # noqa: F401
    from dlworkflow.registry.run_summary import Leaderboard, RunSummary, higher_is_better  # noqa: F401

_HOMES = {
    "dlworkflow.registry.artifacts": ("RunFolder",),
    "dlworkflow.registry.database": ("mask_url",),
    "dlworkflow.registry.record": ("RunRecord",),
    "dlworkflow.registry.registry": ("Registry",),
    "dlworkflow.registry.run_summary": ("Leaderboard", "RunSummary", "higher_is_better"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted([*_MODULE_OF, "artifacts"])


__getattr__, __dir__ = _lazy_exports(__name__, globals(), {**_MODULE_OF, "artifacts": f"{__name__}.artifacts"})
