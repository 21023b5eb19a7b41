"""The TensorBoard log folders that runs wrote (``[train] tensorboard = true``), labelled for ``dlw tensorboard``.

Example:
    >>> tensorboard_folders(registry, ["20261123"])  # doctest: +SKIP
    {'20261123-215917-474e44 weather': PosixPath('.dlw/runs/20261123-215917-474e44/tensorboard')}
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dlworkflow.errors import RegistryError
from dlworkflow.registry import artifacts

if TYPE_CHECKING:
    from dlworkflow.registry.registry import Registry

HINT = "Train with [train] tensorboard = true (or --set train.tensorboard=true)."


def tensorboard_folders(registry: Registry, run_ids: list[str]) -> dict[str, Path]:
    """The log folders of the given runs, or of every run that wrote logs.

    Args:
        registry: An open registry.
        run_ids: Run ids or unique prefixes; empty: every run that wrote TensorBoard logs.

    Returns:
        ``{label: folder}``, the label ``<run id> <name>`` as TensorBoard lists the run.

    Raises:
        RegistryError: when a named run does not exist or wrote no logs, or no run wrote any.
    """
    records = [registry.get(run_id) for run_id in run_ids] if run_ids else [
        registry.get(row.id) for row in registry.list_runs()
    ]
    logs: dict[str, Path] = {}
    for record in records:
        folder = registry.run_dir(record.id) / artifacts.TENSORBOARD
        if folder.is_dir():
            logs[f"{record.id} {record.name}"] = folder
        elif run_ids:
            raise RegistryError.single(f"registry {registry.url}", f"run {record.id}", "wrote no TensorBoard logs",
                                       hint=HINT)
    if not logs:
        raise RegistryError.single(f"registry {registry.url}", "runs", "no run wrote TensorBoard logs", hint=HINT)
    return logs
