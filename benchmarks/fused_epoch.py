"""The weather fit three ways: Keras' own loop, dlw's fused epoch, the hand-written jitted loop.

Each measurement is a fresh process; the variants take turns (round-robin) so that other
work on the machine falls on all of them alike, and the report gives the median and the
range. ``keras`` and ``fused`` are dlworkflow's own ``fit_model`` on ``examples/weather.toml``
(Dense 100-50-1, 767 rows, batch 32, steps_per_execution 24, validation every epoch), with
``DLW_FUSED_EPOCH=0`` and ``1``; ``jax_loop`` is ``benchmarks/jax_loop.py``.

Figures per run: ``fit`` (seconds in ``fit``, compiling included), ``first`` (the first epoch:
mostly compiling), ``epoch_ms`` (median milliseconds of the later epochs) and ``cpu`` (CPU
seconds of the process during ``fit``, less sensitive to other work on the machine). With
``--cache warm`` dlw's compilation cache is filled by one run of each variant first (as after
a spec's first run); ``cold`` turns it off (every run compiles).

Example:
    python benchmarks/fused_epoch.py --repeats 3 --cache cold
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
VARIANTS = ("keras", "fused", "jax_loop")


def measure_in_process(variant: str, epochs: int) -> dict[str, Any]:
    """Train the weather spec with ``fit_model`` in this process and time it (``keras`` or ``fused``)."""
    os.environ["DLW_FUSED_EPOCH"] = "1" if variant == "fused" else "0"
    from dlworkflow.data import build_dataset
    from dlworkflow.spec import load_spec
    from dlworkflow.training import activate_backend

    spec = load_spec(REPOSITORY / "examples" / "weather.toml", [f"train.epochs={epochs}"])
    dataset = build_dataset(spec)
    activate_backend("jax")
    import keras

    from dlworkflow.models import build_model
    from dlworkflow.training import compile_model, fit_model, seed_everything

    class EpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.ends: list[float] = []

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.ends.append(time.perf_counter())

    seed_everything(spec.train.seed)
    model = compile_model(build_model(spec, dataset), spec, dataset)
    clock = EpochClock()
    cpu = time.process_time()
    started = time.perf_counter()
    result = fit_model(model, spec, dataset, quiet=True, callbacks=[clock])
    cpu = time.process_time() - cpu
    epochs_ms = [1000 * (b - a) for a, b in zip(clock.ends, clock.ends[1:], strict=False)]
    return {"variant": variant, "fused_epoch": result.fused_epoch, "fit": result.seconds,
            "first": clock.ends[0] - started, "epoch_ms": statistics.median(epochs_ms), "cpu": cpu,
            "loss": float(result.history["loss"].iloc[-1]), "val_loss": float(result.history["val_loss"].iloc[-1])}


def run_variant(variant: str, epochs: int, cache: str) -> dict[str, Any]:
    """One measurement in a fresh process."""
    environment = {**os.environ, "DLW_COMPILATION_CACHE": cache, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    if variant == "jax_loop":
        command = [sys.executable, str(HERE / "jax_loop.py"), "--epochs", str(epochs)]
        output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment, cwd=HERE)
        result = json.loads(output.stdout.strip().splitlines()[-1])
        steady = (result["fit_seconds"] - result["compile_seconds"]) / epochs
        return {"variant": variant, "fit": result["fit_seconds"], "first": result["compile_seconds"],
                "epoch_ms": 1000 * steady,
                "loss": result["last_epoch"]["loss"], "val_loss": result["last_epoch"]["val_loss"]}
    command = [sys.executable, __file__, "--inside", variant, "--epochs", str(epochs)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return json.loads(output.stdout.strip().splitlines()[-1])


def summary(rows: list[dict[str, Any]], key: str) -> str:
    values = [row[key] for row in rows if key in row]
    if not values:
        return "-"
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def main() -> None:
    """Measure and print a Markdown table and the raw rows as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold")
    parser.add_argument("--inside", choices=("keras", "fused"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.inside:
        print(json.dumps(measure_in_process(options.inside, options.epochs)))
        return
    with tempfile.TemporaryDirectory() as folder:
        cache = "off" if options.cache == "cold" else folder
        if options.cache == "warm":
            for variant in VARIANTS[:2]:
                run_variant(variant, 2, cache)
        rows: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for _ in range(options.repeats):
            for variant in VARIANTS:
                row = run_variant(variant, options.epochs, cache)
                rows[variant].append(row)
                print(json.dumps(row), file=sys.stderr)
    print(f"weather fit, {options.epochs} epochs, compilation cache {options.cache}, "
          f"median of {options.repeats} (min-max), variants round-robin\n")
    print("| variant | fit s | first epoch s | later epochs ms | CPU s in fit |")
    print("|---|---|---|---|---|")
    for variant in VARIANTS:
        print(f"| {variant} | {summary(rows[variant], 'fit')} | {summary(rows[variant], 'first')} | "
              f"{summary(rows[variant], 'epoch_ms')} | {summary(rows[variant], 'cpu')} |")
    fused = statistics.median(row["fit"] for row in rows["fused"])
    print(f"\nfused / keras: {fused / statistics.median(row['fit'] for row in rows['keras']):.2f}x; "
          f"fused / jax_loop: {fused / statistics.median(row['fit'] for row in rows['jax_loop']):.2f}x")


if __name__ == "__main__":
    main()
