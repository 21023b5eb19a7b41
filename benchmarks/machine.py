"""What the benchmark ran on: CPU, cores, memory, load, versions; and the numpy matmul reference.

Example:
    >>> info = machine_info()
    >>> sorted(info)[:3]
    ['cores', 'cpu', 'date']
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

VERSIONED_PACKAGES = ("keras", "tensorflow-cpu", "jax", "jaxlib", "optax", "numpy", "dlworkflow")
"""Packages whose installed versions are reported."""


def cpu_model() -> str:
    """Return the CPU's model name from ``/proc/cpuinfo`` (or the platform's processor string).

    Example:
        >>> isinstance(cpu_model(), str)
        True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    """Return the machine's memory in GiB from ``/proc/meminfo``, or None where it is missing.

    Example:
        >>> (memory_gib() or 1) > 0
        True
    """
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError):
        pass
    return None


def package_version(name: str) -> str:
    """Return an installed package's version, or ``not installed``.

    Example:
        >>> package_version("no-such-package-here")
        'not installed'
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """Return the 1, 5 and 15-minute load averages (``-`` where unknown).

    Example:
        >>> len(load_average().split(" / "))
        3
    """
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "- / - / -"


def machine_info() -> dict[str, object]:
    """Describe this machine and the software measured.

    Returns:
        ``cpu``, ``cores``, ``memory_gib``, ``python``, ``platform``, ``versions``,
        ``load_average`` and ``date`` (UTC, ISO 8601).

    Example:
        >>> machine_info()["cores"] == os.cpu_count()
        True
    """
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: package_version(name) for name in VERSIONED_PACKAGES},
        "load_average": load_average(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def matmul_gflops(size: int = 2048, repeats: int = 7) -> float:
    """Measure numpy's float32 matrix product: the best of ``repeats`` products of two ``size`` squares.

    Args:
        size: The matrices' side.
        repeats: Products timed; the fastest counts.

    Returns:
        GFLOP/s, counting ``2 * size**3`` operations per product.

    Example:
        >>> matmul_gflops(size=64, repeats=2) > 0
        True
    """
    import numpy as np

    generator = np.random.default_rng(0)
    left = generator.standard_normal((size, size), dtype=np.float32)
    right = generator.standard_normal((size, size), dtype=np.float32)
    product = np.empty((size, size), dtype=np.float32)
    np.matmul(left, right, out=product)  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.matmul(left, right, out=product)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9
