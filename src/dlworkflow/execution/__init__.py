"""Execution layer: one run in stages (prepare → build → train → score → save → record).

Below the API and the tuner, above the registry: :mod:`~dlworkflow.execution.runner` runs
the stages of :mod:`~dlworkflow.execution.stages` under a
:class:`~dlworkflow.execution.policy.RunPolicy` (what differs between a plain run, a tuning
trial, a resumed run and a study's final run), with the Keras work behind a
:class:`~dlworkflow.execution.trainer.Trainer` that a test replaces with a fake.
:mod:`~dlworkflow.execution.result` holds what a run returns (:class:`Run`,
:class:`ModelSummary`), a leaf module every upper layer may import.
"""
