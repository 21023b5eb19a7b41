"""The benchmark's report as Markdown: machine, tables per workload, ratios, commands, targets.

Ratios of training time are *work-normalised*: the ratio of achieved GFLOP/s (analytic
FLOPs of the whole fit over its seconds), which is the plain ratio of training seconds
when both sides train the same rows, epochs and validation (every weather variant) and
corrects for the 5,000 lesson images against dlw's 4,000 training images (CIFAR).

Example:
    >>> format_ratio(1.234), format_seconds(0.01234), format_percent(0.0312)
    ('1.23×', '0.0123', '+3.1%')
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from cli_timings import BARE_INTERPRETER, CLI_LIBRARIES, SQLALCHEMY_IMPORT
from flops import FORMULA
from results import (
    BenchmarkResults,
    CliResults,
    CommandTiming,
    VariantResult,
    WorkloadResults,
    work_normalised_ratio,
)
from stage_profile import issue19_targets, render_stage_profile

PLAIN_KERAS_KEYS = ("lesson_tensorflow", "lesson_jax")
"""The lesson's plain Keras code on each backend: "plain Keras" in the issue's targets."""

EXPLANATIONS = {
    "weather": (
        "The model is tiny (14,101 parameters): a training step is a few microseconds of arithmetic, so the time "
        "goes to dispatching steps and compiling them, not to FLOPs. Keras on JAX still calls one jitted step per "
        "batch from Python (steps_per_execution spares the per-batch callback work, which made dlw's training "
        "about twice as fast as the lesson's JAX code, but JAX's trainer loops over the batches in Python), and it "
        "compiles training, evaluation and prediction steps for the full and for the last, shorter batch. The "
        "hand-written loop runs a whole epoch as one `lax.scan` and compiles once. dlw keeps compiled steps in a "
        "persistent cache (`DLW_COMPILATION_CACHE`), so only the first run of a spec compiles: here the first "
        "repetition fills the cache (the max of the fit range), the others reuse it. The rest of the gap would "
        "need a fused epoch loop inside Keras' trainer."
    ),
    "cifar": (
        "Convolutions are nearly all the work. TensorFlow's oneDNN convolution kernels reach about 30% of the "
        "matmul figure on this CPU with these small channel counts (3→50 and 50→50 on 32×32 images) — for the "
        "lesson's code and dlw alike, so the 35% target is limited by TensorFlow's kernels, not by dlw. JAX's XLA "
        "CPU convolutions are almost 3× slower, which is why dlw's automatic backend picks TensorFlow for "
        "convolutional models."
    ),
}
"""Why each workload is as fast as it is (the analysis behind the measured facts)."""

COMMANDS_EXPLANATION = (
    "`dlw runs` on a local SQLite registry reads it with the standard `sqlite3` driver (importing SQLAlchemy alone "
    "would take about 0.2 s) and asks the database for the best 10 runs of each leaderboard only (an index on "
    "test set, metric and value serves each `ORDER BY ... LIMIT`). What remains is Python's start-up, typer and "
    "rich, and drawing the tables. Drawing every one of 100,000 runs as a table is bound by rich's layout, well "
    "under a millisecond per row; `--all --json` exports them all in seconds."
)
"""Why the commands that do not train are as fast as they are."""
"""Where the prose of "what limits it" goes."""


@dataclass(frozen=True)
class Target:
    """One of the issue's targets, checked against this run.

    Attributes:
        goal: The target in words.
        measured: What was measured, in words.
        held: True, False, or None when it was not measured.
    """

    goal: str
    measured: str
    held: bool | None

    @property
    def verdict(self) -> str:
        """``held``, ``not held`` or ``not measured``."""
        return {True: "held", False: "**not held**", None: "not measured"}[self.held]


def format_seconds(seconds: float | None) -> str:
    """Seconds with three significant digits (``-`` for none).

    Example:
        >>> format_seconds(18.64), format_seconds(None)
        ('18.6', '-')
    """
    if seconds is None or math.isnan(seconds):
        return "-"
    return f"{seconds:.3g}" if seconds < 1000 else f"{seconds:,.0f}"


def format_ratio(ratio: float | None) -> str:
    """A ratio as ``1.23×``.

    Example:
        >>> format_ratio(9.31)
        '9.31×'
    """
    return "-" if ratio is None or math.isnan(ratio) else f"{ratio:.3g}×"


def format_percent(share: float) -> str:
    """A signed share as a percentage.

    Example:
        >>> format_percent(-0.004)
        '-0.4%'
    """
    return f"{share * 100:+.1f}%"


def markdown_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    """Lines of a Markdown table.

    Example:
        >>> markdown_table(["a", "b"], [[1, 2]])
        ['| a | b |', '|---|---|', '| 1 | 2 |']
    """
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def best_plain_keras(workload: WorkloadResults) -> VariantResult | None:
    """The faster of the lesson's code on TensorFlow and on JAX (work-normalised), if measured.

    Args:
        workload: A workload's results.

    Returns:
        The variant, or None.
    """
    measured = [variant for key in PLAIN_KERAS_KEYS if (variant := workload.measured(key)) is not None]
    return max(measured, key=lambda variant: variant.gflops, default=None)


def render_machine(results: BenchmarkResults) -> list[str]:
    """The machine section."""
    machine = results.machine
    versions = machine["versions"]
    memory = machine.get("memory_gib")
    rows = [
        ["CPU", f"{machine['cpu']}, {machine['cores']} cores"],
        ["memory", f"{memory:.1f} GiB" if memory else "unknown"],
        ["Python", f"{machine['python']} ({machine['platform']})"],
        ["packages", ", ".join(f"{name} {version}" for name, version in versions.items())],
        ["date (UTC)", machine["date"]],
        ["load average (1, 5, 15 min)",
         f"{machine['load_average']} at the start; {results.load_average_end} at the end"],
        ["mode", (f"{results.mode}; median of {results.repeats} repetition(s), each in a fresh process; "
                  f"the whole benchmark took {results.seconds / 60:.1f} min")],
        ["command", f"`{results.command_line}`"],
    ]
    matmul = ", ".join(f"{value:.0f}" for value in results.matmul_gflops)
    return [
        "## Machine", "",
        *markdown_table(["", ""], rows), "",
        (f"numpy float32 matmul (2048×2048, best of 7), measured at the start, between the parts and at the end: "
         f"{matmul} GFLOP/s; the reference below is the best, {results.matmul_reference:.0f} GFLOP/s "
         "(other work on the machine lowers the others)."), "",
        f"{FORMULA}", "",
    ]


def variant_row(variant: VariantResult, matmul: float) -> list[str]:
    """One line of a workload table."""
    if not variant.ok:
        return [variant.label, "failed: " + "; ".join(sorted(set(variant.failures))), "", "", "", "", "", "", ""]
    first = variant.first
    low, high = variant.fit_range
    spread = f" ({format_seconds(low)}–{format_seconds(high)})" if len(variant.measurements) > 1 else ""
    label = variant.label + (f" ({len(variant.failures)} failed)" if variant.failures else "")
    return [
        label,
        first.backend,
        str(first.steps_per_execution),
        f"{first.train_samples:,} / {first.validation_samples:,}",
        format_seconds(variant.wall_seconds),
        format_seconds(variant.fit_seconds) + spread,
        f"{variant.samples_per_second:,.0f}",
        f"{variant.gflops:.3g}",
        f"{variant.gflops / matmul * 100:.2g}%",
    ]


def render_workload(workload: WorkloadResults, matmul: float) -> list[str]:
    """A workload's table of variants."""
    header = ["variant", "backend", "steps/exec", "rows train / val", "wall s", "fit s (min–max)", "train samples/s",
              "GFLOP/s", "% of matmul"]
    rows = [variant_row(variant, matmul) for variant in workload.variants.values()]
    lines = [f"## {workload.title}", "", f"{workload.epochs} epochs.", "", *markdown_table(header, rows), ""]
    lines += [
        ("*wall s*: the whole process (start-up, data, training, and for dlw evaluation, baselines, plots and "
         "recording); *fit s*: inside `model.fit` (or the loop), tracing and compiling included; "
         "*train samples/s*: training rows × epochs / fit s."), "",
    ]
    return lines


def ratio_rows(workload: WorkloadResults) -> list[list[str]]:
    """The ratios of dlw against the limit, the lesson's TensorFlow code, the best plain Keras and the same call."""
    dlw = workload.measured("dlw")
    if dlw is None:
        return [["dlw failed: no ratios", "", ""]]
    rows = []
    comparisons = [
        ("dlw / hand-written loop (limit)", workload.measured("jax_loop")),
        ("dlw / lesson code on TensorFlow", workload.measured("lesson_tensorflow")),
    ]
    best = best_plain_keras(workload)
    if best is not None:
        comparisons.append((f"dlw / best plain Keras ({best.label})", best))
    for label, other in comparisons:
        if other is not None:
            rows.append([label, format_ratio(work_normalised_ratio(dlw, other)),
                         format_ratio(dlw.wall_seconds / other.wall_seconds)])
    same = workload.measured("same_call")
    if same is not None:
        rows.append(["dlw / the same `model.fit` call (overhead)",
                     format_percent(work_normalised_ratio(dlw, same) - 1),
                     format_ratio(dlw.wall_seconds / same.wall_seconds)])
    return rows


def render_ratios(results: BenchmarkResults) -> list[str]:
    """The ratios section."""
    lines = ["## Ratios", "",
             ("Training time is work-normalised (see the top of `report.py`); whole-process time is not "
              "(dlw also evaluates, fits baselines, draws plots and records the run)."), ""]
    for key, workload in results.workloads.items():
        lines += [f"**{key}**", "", *markdown_table(["ratio", "training time", "whole process"],
                                                     ratio_rows(workload)), ""]
    return lines


def command_row(timing: CommandTiming) -> list[str]:
    """One line of the command table."""
    if timing.failed:
        return [f"`{timing.label}`", "failed", "", timing.note]
    spread = ""
    if len(timing.seconds) > 1:
        spread = f" ({format_seconds(min(timing.seconds))}–{format_seconds(max(timing.seconds))})"
    return [f"`{timing.label}`", format_seconds(timing.median) + spread, str(len(timing.seconds)), timing.note]


def render_cli(cli: CliResults) -> list[str]:
    """The command-line section."""
    rows = [command_row(timing) for timing in (cli.help, *cli.listings, *cli.floors)]
    modules = [f"- `{command}` imports: {', '.join(names) if names else 'none of them'}"
               if names is not None else f"- `{command}`: the module probe failed"
               for command, names in cli.modules.items()]
    return [
        "## Commands that do not train", "",
        (f"`dlw runs` reads a registry of {cli.registry_runs:,} generated runs ({cli.registry_megabytes:.0f} MB, "
         f"written in {cli.registry_seconds:.1f} s through `dlworkflow.registry.database`); standard output goes "
         "to a pipe that is read to its end. The default listing shows the best runs of each test set; "
         "`--all` shows every run."), "",
        *markdown_table(["command", "median s (min–max)", "runs", "what it printed"], rows), "",
        ("Heavy modules (keras, tensorflow, jax, torch, numpy, pandas, sklearn, scipy, matplotlib, sqlalchemy, "
         "pydantic, PIL) imported in the command's own process:"), "",
        *modules, "",
    ]


def _training_targets(results: BenchmarkResults) -> list[Target]:
    targets = []
    weather = results.workloads.get("weather")
    cifar = results.workloads.get("cifar")
    dlw_weather = weather.measured("dlw") if weather else None
    loop = weather.measured("jax_loop") if weather else None
    lesson_tf = weather.measured("lesson_tensorflow") if weather else None
    if dlw_weather and loop:
        ratio = work_normalised_ratio(dlw_weather, loop)
        targets.append(Target("weather: dlw ≤ 1.3× the hand-written loop", format_ratio(ratio), ratio <= 1.3))
    else:
        targets.append(Target("weather: dlw ≤ 1.3× the hand-written loop", "-", None))
    if dlw_weather and lesson_tf:
        speedup = work_normalised_ratio(lesson_tf, dlw_weather)
        targets.append(Target("weather: dlw ≥ 5× faster than the lesson's TensorFlow code",
                              f"{format_ratio(speedup)} faster", speedup >= 5))
    else:
        targets.append(Target("weather: dlw ≥ 5× faster than the lesson's TensorFlow code", "-", None))
    dlw_cifar = cifar.measured("dlw") if cifar else None
    best = best_plain_keras(cifar) if cifar else None
    if dlw_cifar and best:
        ratio = work_normalised_ratio(dlw_cifar, best)
        targets.append(Target("CIFAR: dlw ≤ 1.05× the fastest plain-Keras backend",
                              f"{format_ratio(ratio)} ({best.label})", ratio <= 1.05))
    else:
        targets.append(Target("CIFAR: dlw ≤ 1.05× the fastest plain-Keras backend", "-", None))
    if dlw_cifar:
        share = dlw_cifar.gflops / results.matmul_reference
        targets.append(Target("CIFAR: achieved GFLOP/s ≥ 35% of the matmul figure",
                              f"{dlw_cifar.gflops:.1f} of {results.matmul_reference:.0f} GFLOP/s = {share * 100:.0f}%",
                              share >= 0.35))
    else:
        targets.append(Target("CIFAR: achieved GFLOP/s ≥ 35% of the matmul figure", "-", None))
    for key, workload in results.workloads.items():
        dlw, same = workload.measured("dlw"), workload.measured("same_call")
        goal = f"{key}: overhead of dlw over the same Keras call ≤ 3%"
        if dlw and same:
            overhead = work_normalised_ratio(dlw, same) - 1
            targets.append(Target(goal, format_percent(overhead), overhead <= 0.03))
        else:
            targets.append(Target(goal, "-", None))
    for key, workload in results.workloads.items():
        dlw, best = workload.measured("dlw"), best_plain_keras(workload)
        goal = f"{key}: dlw's automatic backend is the faster plain-Keras backend"
        if dlw and best:
            targets.append(Target(goal, f"dlw chose {dlw.first.backend}; faster: {best.first.backend}",
                                  dlw.first.backend == best.first.backend))
        else:
            targets.append(Target(goal, "-", None))
    return targets


def _cli_targets(cli: CliResults | None) -> list[Target]:
    if cli is None:
        return [Target("`dlw --help` < 0.5 s", "-", None), Target("`dlw runs` over 100,000 runs < 0.3 s", "-", None)]
    help_seconds = cli.help.median
    targets = [Target("`dlw --help` < 0.5 s", f"{format_seconds(help_seconds)} s",
                      None if help_seconds is None else help_seconds < 0.5)]
    for timing in cli.listings:
        goal = f"`{timing.label}` over 100,000 runs < 0.3 s"
        if cli.registry_runs != 100_000:
            goal += f" (measured on {cli.registry_runs:,} runs only: no verdict)"
        held = None if timing.median is None or cli.registry_runs != 100_000 else timing.median < 0.3
        targets.append(Target(goal, f"{format_seconds(timing.median)} s", held))
    return targets


def evaluate_targets(results: BenchmarkResults) -> list[Target]:
    """Check the issue's targets against the measurements.

    Args:
        results: The benchmark's results.

    Returns:
        One :class:`Target` per goal; ``held`` None where the part was not run or failed.
    """
    return _training_targets(results) + _cli_targets(results.cli)


def render_targets(results: BenchmarkResults) -> list[str]:
    """The targets sections: issue 4's, then issue 19's."""
    rows = [[target.goal, target.measured, target.verdict] for target in evaluate_targets(results)]
    later = [[target.goal, target.measured, target.verdict]
             for target in (Target(*triple) for triple in issue19_targets(results))]
    note = ""
    if results.mode != "full":
        note = "Quick mode: fewer epochs, one repetition and a small registry, so these verdicts do not count."
    return ["## Targets (issue 4)", "", *markdown_table(["target", "measured", "verdict"], rows), "",
            *([note, ""] if note else []),
            "## Targets (issue 19)", "", *markdown_table(["target", "measured", "verdict"], later), "",
            *([note, ""] if note else [])]


def _stage_seconds(variant: VariantResult) -> str:
    stages: dict[str, list[float]] = {}
    for measurement in variant.measurements:
        for stage, seconds in measurement.details.get("timings", {}).items():
            stages.setdefault(stage, []).append(float(seconds))
    return ", ".join(f"{stage} {format_seconds(statistics.median(values))} s" for stage, values in stages.items())


def _per_step(workload: WorkloadResults) -> str:
    parts = [f"{variant.label} {variant.seconds_per_step * 1e3:.2f} ms"
             for variant in workload.variants.values() if variant.ok]
    return "; ".join(parts)


def training_limits(key: str, workload: WorkloadResults, matmul: float) -> list[str]:
    """The measured facts of "what limits it" for one workload."""
    lines = [f"**{key}**", ""]
    lines.append(f"- Training seconds per step (fit s / (epochs × steps per epoch), validation included): "
                 f"{_per_step(workload)}.")
    dlw = workload.measured("dlw")
    if dlw is not None:
        lines.append(f"- dlw trained on {dlw.first.backend} with steps_per_execution={dlw.first.steps_per_execution}; "
                     f"its stages (median, from the record): {_stage_seconds(dlw)}.")
    shares = [f"{variant.label} {variant.gflops:.3g} GFLOP/s ({variant.gflops / matmul * 100:.2g}% of matmul)"
              for variant in workload.variants.values() if variant.ok]
    lines.append("- Achieved: " + "; ".join(shares) + ".")
    tensorflow, jax = workload.measured("lesson_tensorflow"), workload.measured("lesson_jax")
    if tensorflow and jax:
        ratio = format_ratio(jax.fit_seconds / tensorflow.fit_seconds)
        lines.append(f"- Lesson code, JAX / TensorFlow training time: {ratio}.")
    loop = workload.measured("jax_loop")
    if loop is not None:
        compile_seconds = statistics.median(m.details.get("compile_seconds", float("nan")) for m in loop.measurements)
        lines.append(f"- Hand-written loop: {format_seconds(compile_seconds)} s of its "
                     f"{format_seconds(loop.fit_seconds)} s are compiling (a fixed cost, whatever the epochs).")
    if key in EXPLANATIONS:
        lines.append(f"- {EXPLANATIONS[key]}")
    lines.append("")
    return lines


def cli_limits(cli: CliResults) -> list[str]:
    """The measured facts of "what limits it" for the commands that do not train."""
    floor = {timing.label: timing.median for timing in cli.floors}
    listed = {timing.label: timing.median for timing in cli.listings}
    lines = ["**commands**", ""]
    lines.append(f"- `dlw --help`: {format_seconds(cli.help.median)} s; a bare interpreter takes "
                 f"{format_seconds(floor.get(BARE_INTERPRETER))} s and importing typer and rich "
                 f"{format_seconds(floor.get(CLI_LIBRARIES))} s.")
    timings = ", ".join(f"`{label}` {format_seconds(seconds)} s" for label, seconds in listed.items())
    lines.append(f"- Listings: {timings}; importing SQLAlchemy alone takes "
                 f"{format_seconds(floor.get(SQLALCHEMY_IMPORT))} s.")
    table, as_json = listed.get("dlw runs --all"), listed.get("dlw runs --all --json")
    if table is not None and as_json is not None:
        lines.append(f"- Every run as a table against the same rows as JSON: {format_seconds(table)} s against "
                     f"{format_seconds(as_json)} s, so drawing the table costs about "
                     f"{format_seconds(table - as_json)} s.")
    lines += [f"- {COMMANDS_EXPLANATION}", ""]
    return lines


def render_limits(results: BenchmarkResults) -> list[str]:
    """The "what limits it" section: measured facts, and room for the explanation."""
    lines = ["## What limits it", ""]
    for key, workload in results.workloads.items():
        lines += training_limits(key, workload, results.matmul_reference)
    if results.cli is not None:
        lines += cli_limits(results.cli)
    return lines


def render_report(results: BenchmarkResults) -> str:
    """The whole report.

    Args:
        results: The benchmark's results.

    Returns:
        Markdown text.
    """
    lines = [
        "# Performance benchmark (issue 4)", "",
        ("Written by `python benchmarks/run.py`; rerun it to refresh. dlw against the lesson's own Keras code, "
         "the same Keras call without dlw, and a hand-written jitted JAX loop."), "",
        *render_machine(results),
    ]
    for workload in results.workloads.values():
        lines += render_workload(workload, results.matmul_reference)
    if results.workloads:
        lines += render_ratios(results)
        lines += render_stage_profile(results)
    if results.cli is not None:
        lines += render_cli(results.cli)
    lines += render_targets(results)
    lines += render_limits(results)
    return "\n".join(lines).rstrip() + "\n"
