"""Executors: where a run or a tuning worker runs — in this process, or as a SLURM job — behind one interface.

submitit's ``Executor`` is the model (:mod:`dlworkflow.executors.executor`): ``submit`` one
task, ``map_array`` several (a job array), each giving a :class:`~dlworkflow.executors.executor.SubmittedJob`
with its id, log files and ``result()``. :class:`~dlworkflow.executors.local.LocalExecutor`
runs a task at once in this process; :class:`~dlworkflow.executors.slurm.SlurmExecutor`
submits it through submitit. The tasks (:mod:`dlworkflow.executors.tasks`) are the same for
both: a run (requeued from its checkpoint at a time limit) and a tuning worker. The run's
stages do not know which executor runs them; the registry's ``jobs`` table knows the job.

Example:
    >>> from dlworkflow.executors.local import LocalExecutor
    >>> LocalExecutor().submit(lambda: 42).result()
    42
"""
