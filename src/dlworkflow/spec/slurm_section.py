"""The ``[slurm]`` section: defaults for ``dlw run/tune --executor slurm`` (the command line's options win).

The names are those of ``sbatch`` (``--partition``, ``--time`` in minutes, ``--gpus``,
``--cpus-per-task``, ``--mem``); submitit (:mod:`dlworkflow.executors.slurm`) turns them into
the job's script. A spec without ``[slurm]`` submits with the cluster's defaults.

Example:
    >>> SlurmSpec().time, SlurmSpec().max_requeues
    (60, 3)
    >>> SlurmSpec(partition="gpu", gpus=1).gpus
    1
"""

from __future__ import annotations

from pydantic import Field

from dlworkflow.spec.section import Section


class SlurmSpec(Section):
    """``[slurm]``: where and how long a SLURM job of this spec runs."""

    partition: str | None = Field(None, min_length=1, description="SLURM partition (sbatch --partition); default: the cluster's.")
    time: int = Field(60, gt=0, description="Time limit of each job in minutes (sbatch --time); a run that reaches it is requeued from its checkpoint.")
    gpus: int = Field(0, ge=0, description="GPUs per job (sbatch --gpus-per-node).")
    cpus: int = Field(1, gt=0, description="CPU cores per job (sbatch --cpus-per-task).")
    mem_gb: float | None = Field(None, gt=0, description="Memory per job in GB (sbatch --mem); default: the cluster's.")
    signal_delay_s: int = Field(90, ge=1, description="Seconds before the time limit at which the job checkpoints and requeues itself.")
    max_requeues: int = Field(3, ge=0, description="How often a job that reaches its time limit is requeued before it gives up.")
    account: str | None = Field(None, min_length=1, description="SLURM account to charge (sbatch --account).")
