"""Peak memory of `dlw run` on a folder of generated images, against the size of the decoded images.

Issue 3's target: a folder larger than memory trains with bounded memory, because the images are
read and resized batch by batch. This script generates N images (default 20,000 PNGs of 128x128,
two classes), trains a small CNN for one epoch on them with `dlw run`, and reports the child
process's peak resident memory beside the size the images would take decoded as float32 (what
loading them all into one array would need). Results go to benchmarks/image_folder_memory.md (its
first section; benchmarks/image_folder_throughput.py writes the throughput section below it).

    python benchmarks/image_folder_memory.py [--images 20000] [--size 128]
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SPEC = """
name = "memory_benchmark"
description = "generated images, one epoch"

[data]
path = "{folder}"
image_size = [{size}, {size}]
scaling = "pixels"
target_encoding = "integer"

[split]
type = "stratified"
test = 0.1
validation = 0.1
seed = 0

[[model.layers]]
type = "Conv2D"
filters = 16
kernel_size = [3, 3]
strides = [2, 2]
activation = "relu"

[[model.layers]]
type = "MaxPooling2D"
pool_size = [2, 2]

[[model.layers]]
type = "GlobalAveragePooling2D"

[[model.layers]]
type = "Dense"
units = 2

[train]
loss = {{ type = "SparseCategoricalCrossentropy", from_logits = true }}
epochs = 1
batch_size = 64
"""


def generate(folder: Path, count: int, size: int) -> int:
    """Write `count` PNGs in two class folders; returns the bytes on disk."""
    rng = np.random.default_rng(0)
    total = 0
    for index in range(count):
        label = "bright" if index % 2 else "dark"
        directory = folder / label
        directory.mkdir(parents=True, exist_ok=True)
        base = 160 if label == "bright" else 60
        pixels = np.clip(rng.normal(base, 40, size=(size, size, 3)), 0, 255).astype(np.uint8)
        path = directory / f"{index:06d}.png"
        Image.fromarray(pixels).save(path, compress_level=1)
        total += path.stat().st_size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=128)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        started = time.perf_counter()
        on_disk = generate(root / "images", arguments.images, arguments.size)
        generated = time.perf_counter() - started
        spec = root / "spec.toml"
        spec.write_text(SPEC.format(folder=root / "images", size=arguments.size))
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "dlworkflow.cli", "run", str(spec), "--quiet",
             "--registry", f"sqlite:///{root / 'registry.db'}"],
            check=False, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"dlw run failed:\n{result.stderr[-3000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux

    decoded = arguments.images * arguments.size * arguments.size * 3 * 4
    ratio = peak / decoded
    lines = [
        "# Image folder: peak memory of one epoch",
        "",
        (f"Measured by `benchmarks/image_folder_memory.py` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()})."),
        "",
        "| images | size | on disk | decoded float32 | peak RSS of `dlw run` | peak / decoded | time (1 epoch + eval) |",
        "|---|---|---|---|---|---|---|",
        (f"| {arguments.images:,} | {arguments.size}x{arguments.size} | {on_disk / 2**20:,.0f} MiB | "
        f"{decoded / 2**20:,.0f} MiB | {peak / 2**20:,.0f} MiB | {ratio:.2f} | {seconds:.0f} s |"),
        "",
        (f"Generating the images took {generated:.0f} s. Peak RSS includes the Python interpreter, "
        "Keras and TensorFlow themselves (several hundred MiB before the first image is read)."),
        "",
        "Target: peak well under the decoded size — " + ("holds." if ratio < 0.5 else "does NOT hold."),
    ]
    report = "\n".join(lines) + "\n"
    target = Path(__file__).parent / "image_folder_memory.md"
    kept = target.read_text().find("\n## ") if target.exists() else -1
    # Keep the sections other scripts write below this one (image_folder_throughput.py's).
    target.write_text(report + (target.read_text()[kept:] if kept >= 0 else ""))
    print(report)


if __name__ == "__main__":
    main()
