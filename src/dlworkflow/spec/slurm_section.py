"""The ``[slurm]`` section: defaults for ``dlw run/tune --executor slurm`` (the command line's options win).

The names are those of ``sbatch`` (``--partition``, ``--time`` in minutes or sbatch's own
formats such as ``"1:30:00"`` or ``"2-00:00:00"``, ``--gpus``,
``--cpus-per-task``, ``--mem``); submitit (:mod:`dlworkflow.executors.slurm`) turns them into
the job's script. A spec without ``[slurm]`` submits with the cluster's defaults.

Example:
    >>> SlurmSpec().time, SlurmSpec().max_requeues
    (60, 3)
    >>> SlurmSpec(partition="gpu", gpus=1).gpus
    1
    >>> SlurmSpec(time="1:30:00").time
    90
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from dlworkflow.spec.registries import spec_problem
from dlworkflow.spec.section import Section

TIME_FORMATS = "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"
"""The time-limit formats of ``sbatch --time``, all accepted."""

_SLURM_TIME = re.compile(r"(?:(?P<days>\d+)-)?(?P<fields>\d+(?::\d+){0,2})")


def slurm_minutes(value: int | str) -> int:
    """A time limit in whole minutes from minutes or any of sbatch's formats (seconds rounded up).

    Args:
        value: Minutes (an int or digits), or ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM``, ``D-HH:MM:SS``.

    Returns:
        The minutes, at least 1.

    Raises:
        ValueError: For anything else, or a limit of zero.

    Example:
        >>> slurm_minutes(30), slurm_minutes("1:00:00"), slurm_minutes("2-12"), slurm_minutes("0:30")
        (30, 60, 3600, 1)
    """
    text = str(value).strip()
    match = _SLURM_TIME.fullmatch(text) if not isinstance(value, bool) else None
    if match is None:
        raise ValueError(f"must be a time limit as sbatch --time takes it ({TIME_FORMATS}); got {value!r}")
    fields = [int(part) for part in match["fields"].split(":")]
    if match["days"] is not None:  # D-HH[:MM[:SS]]
        hours, minutes, seconds = (fields + [0, 0])[:3]
        seconds += ((int(match["days"]) * 24 + hours) * 60 + minutes) * 60
    else:  # MM, MM:SS, HH:MM:SS
        seconds = {1: lambda: fields[0] * 60, 2: lambda: fields[0] * 60 + fields[1],
                   3: lambda: (fields[0] * 60 + fields[1]) * 60 + fields[2]}[len(fields)]()
    if seconds <= 0:
        raise ValueError(f"must be a time limit above zero; got {value!r}")
    return -(-seconds // 60)


class SlurmSpec(Section):
    """``[slurm]``: where and how long a SLURM job of this spec runs."""

    partition: str | None = Field(None, min_length=1, description="SLURM partition (sbatch --partition); default: the cluster's.")
    time: int = Field(60, gt=0, description="Time limit of each job in minutes, or as sbatch --time takes it ('1:30:00', '2-00:00:00'); a run that reaches it is requeued from its checkpoint.")
    gpus: int = Field(0, ge=0, description="GPUs per job (sbatch --gpus-per-node).")
    cpus: int = Field(1, gt=0, description="CPU cores per job (sbatch --cpus-per-task).")
    mem_gb: float | None = Field(None, gt=0, description="Memory per job in GB (sbatch --mem); default: the cluster's.")
    signal_delay_s: int = Field(90, ge=1, description="Seconds before the time limit at which the job checkpoints and requeues itself.")
    max_requeues: int = Field(3, ge=0, description="How often a job that reaches its time limit is requeued before it gives up.")
    account: str | None = Field(None, min_length=1, description="SLURM account to charge (sbatch --account).")

    @field_validator("time", mode="before")
    @classmethod
    def _sbatch_time(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return slurm_minutes(value)
            except ValueError:
                raise spec_problem(f"must be minutes or a time as sbatch --time takes it ({TIME_FORMATS})", value,
                                   "e.g. time = 60 or time = \"1:00:00\"") from None
        return value
