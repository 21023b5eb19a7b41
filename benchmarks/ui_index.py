"""How fast ``dlw ui`` answers its index page and ``/api/runs`` on a large registry (issue 20: under 1 s at 100,000 runs).

Writes a registry of generated runs (:mod:`benchmarks.large_registry`), then asks the Starlette
application in process (no network) for ``/``, ``/api/runs``, a filtered page and a deep page,
several times each, and prints the median and the slowest answer.

Run:
    python benchmarks/ui_index.py --runs 100000

Example:
    >>> main(["--runs", "1000", "--repeats", "1"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_registry import write_large_registry

QUERIES = {
    "index /": "/",
    "api /api/runs": "/api/runs",
    "filtered (name, status, dates, newest)": "/?name=weather&status=finished&since=2025-03-01&until=2026-12-31&sort=newest",
    "deep page (page 200 of 50)": "/?test_set=weather_3_years_v1&page=200",
}


def main(argv: list[str] | None = None) -> int:
    """Write the registry, time each query, print a table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args(argv)
    from starlette.testclient import TestClient

    from dlworkflow.ui.app import create_app
    from dlworkflow.ui.settings import ServerSettings

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/registry.db"
        started = time.perf_counter()
        count = write_large_registry(url, arguments.runs)
        print(f"registry of {count:,} runs written in {time.perf_counter() - started:.1f} s")
        with TestClient(create_app(ServerSettings(registry=url)), base_url="http://127.0.0.1:8765") as client:
            for label, path in QUERIES.items():
                client.get(path)  # warm: the first answer opens the connection
                seconds = []
                for _ in range(arguments.repeats):
                    started = time.perf_counter()
                    answer = client.get(path)
                    seconds.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text[:300]
                print(f"{label:45s} median {statistics.median(seconds):.3f} s, slowest {max(seconds):.3f} s, "
                      f"{len(answer.content) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
