"""Install time and size of dlworkflow's base environment beside plain Keras's (issue 19's last target).

In temporary folders, creates fresh virtual environments and installs into each, with the exact versions of
``constraints.txt`` and this machine's pip configuration (its local wheel folders and indexes):

* ``dlworkflow`` — the README's base install, ``pip install -c constraints.txt .``, from a copy of the working tree
  (tracked and untracked, not ignored, files), so the build leaves nothing in the checkout;
* ``keras + jax`` — plain Keras on the backend dlw runs its examples on, ``pip install -c constraints.txt keras jax``;
* ``keras + tensorflow-cpu`` — plain Keras on the lesson's own backend.

Each variant is installed once unmeasured (a warm-up that fills pip's cache and the page cache), then once measured
in a new environment. Reported per variant: wall time of the measured ``pip install``, the environment's size on disk
(``du``), and the number of installed distributions (pip itself included, as in every fresh venv). The environments
are deleted afterwards. Results go to benchmarks/install_size.md and are printed.

    python benchmarks/install_size.py [--no-warm-up] [--only dlworkflow]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
LARGEST = 8
"""How many of the base environment's largest distributions the report names."""
DISTRIBUTION_SIZES = """
import json, os
from importlib import metadata
sizes = {}
for dist in metadata.distributions():
    total = 0
    for file in dist.files or ():
        path = dist.locate_file(file)
        total += os.path.getsize(path) if os.path.isfile(path) else 0
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""
"""Run in an environment: each installed distribution's bytes (the files its RECORD lists), as JSON."""


@dataclass(frozen=True)
class Variant:
    """One environment to install: its label, the requirements given to pip, the command shown in the report."""

    label: str
    requirements: tuple[str, ...]
    command: str


@dataclass(frozen=True)
class Measurement:
    """What one measured install gave."""

    variant: Variant
    seconds: float
    size_bytes: int
    packages: int
    largest: tuple[tuple[str, int], ...]


def variants(source: Path) -> tuple[Variant, ...]:
    """The three environments compared; ``source`` is the copy of the working tree dlworkflow is installed from."""
    return (
        Variant("dlworkflow (base)", (str(source),), "pip install -c constraints.txt ."),
        Variant("keras + jax", ("keras", "jax"), "pip install -c constraints.txt keras jax"),
        Variant("keras + tensorflow-cpu", ("keras", "tensorflow-cpu"),
                "pip install -c constraints.txt keras tensorflow-cpu"),
        Variant("keras + jax + tensorflow-cpu", ("keras", "jax", "tensorflow-cpu"),
                "pip install -c constraints.txt keras jax tensorflow-cpu"),
    )


def copy_working_tree(target: Path) -> Path:
    """Copy the checkout's tracked and untracked, not ignored, files to ``target``; return it."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listing):
        origin = ROOT / name
        if origin.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)
    return target


def disk_usage(path: Path) -> int:
    """Bytes ``du`` counts for ``path`` (blocks on disk, hard links once)."""
    output = subprocess.run(["du", "-s", "--block-size=1", str(path)], check=True, capture_output=True, text=True)
    return int(output.stdout.split()[0])


def install(variant: Variant, folder: Path) -> Measurement:
    """Create a fresh venv in ``folder``, install ``variant`` into it, and measure the install."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    started = time.perf_counter()
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), *variant.requirements],
        check=False, capture_output=True, text=True, env=environment, cwd=folder.parent,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{variant.command} failed:\n{result.stderr[-3000:]}")
    listed = subprocess.run([str(python), "-c", DISTRIBUTION_SIZES], check=True, capture_output=True, text=True,
                            env=environment)
    sizes = sorted(json.loads(listed.stdout).items(), key=lambda item: -item[1])
    return Measurement(variant, seconds, disk_usage(folder), len(sizes), tuple(sizes[:LARGEST]))


def pip_version() -> str:
    """The pip version a fresh venv of this interpreter gets."""
    return subprocess.run([sys.executable, "-m", "pip", "--version"], check=True, capture_output=True,
                          text=True).stdout.split()[1]


def report(measurements: list[Measurement], warmed: bool) -> str:
    """The Markdown report: a table, each variant's command, the machine and the date."""
    base = next((m for m in measurements if m.variant.label.startswith("dlworkflow")), None)
    lines = [
        "# Install time and size: dlworkflow's base environment beside plain Keras",
        "",
        (f"Measured by `python benchmarks/install_size.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
         f"{platform.node()} ({os.cpu_count()} cores, shared with other work; Python {platform.python_version()}, "
         f"pip {pip_version()}), one measured install each."),
        "",
        "| environment | command | install time | size on disk | packages | size / dlworkflow's |",
        "|---|---|---|---|---|---|",
    ]
    for m in measurements:
        share = f"{m.size_bytes / base.size_bytes:.2f}" if base else ""
        lines.append(f"| {m.variant.label} | `{m.variant.command}` | {m.seconds:.0f} s | "
                     f"{m.size_bytes / 2**30:.2f} GiB | {m.packages} | {share} |")
    lines += [
        "",
        "Each install runs in a fresh `python -m venv`, with the exact versions of `constraints.txt` and this machine's "
        "pip configuration (wheels from local folders and file:// indexes, so no download time is counted). "
        + ("Each variant was installed once before, unmeasured, so pip's cache (including the built dlworkflow wheel's "
           "build dependencies) and the page cache were warm. " if warmed else
           "No warm-up install: pip's cache was as the machine had it. ")
        + "Sizes are `du` of the whole environment (the interpreter links, pip, byte-compiled files included). "
        "dlworkflow is installed from a copy of the working tree (not editable), so its wheel is built each time.",
    ]
    if base:
        largest = ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, size in base.largest)
        lines += ["", f"The base environment's largest distributions (files their RECORD lists): {largest}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-warm-up", action="store_true", help="measure the first install of each variant")
    parser.add_argument("--only", action="append", help="measure only variants whose label starts with this")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dlw-install-size-") as temporary:
        root = Path(temporary)
        chosen = [v for v in variants(copy_working_tree(root / "source"))
                  if not arguments.only or any(v.label.startswith(o) for o in arguments.only)]
        measurements = []
        for index, variant in enumerate(chosen):
            if not arguments.no_warm_up:
                warm = install(variant, root / f"warm-up-{index}")
                print(f"warm-up: {variant.label}: {warm.seconds:.0f} s", file=sys.stderr)
                shutil.rmtree(root / f"warm-up-{index}")
            measured = install(variant, root / f"venv-{index}")
            print(f"measured: {variant.label}: {measured.seconds:.0f} s, {measured.size_bytes / 2**30:.2f} GiB",
                  file=sys.stderr)
            shutil.rmtree(root / f"venv-{index}")
            measurements.append(measured)
    text = report(measurements, warmed=not arguments.no_warm_up)
    if not arguments.only:
        (Path(__file__).parent / "install_size.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
