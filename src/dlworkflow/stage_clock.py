"""Seconds per stage of a run, measured where the work happens, each second counted once.

A :class:`StageClock` adds up wall-clock seconds per stage name. Stages nest: time spent in
an inner stage (``read`` inside ``prepare``) is counted for the inner one only, so the stages
of a run add up to the time they covered, with nothing counted twice. The run's stages
(:mod:`dlworkflow.execution`) hold the clock and make it the active one; code further down
(the data pipeline reading a file, the score stage running its baselines) names its own stage
with :func:`stage`, which does nothing when no clock is active (a notebook calling the data
layer directly, ``dlw predict``). The active clock lives in a :class:`contextvars.ContextVar`,
so threads and concurrent runs do not share one.

This module imports only the standard library, so every layer may use it.

Example:
    >>> clock = StageClock()
    >>> with clock.active(), clock.measure("prepare"):
    ...     with stage("read"):
    ...         pass
    >>> sorted(clock.seconds)
    ['prepare', 'read']
    >>> abs(sum(clock.seconds.values()) - clock.covered) < 1e-9
    True
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

_ACTIVE: ContextVar[StageClock | None] = ContextVar("dlworkflow_stage_clock", default=None)


class StageClock:
    """Wall-clock seconds per stage, nested stages counted once (in the innermost stage).

    Args:
        seconds: Stages already measured elsewhere (added to as stages repeat).

    Attributes:
        seconds: ``{stage: seconds}``, in the order the stages were first entered.
        covered: Seconds covered by the outermost stages (the sum of :attr:`seconds`).

    Example:
        >>> clock = StageClock({"prepare": 0.5})
        >>> with clock.measure("train"):
        ...     pass
        >>> list(clock.seconds), clock.seconds["prepare"]
        (['prepare', 'train'], 0.5)
    """

    def __init__(self, seconds: Mapping[str, float] | None = None):
        self.seconds: dict[str, float] = {name: float(value) for name, value in (seconds or {}).items()}
        self.covered = sum(self.seconds.values())
        self._open: list[list[float]] = []  # per open stage: [started, seconds of its inner stages]

    @contextlib.contextmanager
    def measure(self, name: str) -> Iterator[None]:
        """Count the time of the ``with`` block for stage ``name`` (less the inner stages' time).

        Args:
            name: The stage, e.g. ``read``; a stage measured again is added to.

        Example:
            >>> clock = StageClock()
            >>> for _ in range(2):
            ...     with clock.measure("plots"):
            ...         pass
            >>> list(clock.seconds)
            ['plots']
        """
        self.seconds.setdefault(name, 0.0)
        entry = [time.perf_counter(), 0.0]
        self._open.append(entry)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - entry[0]
            self._open.pop()
            self.seconds[name] += max(elapsed - entry[1], 0.0)
            if self._open:
                self._open[-1][1] += elapsed
            else:
                self.covered += elapsed

    @contextlib.contextmanager
    def active(self) -> Iterator[StageClock]:
        """Make this the clock :func:`stage` measures with, for the ``with`` block.

        Example:
            >>> clock = StageClock()
            >>> with clock.active():
            ...     current() is clock
            True
        """
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def with_total(self) -> dict[str, float]:
        """The stages and their sum as ``total``: what a run record's ``timings`` holds.

        Example:
            >>> StageClock({"train": 1.5, "build": 0.25}).with_total()
            {'train': 1.5, 'build': 0.25, 'total': 1.75}
        """
        return {**self.seconds, "total": sum(self.seconds.values())}


def current() -> StageClock | None:
    """The active clock (:meth:`StageClock.active`), else None.

    Example:
        >>> current() is None
        True
    """
    return _ACTIVE.get()


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the ``with`` block as stage ``name`` on the active clock; nothing when none is active.

    Args:
        name: The stage, e.g. ``fingerprint``.

    Example:
        >>> with stage("read"):  # no active clock: nothing is measured
        ...     pass
    """
    clock = _ACTIVE.get()
    if clock is None:
        yield
        return
    with clock.measure(name):
        yield
