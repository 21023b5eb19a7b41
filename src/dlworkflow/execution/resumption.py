"""Going on with an interrupted run from its last checkpoint (``dlw resume``, and a requeued SLURM job).

Example:
    >>> resume_run("20261123-2315", None).record.status  # doctest: +SKIP
    'finished'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlworkflow.errors import DataError
from dlworkflow.execution.policy import ResumeState, RunPolicy
from dlworkflow.execution.preparation import prepare
from dlworkflow.execution.runner import execute

if TYPE_CHECKING:
    from rich.console import Console

    from dlworkflow.execution.result import Run


def resume_run(run_id: str, registry: str | None, *, job: str | None = None, quiet: bool = True,
               console: Console | None = None) -> Run:
    """Go on with an interrupted run to the epochs its spec asks for; it keeps its id and its record is replaced.

    Args:
        run_id: The interrupted run's id, or a unique prefix of it.
        registry: The registry URL.
        job: The executor's job that runs it (a requeued SLURM job); None: this process.
        quiet: Hide the per-epoch progress bar.
        console: Where the progress bar is drawn.

    Returns:
        The finished run.

    Raises:
        RegistryError: when the run is not interrupted or has no checkpoint (TrainingError: none readable).
        DataError: when the data no longer matches what the run trained on.

    Example:
        >>> resume_run("20261123-2315", None, job="4242").record.status  # doctest: +SKIP
        'finished'
    """
    from dlworkflow.registry import Registry
    from dlworkflow.registry.recovery import resumable_run
    from dlworkflow.spec import validate_spec

    with Registry.open(registry) as store:
        record, checkpoint = resumable_run(store, run_id)
    spec = validate_spec(record.spec, source=record.spec_file or "<record>")
    prepared = prepare(spec)
    if prepared.dataset.fingerprint != record.data.fingerprint:
        raise DataError.single(
            spec.source, "data", "has changed since the run started (its fingerprint differs), so it cannot go on",
            hint="Start the spec again with dlw run.",
        )
    policy = RunPolicy.resumed(ResumeState(record.id, record.created_at, checkpoint)).in_job(job)
    with Registry.open(registry) as store:
        return execute(spec, prepared.dataset, prepared.backend, store, policy, quiet=quiet, console=console,
                       timings=prepared.timings)
