"""dlw's own time, stage by stage, and issue 19's targets, from the benchmark's measurements.

Every ``dlw run`` measured records its seconds per stage (``imports``, ``read``, ``split``,
``encode``, ``fingerprint``, ``prepare``, ``build``, ``record``, ``train``, ``evaluate``,
``baselines``, ``write``, ``plots``: :mod:`dlworkflow.stage_clock`, each second in one stage).
The profile table shows their medians per workload beside the whole process: what the record
does not cover (Python's start-up, importing dlworkflow, resolving the spec, writing the record
and exiting) is the wall time less the recorded total, and the time outside ``fit`` is the
wall time less ``train``.

Example:
    >>> stage_medians([{"train": 1.0, "plots": 0.5}, {"train": 3.0, "plots": 0.25}])
    {'train': 2.0, 'plots': 0.375}
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from results import BenchmarkResults, VariantResult, work_normalised_ratio


def stage_medians(timings: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The median seconds of each stage over some run records' ``timings`` (``total`` included).

    Args:
        timings: One ``{stage: seconds}`` per repetition.

    Returns:
        ``{stage: median seconds}`` in the order the stages first appear.
    """
    collected: dict[str, list[float]] = {}
    for timing in timings:
        for stage, seconds in timing.items():
            collected.setdefault(stage, []).append(float(seconds))
    return {stage: statistics.median(values) for stage, values in collected.items()}


def outside_fit_seconds(dlw: VariantResult) -> float:
    """Median whole-process seconds of ``dlw run`` less its training seconds (start-up to exit, minus ``fit``).

    Example:
        >>> from results import Measurement
        >>> run = VariantResult("dlw", "dlw", measurements=[Measurement(5.0, 3.5, "jax", 1, 767, 164, 200)])
        >>> outside_fit_seconds(run)
        1.5
    """
    return statistics.median(m.wall_seconds - m.fit_seconds for m in dlw.measurements)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def render_stage_profile(results: BenchmarkResults) -> list[str]:
    """The section "dlw's time per stage": one column per workload, medians of the run records.

    Args:
        results: The benchmark's results.

    Returns:
        Markdown lines (none when no ``dlw run`` was measured).
    """
    columns: dict[str, tuple[VariantResult, dict[str, float]]] = {}
    for key, workload in results.workloads.items():
        for variant, suffix in (("dlw", ""), ("dlw_warm", " (warm worker)")):
            dlw = workload.measured(variant)
            if dlw is not None:
                columns[key + suffix] = (dlw, stage_medians(m.details.get("timings", {}) for m in dlw.measurements))
    if not columns:
        return []
    stages = list(dict.fromkeys(stage for _, medians in columns.values() for stage in medians if stage != "total"))
    rows = [[stage, *(_seconds(medians.get(stage)) for _, medians in columns.values())] for stage in stages]
    rows.append(["**recorded total**", *(_seconds(medians.get("total")) for _, medians in columns.values())])
    rows.append(["whole process (wall)", *(_seconds(dlw.wall_seconds) for dlw, _ in columns.values())])
    rows.append(["not in the record (start-up, spec, record write, exit)",
                 *(_seconds(dlw.wall_seconds - medians.get("total", float("nan"))) for dlw, medians in columns.values())])
    rows.append(["**outside `fit`** (wall − train)", *(_seconds(outside_fit_seconds(dlw)) for dlw, _ in columns.values())])
    header = ["stage (median s)", *columns]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    return [
        "## dlw's time per stage", "",
        ("From each run's record (`dlw show --json`: `timings`), each second counted in one stage: `imports` is "
         "the data layer's libraries and Keras with its backend (Keras imports scikit-learn and JAX imports "
         "SciPy whatever dlw does); `train` is `model.fit` with its callbacks (checkpoints included). A warm "
         "worker (`dlw worker start`) has imported them before the command starts."), "",
        *table, "",
    ]


def _ratio(ratio: float) -> str:
    return f"{ratio:.2f}×"


VARIANTS = (("dlw", "a process of its own"), ("dlw_warm", "warm worker"))
"""The two ways ``dlw run`` is measured against the targets: started cold, and handed to a warm worker."""


def issue19_targets(results: BenchmarkResults) -> list[tuple[str, str, bool | None]]:
    """Issue 19's targets as ``(goal, measured, held)``; ``held`` None where not measured.

    Whole-process ratios are of median wall seconds; the first run is ``dlw run``'s first
    repetition, made with an empty compilation cache (:func:`run.main` empties it).

    Args:
        results: The benchmark's results.

    Returns:
        One triple per target.
    """
    targets: list[tuple[str, str, bool | None]] = []
    workloads = results.workloads

    def measured(key: str, variant: str) -> VariantResult | None:
        workload = workloads.get(key)
        return workload.measured(variant) if workload is not None else None

    def whole_process(key: str, goal: str, factor: float) -> None:
        lesson = measured(key, "lesson_tensorflow")
        for variant, how in VARIANTS:
            dlw = measured(key, variant)
            if dlw is None or lesson is None:
                targets.append((f"{goal} ({how})", "-", None))
                continue
            speedup = lesson.wall_seconds / dlw.wall_seconds
            targets.append((f"{goal} ({how})",
                            f"{_ratio(speedup)} ({lesson.wall_seconds:.3g} s / {dlw.wall_seconds:.3g} s)",
                            speedup >= factor))

    whole_process("weather", "weather whole process: dlw ≥ 6× faster than the lesson's TensorFlow script", 6.0)
    lesson = measured("weather", "lesson_tensorflow")
    for variant, how in VARIANTS:
        dlw = measured("weather", variant)
        goal = f"weather, first run (empty compile cache): dlw ≥ 4× faster than the lesson's script ({how})"
        if dlw is not None and lesson is not None:
            first = dlw.first.wall_seconds
            targets.append((goal, f"{_ratio(lesson.wall_seconds / first)} ({first:.3g} s)",
                            lesson.wall_seconds / first >= 4.0))
        else:
            targets.append((goal, "-", None))
    whole_process("penguins", "penguins whole process: dlw ≥ 2.5× faster than the lesson's script", 2.5)
    whole_process("cifar", "CIFAR subset whole process: dlw ≥ 1.3× faster than the lesson's script", 1.3)
    for key in ("weather", "penguins"):
        for variant, how in VARIANTS:
            dlw = measured(key, variant)
            goal = f"{key}: time outside `fit` (start-up to exit, minus training) ≤ 1.0 s ({how})"
            outside = outside_fit_seconds(dlw) if dlw is not None else None
            targets.append((goal, "-" if outside is None else f"{outside:.3g} s",
                            None if outside is None else outside <= 1.0))
    dlw, loop = measured("weather", "dlw"), measured("weather", "jax_loop")
    goal = "weather fit ≤ 1.0× the hand-written jitted loop"
    if dlw is not None and loop is not None:
        ratio = work_normalised_ratio(dlw, loop)
        targets.append((goal, _ratio(ratio), ratio <= 1.0))
    else:
        targets.append((goal, "-", None))
    targets += _command_targets(results)
    return targets


def _command_targets(results: BenchmarkResults) -> list[tuple[str, str, bool | None]]:
    cli = results.cli
    listing: Any = None if cli is None else next((t for t in cli.listings if t.label == "dlw runs --all"), None)
    goal = "`dlw runs --all` over 100,000 runs (plain streamed table) ≤ 3 s"
    if listing is None or listing.median is None:
        targets = [(goal, "-", None)]
    elif cli is not None and cli.registry_runs != 100_000:
        targets = [(f"{goal} (measured on {cli.registry_runs:,} runs only: no verdict)", f"{listing.median:.3g} s",
                    None)]
    else:
        targets = [(goal, f"{listing.median:.3g} s", listing.median <= 3.0)]
    help_seconds = None if cli is None else cli.help.median
    targets.append(("`dlw --help` ≤ 0.25 s", "-" if help_seconds is None else f"{help_seconds:.3g} s",
                    None if help_seconds is None else help_seconds <= 0.25))
    return targets
