"""What ``run.py`` measured: one training measurement, the repetitions of a variant, a timed command.

Example:
    >>> first = Measurement(10.0, 8.0, "jax", 1, 767, 164, 200)
    >>> second = Measurement(12.0, 9.0, "jax", 1, 767, 164, 200)
    >>> variant = VariantResult("lesson_jax", "lesson code, JAX", [first, second])
    >>> variant.fit_seconds, variant.samples_per_second
    (8.5, 18047.058823529413)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flops import FitWork


@dataclass(frozen=True)
class Measurement:
    """One training run in a fresh process.

    Attributes:
        wall_seconds: The whole process, as the parent saw it.
        fit_seconds: Inside training (``model.fit``, or the hand-written loop), compiling included.
        backend: The Keras backend that trained (``jax`` for the hand-written loop).
        steps_per_execution: Training steps per compiled call.
        train_samples: Training rows per epoch.
        validation_samples: Validation rows scored per epoch.
        epochs: Epochs run.
        batch_size: Rows per training step.
        details: Anything else the process reported (last epoch's values, compile seconds).
    """

    wall_seconds: float
    fit_seconds: float
    backend: str
    steps_per_execution: int
    train_samples: int
    validation_samples: int
    epochs: int
    batch_size: int = 32
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class VariantResult:
    """The repetitions of one way of training one workload.

    Attributes:
        key: A short identifier (``dlw``, ``lesson_tensorflow``, ...).
        label: What the report calls it.
        measurements: The successful repetitions, in order.
        failures: What went wrong in the others.
        forward_flops: Analytic forward FLOPs per sample (set by the caller; 0 if unknown).
    """

    key: str
    label: str
    measurements: list[Measurement] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    forward_flops: int = 0

    @property
    def ok(self) -> bool:
        """Whether at least one repetition succeeded."""
        return bool(self.measurements)

    @property
    def first(self) -> Measurement:
        """The first successful repetition (sizes, backend and settings do not change between them)."""
        return self.measurements[0]

    @property
    def fit_seconds(self) -> float:
        """Median seconds inside training."""
        return statistics.median(m.fit_seconds for m in self.measurements)

    @property
    def wall_seconds(self) -> float:
        """Median seconds of the whole process."""
        return statistics.median(m.wall_seconds for m in self.measurements)

    @property
    def fit_range(self) -> tuple[float, float]:
        """The fastest and slowest training seconds of the repetitions."""
        seconds = [m.fit_seconds for m in self.measurements]
        return min(seconds), max(seconds)

    @property
    def trained_samples(self) -> int:
        """Training rows times epochs."""
        return self.first.train_samples * self.first.epochs

    @property
    def samples_per_second(self) -> float:
        """Training rows per second of training time (median)."""
        return self.trained_samples / self.fit_seconds

    @property
    def total_flops(self) -> float:
        """Analytic FLOPs of the whole fit: 3 x forward per training row, 1 x forward per validation row."""
        first = self.first
        return FitWork(self.forward_flops, first.train_samples, first.validation_samples, first.epochs).total

    @property
    def gflops(self) -> float:
        """Achieved GFLOP/s over the median training time."""
        return self.total_flops / self.fit_seconds / 1e9

    @property
    def seconds_per_step(self) -> float:
        """Median training seconds per training step (validation included in the time)."""
        steps_per_epoch = -(-self.first.train_samples // self.first.batch_size)
        return self.fit_seconds / (steps_per_epoch * self.first.epochs)


def work_normalised_ratio(numerator: VariantResult, denominator: VariantResult) -> float:
    """How many times longer ``numerator`` trains than ``denominator`` for the same analytic work.

    Equal to the ratio of training seconds when both do the same work (same rows, epochs and
    validation), and to the inverse ratio of achieved GFLOP/s in general.

    Args:
        numerator: A variant with measurements.
        denominator: Another.

    Returns:
        The ratio; above 1 means ``numerator`` is slower.

    Example:
        >>> a = VariantResult("a", "a", [Measurement(1, 2.0, "jax", 1, 10, 0, 1)], forward_flops=1)
        >>> b = VariantResult("b", "b", [Measurement(1, 1.0, "jax", 1, 10, 0, 1)], forward_flops=1)
        >>> work_normalised_ratio(a, b)
        2.0
    """
    if numerator.forward_flops and denominator.forward_flops:
        return denominator.gflops / numerator.gflops
    return numerator.fit_seconds / denominator.fit_seconds


@dataclass
class CommandTiming:
    """Repeated runs of one command line.

    Attributes:
        label: The command as shown.
        seconds: Wall seconds of each run.
        output_lines: Lines it printed on standard output (last run).
        output_bytes: Bytes it printed on standard output (last run).
        note: What it printed, in words, or why it failed.
        failed: Whether it exited non-zero or timed out.
        output: The last run's standard output, kept until it is described.
    """

    label: str
    seconds: list[float] = field(default_factory=list)
    output_lines: int = 0
    output_bytes: int = 0
    note: str = ""
    failed: bool = False
    output: str = field(default="", repr=False)

    @property
    def median(self) -> float | None:
        """Median seconds, or None without runs."""
        return statistics.median(self.seconds) if self.seconds else None


def median_or_none(values: Sequence[float]) -> float | None:
    """The median of some values, or None for none.

    Example:
        >>> median_or_none([3.0, 1.0, 2.0]), median_or_none([])
        (2.0, None)
    """
    return statistics.median(values) if values else None


@dataclass
class CliResults:
    """The command-line part of a benchmark run.

    Attributes:
        help: ``dlw --help``.
        listings: ``dlw runs`` and ``dlw runs --json`` on the large registry.
        floors: Bare interpreter and import times on this machine.
        registry_runs: Runs in the large registry.
        registry_seconds: Seconds it took to write it.
        registry_megabytes: Its file size.
        modules: Heavy modules each probed command imported (None: the probe failed).
    """

    help: CommandTiming
    listings: list[CommandTiming]
    floors: list[CommandTiming]
    registry_runs: int
    registry_seconds: float
    registry_megabytes: float
    modules: dict[str, list[str] | None] = field(default_factory=dict)


@dataclass
class BenchmarkResults:
    """Everything one ``run.py`` invocation measured.

    Attributes:
        mode: ``full`` or ``quick``.
        command_line: How it was started.
        repeats: Repetitions per training variant.
        machine: From :func:`machine.machine_info`.
        matmul_gflops: The numpy float32 matmul reference, at the start and at the end.
        workloads: Per workload key: its title, epochs and variant results (by variant key).
        cli: The command-line part, if measured.
        seconds: How long the whole benchmark took.
        load_average_end: The load averages when it ended.
    """

    mode: str
    command_line: str
    repeats: int
    machine: dict[str, Any]
    matmul_gflops: list[float] = field(default_factory=list)
    workloads: dict[str, WorkloadResults] = field(default_factory=dict)
    cli: CliResults | None = None
    seconds: float = 0.0
    load_average_end: str = ""

    @property
    def matmul_reference(self) -> float:
        """The best matmul figure of the run (the fairest reference for 'percent of peak')."""
        return max(self.matmul_gflops) if self.matmul_gflops else float("nan")


@dataclass
class WorkloadResults:
    """One workload's variants.

    Attributes:
        title: What the report calls the workload.
        epochs: Epochs each variant trained.
        variants: Results by variant key, in the order they ran.
    """

    title: str
    epochs: int
    variants: dict[str, VariantResult] = field(default_factory=dict)

    def measured(self, key: str) -> VariantResult | None:
        """The variant of that key if at least one repetition succeeded, else None."""
        variant = self.variants.get(key)
        return variant if variant is not None and variant.ok else None
