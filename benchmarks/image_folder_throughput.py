"""Training throughput on an image folder against the same images as in-memory arrays (issue 19's target).

Issue 19: "image folder of 20,000 images: peak memory stays <= 0.3x the decoded size, throughput >= 0.9x the same
model on in-memory arrays". This script generates N images (default 20,000 PNGs of 128x128, two classes, the ones
`image_folder_memory.py` makes), and trains the same small CNN on them twice with `dlw run`, each in its own process
(no warm worker):

* ``folder`` — ``data.path`` is the folder: the images are read, resized and scaled batch by batch;
* ``arrays`` — ``data.path`` is an ``.npz`` of the same decoded images (``x_train``/``x_test``; the folder run's
  test images are its test arrays, every tenth image, and a validation fraction of 1/9 of the rest gives the same
  16,000 / 2,000 / 2,000 sizes), loaded into memory as one float32 array.

Throughput is training images x epochs over the run record's ``timings["train"]`` (the fit, validation included,
in both). Reported beside it: each process's peak resident memory against the images' decoded float32 size, and
the folder/arrays ratio against the 0.9 target. The result replaces the "Throughput" section of
benchmarks/image_folder_memory.md and is printed.

    python benchmarks/image_folder_throughput.py [--images 20000] [--size 128] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from image_folder_memory import SPEC, generate
from PIL import Image

REPORT = Path(__file__).parent / "image_folder_memory.md"
SECTION = "## Throughput: folder against in-memory arrays"
TEST_EVERY = 10
"""Every tenth image is a test image in the arrays variant (the folder's stratified split also keeps a tenth)."""


@dataclass(frozen=True)
class Variant:
    """One measured `dlw run`: what it read and what its record and process gave."""

    label: str
    train_images: int
    epochs: int
    train_seconds: float
    wall_seconds: float
    peak_bytes: int
    sizes: dict[str, int]
    backend: str

    @property
    def throughput(self) -> float:
        """Training images per second of the fit."""
        return self.train_images * self.epochs / self.train_seconds


def write_arrays(folder: Path, target: Path) -> None:
    """Decode every image of ``folder`` (sorted by class, then name) into an ``.npz`` of uint8 arrays."""
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    files = [(label, path) for label, name in enumerate(class_names) for path in sorted((folder / name).iterdir())]
    images = np.stack([np.asarray(Image.open(path).convert("RGB")) for _, path in files])
    labels = np.array([label for label, _ in files], dtype=np.int64)
    test = np.arange(len(files)) % TEST_EVERY == 0
    np.savez(target, x_train=images[~test], y_train=labels[~test], x_test=images[test], y_test=labels[test],
             class_names=np.array(class_names))


def arrays_spec(folder_spec: str, npz: Path) -> str:
    """The folder spec with the ``.npz`` as data and a validation fraction giving the folder run's sizes."""
    lines = []
    for line in folder_spec.splitlines():
        if line.startswith("path = "):
            line = f'path = "{npz}"'
        elif line.startswith("test = "):
            continue
        elif line.startswith("validation = "):
            line = "validation = 0.1111111111111111"
        lines.append(line)
    return "\n".join(lines) + "\n"


def dlw_run(label: str, spec: Path, registry: str, epochs: int) -> Variant:
    """Run ``dlw run`` on ``spec`` in its own process; read its record back."""
    environment = {**os.environ, "DLW_WORKER": "off"}
    log = spec.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "dlworkflow.cli", "run", str(spec), "--quiet", "--registry", registry],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
        )
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"dlw run ({label}) failed:\n{log.read_text()[-3000:]}")
    record = _dlw_json(["runs", "--json", "--registry", registry])[0]
    shown = _dlw_json(["show", str(record["id"]), "--json", "--registry", registry])
    sizes = {name: int(shown["split"][name] or 0) for name in ("train", "validation", "test")}
    return Variant(label, sizes["train"], epochs, float(shown["timings"]["train"]), wall,
                   usage.ru_maxrss * 1024, sizes, str(shown.get("backend")))


def _dlw_json(arguments: list[str]) -> object:
    output = subprocess.run([sys.executable, "-m", "dlworkflow.cli", *arguments], check=True, capture_output=True,
                            text=True, env={**os.environ, "DLW_WORKER": "off"})
    return json.loads(output.stdout)


def section(variants: list[Variant], images: int, size: int, decoded: int, generated: float) -> str:
    """The Markdown section: one row per variant, the ratio against the target."""
    folder, arrays = variants
    ratio = folder.throughput / arrays.throughput
    lines = [
        SECTION,
        "",
        (f"Measured by `python benchmarks/image_folder_throughput.py --images {images} --size {size} "
         f"--epochs {folder.epochs}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} "
         f"({os.cpu_count()} cores, shared with other work; Python {platform.python_version()}), backend "
         f"{folder.backend}; one `dlw run` each, in its own process (no warm worker)."),
        "",
        ("| data | train / validation / test | fit (`timings[\"train\"]`) | training images/s | peak RSS | "
         "peak / decoded | whole `dlw run` |"),
        "|---|---|---|---|---|---|---|",
    ]
    for v in variants:
        parts = " / ".join(f"{v.sizes.get(name, 0):,}" for name in ("train", "validation", "test"))
        lines.append(f"| {v.label} | {parts} | {v.train_seconds:.1f} s | {v.throughput:,.0f} | "
                     f"{v.peak_bytes / 2**20:,.0f} MiB | {v.peak_bytes / decoded:.2f} | {v.wall_seconds:.0f} s |")
    lines += [
        "",
        (f"Decoded float32 size of the {images:,} images: {decoded / 2**20:,.0f} MiB. Generating them took "
         f"{generated:.0f} s; the arrays variant's `.npz` holds them decoded as uint8. Training images/s = training "
         f"images x {folder.epochs} epochs / the fit's seconds (validation after each epoch included in both)."),
        "",
        (f"Throughput folder / arrays: **{ratio:.2f}** (target >= 0.9: "
         + ("holds)." if ratio >= 0.9 else "does NOT hold).")),
    ]
    return "\n".join(lines) + "\n"


def replace_section(text: str, new: str) -> str:
    """``text`` with its throughput section (to the next ``## `` heading or the end) replaced by ``new``."""
    start = text.find(SECTION)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + new
    end = text.find("\n## ", start + len(SECTION))
    return text[:start] + new + (text[end + 1:] if end >= 0 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dlw-throughput-") as temporary:
        root = Path(temporary)
        started = time.perf_counter()
        generate(root / "images", arguments.images, arguments.size)
        generated = time.perf_counter() - started
        write_arrays(root / "images", root / "images.npz")
        folder_spec = SPEC.format(folder=root / "images", size=arguments.size).replace(
            "epochs = 1", f"epochs = {arguments.epochs}")
        (root / "folder.toml").write_text(folder_spec)
        (root / "arrays.toml").write_text(arrays_spec(folder_spec, root / "images.npz"))
        variants = [
            dlw_run(label, root / f"{name}.toml", f"sqlite:///{root / name}.db", arguments.epochs)
            for label, name in (("folder (streamed)", "folder"), ("in-memory arrays (.npz)", "arrays"))
        ]
    decoded = arguments.images * arguments.size * arguments.size * 3 * 4
    new = section(variants, arguments.images, arguments.size, decoded, generated)
    if not arguments.no_write:
        REPORT.write_text(replace_section(REPORT.read_text(), new))
    print(new)


if __name__ == "__main__":
    main()
