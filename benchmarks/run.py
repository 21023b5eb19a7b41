"""Issue 4's benchmark: dlw beside the lesson's Keras code, the same Keras call and a hand-written loop.

In one run, side by side, median of ``--repeats`` repetitions (3), each measurement in a
fresh process:

- weather (``examples/weather.toml``, 200 epochs), penguins (``examples/penguins.toml``, 100
  epochs, against ``lesson_penguins.py``) and the CIFAR subset CNN
  (``examples/cifar10_extra_layer.toml``, 87,060 parameters, 3 epochs), each trained by
  ``dlw run``, by dlw's own ``model.fit`` call without dlw, by the lesson's code on
  TensorFlow and on JAX, and (weather) by a hand-written jitted JAX loop: wall and
  training seconds, samples/s, achieved GFLOP/s beside a numpy float32 matmul;
- ``dlw --help``, and ``dlw runs`` / ``dlw runs --json`` over a registry of 100,000 runs;
- dlw's time per stage (the run record's ``timings``) and the time outside ``fit``;
- the ratios and the issues' targets (issue 4's and issue 19's).

The report is printed and, for a full run, written to ``benchmarks/RESULTS.md``.

Set-up: the environment of the README's commands plus the benchmarks' extra (optax for the JAX
loop), at the locked versions the results are compared at::

    pip install -c constraints.txt ".[benchmark]"

Example:
    python benchmarks/run.py                       # full run (about 11 minutes on 2 cores)
    python benchmarks/run.py --quick --only weather
    python benchmarks/run.py --only cli --output /tmp/cli.md
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cli_timings import (
    floors,
    help_timing,
    listing_timings,
    modules_imported,
    registry_url,
)
from large_registry import write_large_registry
from machine import load_average, machine_info, matmul_gflops
from measurement import default_data_home
from processes import BENCHMARKS, MeasurementFailed, child_environment, dlw_command, run_process
from report import render_report
from results import BenchmarkResults, CliResults, VariantResult, WorkloadResults
from training_variants import WORKLOADS, RepetitionContext, Workload, variants_of

PARTS = ("weather", "penguins", "cifar", "cli")
"""What ``--only`` can pick."""

RESULTS_FILE = BENCHMARKS / "RESULTS.md"
"""Where a full run writes its report."""

PROBE_REGISTRY_RUNS = 100
"""Runs in the small registry used to see which modules ``dlw runs`` imports."""


@dataclass(frozen=True)
class Settings:
    """How much to measure.

    Attributes:
        mode: ``full`` or ``quick``.
        repeats: Repetitions of each training variant.
        epochs: Epochs per workload key.
        registry_runs: Runs in the large registry.
        command_repeats: Runs of each timed command.
        help_repeats: Runs of ``dlw --help``.
    """

    mode: str
    repeats: int
    epochs: dict[str, int]
    registry_runs: int
    command_repeats: int
    help_repeats: int


FULL = Settings("full", 3, {"weather": 200, "penguins": 100, "cifar": 3}, 100_000, 3, 5)
"""The issue's benchmark."""

QUICK = Settings("quick", 1, {"weather": 10, "penguins": 10, "cifar": 1}, 2_000, 1, 2)
"""For developing: minutes become seconds, the verdicts do not count."""


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The options.

    Example:
        >>> parse_options(["--quick", "--only", "cli"]).only
        ['cli']
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="Few epochs, 1 repetition, a small registry (for development; verdicts do not count).")
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="Measure only this part (repeatable); default: all.")
    parser.add_argument("--repeats", type=int, help="Repetitions per training variant (default 3; --quick: 1).")
    parser.add_argument("--registry-runs", type=int, help="Runs in the generated registry (default 100,000).")
    parser.add_argument("--output", type=Path,
                        help=f"Write the report here (default: {RESULTS_FILE.name} for a full run of every part, "
                             "nowhere otherwise).")
    parser.add_argument("--raw", type=Path, help="Also write every measurement, repetition by repetition, as JSON.")
    parser.add_argument("--data-home", type=Path, default=default_data_home(),
                        help="Folder with the shared data (DLW_DATA_HOME).")
    parser.add_argument("--timeout", type=float, default=600.0, help="Seconds before a measured process is stopped.")
    return parser.parse_args(argv)


def settings_from(options: argparse.Namespace) -> Settings:
    """The settings the options ask for.

    Example:
        >>> settings_from(parse_options(["--quick", "--repeats", "2"])).repeats
        2
    """
    base = QUICK if options.quick else FULL
    return Settings(
        mode=base.mode,
        repeats=options.repeats or base.repeats,
        epochs=base.epochs,
        registry_runs=options.registry_runs or base.registry_runs,
        command_repeats=base.command_repeats,
        help_repeats=base.help_repeats,
    )


def report_progress(message: str) -> None:
    """One line of progress on standard error."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def seconds_list(seconds: list[float]) -> str:
    """Some timings for a progress line.

    Example:
        >>> seconds_list([0.2512, 0.3])
        '0.251 s, 0.3 s'
    """
    return ", ".join(f"{value:.3g} s" for value in seconds) or "no run"


def warm_up(environment: dict[str, str]) -> None:
    """Import the heavy libraries once, unmeasured, so that the first measurement does not read them from disk."""
    code = "import keras, tensorflow, jax, optax, sklearn, pandas, dlworkflow.cli"
    run_process([sys.executable, "-c", code], environment=environment, timeout=600)


@contextlib.contextmanager
def warm_workers(environment: dict[str, str], scratch: Path, timeout: float) -> Iterator[dict[str, str] | None]:
    """Start dlw's warm workers in a folder of the benchmark's own; yield the environment of the commands they serve.

    Yields None (and the ``dlw_warm`` variant fails) when they cannot be started.
    """
    workers = {**environment, "DLW_WORKER_DIR": str(scratch / "workers")}
    started = run_process([*dlw_command(), "worker", "start", "--idle-minutes", "120"], environment=workers,
                          timeout=timeout)
    report_progress(f"dlw worker start: {started.seconds:.1f} s, exit status {started.returncode}")
    try:
        yield ({**workers, "DLW_WORKER": "on", "DLW_COMPILATION_CACHE": tempfile.mkdtemp(dir=scratch)}
               if started.returncode == 0 else None)
    finally:
        run_process([*dlw_command(), "worker", "stop"], environment=workers, timeout=timeout)


def measure_training(workloads: list[Workload], settings: Settings, environment: dict[str, str],
                     scratch: Path, timeout: float) -> dict[str, WorkloadResults]:
    """Measure every variant of every workload, repetitions interleaved.

    Repetition ``r`` of all variants runs before repetition ``r + 1`` of any, so that a
    change in the machine's load spreads over the variants instead of hitting one.

    Args:
        workloads: The workloads, at their epochs.
        settings: Repetitions.
        environment: The children's environment.
        scratch: A folder for registries.
        timeout: Seconds before a process is stopped.

    Returns:
        Results per workload key.
    """
    results = {
        workload.key: WorkloadResults(workload.title, workload.epochs, {
            variant.key: VariantResult(variant.key, variant.label, forward_flops=workload.forward_flops)
            for variant in variants_of(workload)
        })
        for workload in workloads
    }
    with warm_workers(environment, scratch, timeout) as warm_environment:
        for repetition in range(1, settings.repeats + 1):
            for workload in workloads:
                context = RepetitionContext(environment, scratch, timeout, warm_environment=warm_environment)
                _measure_variants(workload, context, results[workload.key], f"{repetition}/{settings.repeats}")
    return results


def _measure_variants(workload: Workload, context: RepetitionContext, results: WorkloadResults, repetition: str) -> None:
    """One repetition (``"r/n"``) of every variant of a workload, in the order of :func:`variants_of`."""
    for variant in variants_of(workload):
        result = results.variants[variant.key]
        try:
            measurement = variant.measure(workload, context)
        except MeasurementFailed as failure:
            result.failures.append(str(failure))
            report_progress(f"[{workload.key} {repetition}] {variant.label}: {failure}")
            continue
        result.measurements.append(measurement)
        report_progress(
            f"[{workload.key} {repetition}] {variant.label}: fit {measurement.fit_seconds:.2f} s, wall "
            f"{measurement.wall_seconds:.2f} s ({measurement.backend}, steps_per_execution "
            f"{measurement.steps_per_execution})"
        )


def measure_cli(settings: Settings, environment: dict[str, str], scratch: Path, timeout: float) -> CliResults:
    """Time ``dlw --help``, the listings over the large registry, the floors, and probe the imports.

    Args:
        settings: Registry size and repetitions.
        environment: The commands' environment.
        scratch: A folder for the registries.
        timeout: Seconds before a command is stopped.

    Returns:
        The command-line results.
    """
    large = scratch / "large-registry"
    started = time.perf_counter()
    written = write_large_registry(registry_url(large), settings.registry_runs)
    registry_seconds = time.perf_counter() - started
    report_progress(f"[cli] registry of {written:,} runs written in {registry_seconds:.1f} s")
    help_result = help_timing(environment, repeats=settings.help_repeats)
    report_progress(f"[cli] dlw --help: {seconds_list(help_result.seconds)}")
    listings = listing_timings(registry_url(large), environment, repeats=settings.command_repeats, timeout=timeout)
    for timing in listings:
        report_progress(f"[cli] {timing.label}: {seconds_list(timing.seconds)} {timing.note}")
    probe = scratch / "probe-registry"
    write_large_registry(registry_url(probe), PROBE_REGISTRY_RUNS)
    modules = {
        "dlw --help": modules_imported(["--help"], environment),
        f"dlw runs ({PROBE_REGISTRY_RUNS} runs)": modules_imported(["runs", "--registry", registry_url(probe)],
                                                                   environment),
    }
    return CliResults(
        help=help_result,
        listings=listings,
        floors=floors(repeats=settings.help_repeats),
        registry_runs=written,
        registry_seconds=registry_seconds,
        registry_megabytes=(large / "registry.db").stat().st_size / 1e6,
        modules=modules,
    )


def output_path(options: argparse.Namespace, settings: Settings) -> Path | None:
    """Where the report goes: ``--output``, else RESULTS.md for a full run of every part, else nowhere.

    Example:
        >>> output_path(parse_options(["--quick"]), QUICK) is None
        True
    """
    if options.output is not None:
        return options.output
    return RESULTS_FILE if settings.mode == "full" and not options.only else None


def run_benchmark(options: argparse.Namespace) -> BenchmarkResults:
    """Measure what the options ask for.

    Args:
        options: From :func:`parse_options`.

    Returns:
        The results.
    """
    settings = settings_from(options)
    parts = options.only or list(PARTS)
    started = time.perf_counter()
    environment = child_environment(options.data_home)
    results = BenchmarkResults(
        mode=settings.mode,
        command_line=shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        repeats=settings.repeats,
        machine=machine_info(),
    )
    results.matmul_gflops.append(matmul_gflops())
    workloads = [WORKLOADS[key].with_epochs(settings.epochs[key]) for key in PARTS if key in parts and key != "cli"]
    with tempfile.TemporaryDirectory(prefix="dlw-benchmark-") as scratch:
        if workloads:
            warm_up(environment)
            results.workloads = measure_training(workloads, settings, environment, Path(scratch), options.timeout)
            results.matmul_gflops.append(matmul_gflops())
        if "cli" in parts:
            results.cli = measure_cli(settings, environment, Path(scratch), options.timeout)
    results.matmul_gflops.append(matmul_gflops())
    results.load_average_end = load_average()
    results.seconds = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the report, and write it where :func:`output_path` says.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    options = parse_options(argv)
    settings = settings_from(options)
    # dlw keeps compiled JAX steps between runs; an empty cache for this benchmark makes its first
    # repetition the cold first run of a spec, and the later ones the runs after it.
    cache = tempfile.mkdtemp(prefix="dlw-benchmark-xla-")
    os.environ["DLW_COMPILATION_CACHE"] = cache
    try:
        results = run_benchmark(options)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    report = render_report(results)
    sys.stdout.write(report)
    if options.raw is not None:
        options.raw.write_text(json.dumps(dataclasses.asdict(results), indent=2, default=str), encoding="utf-8")
        report_progress(f"measurements written to {options.raw}")
    destination = output_path(options, settings)
    if destination is not None:
        destination.write_text(report, encoding="utf-8")
        report_progress(f"report written to {destination}")
    else:
        report_progress("report not written (partial or quick run; pass --output PATH to keep it)")


if __name__ == "__main__":
    main()
