"""What differs between a plain run, a tuning trial, a resumed run and a study's final run.

One small frozen :class:`RunPolicy` instead of mode flags threaded through the runner: which
parts are scored (a trial never predicts, looks at or names the test set), whether epoch
checkpoints are written (so an interruption can be resumed), which record an interrupted run
replaces, what the record says about a study, and how the headline is chosen.

Example:
    >>> RunPolicy.plain().scores_test, RunPolicy.plain().checkpoints
    (True, True)
    >>> trial = RunPolicy.trial(StudyRole(name="weather_tune", trial=3, objective="val_loss", role="trial"))
    >>> trial.scores_test, trial.checkpoints, trial.headline_objective
    (False, False, 'val_loss')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dlworkflow.registry.record_sections import Headline, StudyRole


@dataclass(frozen=True)
class ResumeState:
    """An interrupted run to go on with (``dlw resume``): its id, start time and last checkpoint.

    Attributes:
        run_id: The interrupted run's id (the finished run keeps it).
        created_at: When the run started.
        checkpoint: Its last epoch checkpoint (:class:`~dlworkflow.training.checkpoint_files.Checkpoint`).

    Example:
        >>> ResumeState("20261123-231502-4be1c9", "2026-11-23T23:15:02+00:00", None).run_id
        '20261123-231502-4be1c9'
    """

    run_id: str
    created_at: str
    checkpoint: Any


@dataclass(frozen=True)
class RunPolicy:
    """How one run is carried out and recorded.

    Attributes:
        scores_test: Predict and score the test part, count the look and name the test set in
            the record. False for a tuning trial (validation only).
        checkpoints: Write an epoch checkpoint, so an interrupted run can go on (not for trials).
        resume: The interrupted run this one goes on with; its record is replaced.
        study: The record's ``study`` section (a trial's or a study's final run), else None.
        description: Replaces the spec's description in the record (a trial names its values).
        headline_objective: Choose the headline as this objective on validation (a trial's
            score) instead of the primary metric on test beside the best baseline.
        callbacks: Extra Keras callbacks for training (e.g. a trial's pruning report).
        job: The id of the executor's job that runs it (a SLURM job); None: this process, noted
            as the job ``local-<run id>``. The job's row gets the run id, state and heartbeat.

    Example:
        >>> RunPolicy.study_final(StudyRole(name="s", trial=2, role="final")).study.role
        'final'
    """

    scores_test: bool = True
    checkpoints: bool = True
    resume: ResumeState | None = None
    study: StudyRole | None = None
    description: str | None = None
    headline_objective: str | None = None
    callbacks: tuple[Any, ...] = ()
    job: str | None = None

    def in_job(self, job_id: str | None) -> RunPolicy:
        """The same policy, run by the executor's job ``job_id`` (None: this process).

        Example:
            >>> RunPolicy.plain().in_job("4242").job
            '4242'
        """
        return replace(self, job=job_id)

    @classmethod
    def plain(cls) -> RunPolicy:
        """A run of ``dlw run``: scored on every part, checkpointed, headline on test.

        Example:
            >>> RunPolicy.plain().resume is None
            True
        """
        return cls()

    @classmethod
    def trial(cls, study: StudyRole, *, callbacks: tuple[Any, ...] = ()) -> RunPolicy:
        """A tuning trial: validation only, no checkpoint, headline = the study's objective.

        Args:
            study: The trial's study section (``role = "trial"``, with its ``params``).
            callbacks: Keras callbacks for its training (the pruning report).

        Returns:
            The policy.

        Example:
            >>> RunPolicy.trial(StudyRole(name="s", trial=0, params={"train.epochs": 5})).description
            'trial 0 of study s: train.epochs=5'
        """
        values = ", ".join(f"{path}={value!r}" for path, value in study.params.items())
        return cls(
            scores_test=False, checkpoints=False, study=study, callbacks=tuple(callbacks),
            description=f"trial {study.trial} of study {study.name}: {values}",
            headline_objective=study.objective,
        )

    @classmethod
    def study_final(cls, study: StudyRole) -> RunPolicy:
        """A study's final run: the best configuration trained again as a plain run, its study kept.

        Example:
            >>> RunPolicy.study_final(StudyRole(name="s", role="final")).scores_test
            True
        """
        return cls(study=study)

    @classmethod
    def resumed(cls, state: ResumeState) -> RunPolicy:
        """A run that goes on from its last checkpoint and replaces its interrupted record.

        Example:
            >>> RunPolicy.resumed(ResumeState("r1", "2026-11-23T23:15:02+00:00", None)).resume.run_id
            'r1'
        """
        return cls(resume=state)

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts this run predicts and scores.

        Example:
            >>> RunPolicy.plain().parts
            ('train', 'validation', 'test')
        """
        return ("train", "validation", "test") if self.scores_test else ("train", "validation")

    def objective_headline(self, metrics: dict[str, dict[str, float]]) -> Headline:
        """A trial's headline: its objective on validation (``val_loss`` → Keras' loss), no baseline.

        Args:
            metrics: The run's ``{part: {metric: value}}``.

        Returns:
            The headline; its value is None when validation has no score of that name.

        Example:
            >>> policy = RunPolicy(headline_objective="val_loss")
            >>> policy.objective_headline({"validation": {"loss": 0.25}}).value
            0.25
        """
        objective = self.headline_objective or ""
        validation = metrics.get("validation") or {}
        value = validation.get(objective.removeprefix("val_"), validation.get(objective))
        return Headline(metric=objective, value=None if value is None else float(value))
