"""The training workloads and the ways each is trained: dlw, the lesson's Keras code, the limit.

Variants (keys as in the report):

- ``dlw``: ``dlw run SPEC --quiet`` with default settings into a fresh registry; training
  seconds, backend and ``steps_per_execution`` are read back from the run's record.
- ``dlw_warm``: the same ``dlw run`` handed to a warm worker (``dlw worker start``, started
  before the measurements), with a compilation cache of its own (empty for its first run).
- ``same_call``: the lesson script with dlw's backend, ``steps_per_execution``, batch
  size, epochs, training rows and validation, seed, ``verbose=0`` and float32 arrays: the
  identical ``model.fit`` call without the tool around it (the tool's overhead).
- ``lesson_tensorflow`` / ``lesson_jax``: the lesson's own code and settings on each backend.
- ``jax_loop``: the hand-written jitted loop (weather only), the practical limit.

Example:
    >>> [variant.key for variant in variants_of(WORKLOADS["weather"])]
    ['dlw', 'dlw_warm', 'same_call', 'lesson_tensorflow', 'lesson_jax', 'jax_loop']
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flops import forward_flops_per_sample, spec_layers
from processes import (
    REPOSITORY_ROOT,
    MeasurementFailed,
    dlw_command,
    last_json_line,
    python_command,
    reading,
    run_process,
)
from results import Measurement

MEASUREMENT_FIELDS = frozenset({"fit_seconds", "backend", "steps_per_execution", "train_samples",
                                "validation_samples", "epochs", "batch_size"})
"""The keys of a script's result line that become :class:`~results.Measurement` fields; the rest are details."""


@dataclass(frozen=True)
class Workload:
    """A model, its data and its training settings, as a spec and as the lesson's code.

    Attributes:
        key: ``weather``, ``penguins`` or ``cifar``.
        title: What the report calls it.
        spec: The dlworkflow spec (relative to the checkout).
        epochs: Epochs to train.
        input_shape: One sample's shape (for the FLOP count).
        lesson_script: The plain-Keras script in ``benchmarks/``.
        has_limit: Whether the hand-written JAX loop exists for it.
        rows_option: The lesson script's option that sets its training rows to dlw's, or
            None where the lesson's split already gives dlw's rows.
    """

    key: str
    title: str
    spec: Path
    epochs: int
    input_shape: tuple[int, ...]
    lesson_script: str
    has_limit: bool
    rows_option: str | None = None

    def with_epochs(self, epochs: int) -> Workload:
        """The same workload trained for another number of epochs.

        Example:
            >>> WORKLOADS["weather"].with_epochs(5).epochs
            5
        """
        return dataclasses.replace(self, epochs=epochs)

    @property
    def forward_flops(self) -> int:
        """Analytic forward FLOPs per sample of the spec's network."""
        return forward_flops_per_sample(spec_layers(REPOSITORY_ROOT / self.spec), self.input_shape)


WORKLOADS = {
    "weather": Workload(
        "weather", "weather: Dense 100-50-1, 767 rows, batch 32, validation each epoch",
        Path("examples/weather.toml"), 200, (89,), "lesson_weather.py", True,
    ),
    "penguins": Workload(
        "penguins", "penguins: Dense 10-3 softmax, 273 rows, batch 32, no validation",
        Path("examples/penguins.toml"), 100, (4,), "lesson_penguins.py", False,
    ),
    "cifar": Workload(
        "cifar", "CIFAR-10 subset: 87,060-parameter CNN, batch 32, validation each epoch",
        Path("examples/cifar10_extra_layer.toml"), 3, (32, 32, 3), "lesson_cifar.py", False, "--train-rows",
    ),
}
"""The issues' workloads, at the issues' epochs."""


@dataclass(frozen=True)
class Variant:
    """One way of training a workload.

    Attributes:
        key: Short identifier.
        label: What the report calls it.
        measure: ``measure(workload, context)`` runs it once in a fresh process.
    """

    key: str
    label: str
    measure: Callable[[Workload, RepetitionContext], Measurement]


@dataclass
class RepetitionContext:
    """What the variants of one repetition share.

    Attributes:
        environment: The children's environment.
        scratch: A folder for registries.
        timeout: Seconds before a process is stopped.
        dlw_measurement: dlw's measurement in this repetition, once made (``same_call`` copies
            its settings).
        warm_environment: The environment of commands for the warm workers (None: none started).
    """

    environment: dict[str, str]
    scratch: Path
    timeout: float
    dlw_measurement: Measurement | None = None
    warm_environment: dict[str, str] | None = None


def measure_dlw(workload: Workload, context: RepetitionContext, *, warm: bool = False) -> Measurement:
    """Run ``dlw run`` with default settings into a fresh registry and read the run's record.

    Args:
        workload: What to train.
        context: The repetition's environment and scratch folder.
        warm: Hand the command to the warm workers (:attr:`RepetitionContext.warm_environment`).

    Returns:
        The measurement (training seconds from ``record["timings"]["train"]``).

    Raises:
        MeasurementFailed: When the run fails or its record cannot be read, or no worker runs.
    """
    if warm and context.warm_environment is None:
        raise MeasurementFailed("no warm worker was started")
    folder = Path(tempfile.mkdtemp(prefix=f"dlw-{workload.key}-", dir=context.scratch))
    registry = f"sqlite:///{folder / 'registry.db'}"
    command = [*dlw_command(), "run", str(workload.spec), "--quiet", "--registry", registry,
               "--set", f"train.epochs={workload.epochs}"]
    environment = context.warm_environment if warm else context.environment
    completed = run_process(command, environment=environment, timeout=context.timeout)
    if completed.returncode != 0:
        raise MeasurementFailed(completed.failure("dlw run"))
    with reading("dlw's run record"):
        measurement = measurement_from_record(read_only_record(registry, context), completed.seconds)
    if warm and measurement.details.get("timings", {}).get("imports", 0.0) > 0.5:
        raise MeasurementFailed("the run imported Keras itself: no warm worker served it")
    if not warm:
        context.dlw_measurement = measurement
    return measurement


def measure_dlw_warm(workload: Workload, context: RepetitionContext) -> Measurement:
    """``dlw run`` as :func:`measure_dlw` does, served by a warm worker."""
    return measure_dlw(workload, context, warm=True)


def measurement_from_record(record: dict[str, Any], wall_seconds: float) -> Measurement:
    """Turn a run record (``dlw show --json``) into a measurement.

    Args:
        record: The record.
        wall_seconds: How long ``dlw run`` took.

    Returns:
        The measurement (training seconds from ``record["timings"]["train"]``;
        ``steps_per_execution`` 1 where the record does not say).

    Raises:
        MeasurementFailed: For a run that did not finish.
        KeyError: For a record without the fields read.
    """
    if record.get("status") != "finished":
        raise MeasurementFailed(f"dlw run recorded a {record.get('status')} run: {record.get('error')}")
    training = record["training"]
    return Measurement(
        wall_seconds=wall_seconds,
        fit_seconds=float(record["timings"]["train"]),
        backend=str(record["backend"]),
        steps_per_execution=int(training.get("steps_per_execution") or 1),
        train_samples=int(record["split"]["train"]),
        validation_samples=int(record["split"].get("validation") or 0),
        epochs=int(training["epochs_run"]),
        batch_size=int(record["spec"]["train"]["batch_size"]),
        details={"timings": record["timings"], "run_id": record["id"], "seed": record["spec"]["train"].get("seed")},
    )


def read_only_record(registry: str, context: RepetitionContext) -> dict[str, Any]:
    """Read the one run of a registry through ``dlw runs --json`` and ``dlw show --json``.

    Args:
        registry: The registry URL.
        context: The repetition's environment.

    Returns:
        The run's record.

    Raises:
        MeasurementFailed: When either command fails or the registry does not hold one run.
    """
    listed = run_process([*dlw_command(), "runs", "--json", "--registry", registry],
                         environment=context.environment, timeout=context.timeout)
    if listed.returncode != 0:
        raise MeasurementFailed(listed.failure("dlw runs --json"))
    with reading("dlw runs --json"):
        rows = json.loads(listed.stdout)
    if len(rows) != 1:
        raise MeasurementFailed(f"expected one run in {registry}, found {len(rows)}")
    shown = run_process([*dlw_command(), "show", rows[0]["id"], "--json", "--registry", registry],
                        environment=context.environment, timeout=context.timeout)
    if shown.returncode != 0:
        raise MeasurementFailed(shown.failure("dlw show --json"))
    with reading("dlw show --json"):
        return json.loads(shown.stdout)


def measure_script(command: list[str], context: RepetitionContext) -> Measurement:
    """Run one of the measured scripts and turn its JSON line into a measurement.

    Args:
        command: The script's command line.
        context: The repetition's environment.

    Returns:
        The measurement.

    Raises:
        MeasurementFailed: When the script fails or prints no result.
    """
    completed = run_process(command, environment=context.environment, timeout=context.timeout)
    if completed.returncode != 0:
        raise MeasurementFailed(completed.failure(Path(command[1]).name))
    result = last_json_line(completed.stdout)
    with reading(f"the result line of {Path(command[1]).name}"):
        return measurement_from_result(result, completed.seconds)


def measurement_from_result(result: dict[str, Any], wall_seconds: float) -> Measurement:
    """Turn a script's JSON line into a measurement.

    Args:
        result: The parsed line.
        wall_seconds: How long the script's process took.

    Returns:
        The measurement.

    Raises:
        KeyError: For a line without the fields read.
    """
    return Measurement(
        wall_seconds=wall_seconds,
        fit_seconds=float(result["fit_seconds"]),
        backend=str(result["backend"]),
        steps_per_execution=int(result["steps_per_execution"]),
        train_samples=int(result["train_samples"]),
        validation_samples=int(result["validation_samples"]),
        epochs=int(result["epochs"]),
        batch_size=int(result["batch_size"]),
        details={key: value for key, value in result.items() if key not in MEASUREMENT_FIELDS},
    )


def lesson_variant(backend: str) -> Callable[[Workload, RepetitionContext], Measurement]:
    """The lesson's own code on one backend, with the lesson's settings.

    Args:
        backend: ``tensorflow`` or ``jax``.

    Returns:
        A ``measure`` function for :class:`Variant`.
    """

    def measure(workload: Workload, context: RepetitionContext) -> Measurement:
        command = [*python_command(workload.lesson_script), "--backend", backend, "--epochs", str(workload.epochs)]
        return measure_script(command, context)

    return measure


def measure_same_call(workload: Workload, context: RepetitionContext) -> Measurement:
    """The lesson script with exactly dlw's ``model.fit`` settings of this repetition.

    Args:
        workload: What to train.
        context: The repetition, holding dlw's measurement.

    Returns:
        The measurement.

    Raises:
        MeasurementFailed: Without a dlw measurement in this repetition, or when the
            script fails or trains different sizes than dlw did.
    """
    reference = context.dlw_measurement
    if reference is None:
        raise MeasurementFailed("needs dlw's settings, but dlw run failed in this repetition")
    command = [
        *python_command(workload.lesson_script),
        "--backend", reference.backend,
        "--steps-per-execution", str(reference.steps_per_execution),
        "--epochs", str(reference.epochs),
        "--verbose", "0",
        "--float32",
    ]
    if reference.details.get("seed") is not None:
        command += ["--seed", str(reference.details["seed"])]
    if workload.rows_option is not None:
        command += [workload.rows_option, str(reference.train_samples)]
    measurement = measure_script(command, context)
    same = (measurement.train_samples, measurement.validation_samples, measurement.batch_size)
    expected = (reference.train_samples, reference.validation_samples, reference.batch_size)
    if same != expected:
        raise MeasurementFailed(f"the plain call trained (rows, validation rows, batch) {same}, dlw {expected}")
    return measurement


def measure_jax_loop(workload: Workload, context: RepetitionContext) -> Measurement:
    """The hand-written JAX loop for the weather model.

    Args:
        workload: The weather workload (its epochs).
        context: The repetition's environment.

    Returns:
        The measurement.
    """
    return measure_script([*python_command("jax_loop.py"), "--epochs", str(workload.epochs)], context)


def variants_of(workload: Workload) -> list[Variant]:
    """The variants measured for a workload, in the order they run within a repetition.

    ``dlw`` comes first: ``same_call`` copies its settings.

    Args:
        workload: A workload.

    Returns:
        The variants.
    """
    variants = [
        Variant("dlw", "dlw run, default settings", measure_dlw),
        Variant("dlw_warm", "dlw run, warm worker", measure_dlw_warm),
        Variant("same_call", "plain Keras, dlw's own fit call", measure_same_call),
        Variant("lesson_tensorflow", "lesson code, TensorFlow", lesson_variant("tensorflow")),
        Variant("lesson_jax", "lesson code, JAX", lesson_variant("jax")),
    ]
    if workload.has_limit:
        variants.append(Variant("jax_loop", "hand-written jitted JAX loop", measure_jax_loop))
    return variants
