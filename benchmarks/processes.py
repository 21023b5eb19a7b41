"""Running measured commands in fresh processes: the environment they get, their clock, their output.

Every measurement of ``run.py`` is a new process, so that each gets its own Keras backend
and nothing (compiled functions, warm caches inside Python) carries over between them.

Example:
    >>> completed = run_process([sys.executable, "-c", "print('{\\"a\\": 1}')"], environment=child_environment())
    >>> completed.returncode, last_json_line(completed.stdout)
    (0, {'a': 1})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measurement import REPOSITORY_ROOT

BENCHMARKS = REPOSITORY_ROOT / "benchmarks"
"""This folder (measured commands run in the checkout, :data:`measurement.REPOSITORY_ROOT`)."""

REMOVED_VARIABLES = ("KERAS_BACKEND", "DLW_REGISTRY", "COLUMNS", "LINES")
"""Variables taken out of the children's environment: each child chooses its backend and
registry explicitly, and ``dlw runs`` prints at rich's default width for a pipe (80)."""


class MeasurementFailed(RuntimeError):
    """A measured command exited non-zero, timed out, or printed no result."""


@dataclass(frozen=True)
class Completed:
    """A finished command.

    Attributes:
        seconds: Wall-clock seconds from start to exit.
        returncode: Its exit status (None when it was stopped at the time limit).
        stdout: What it printed on standard output.
        stderr: What it printed on standard error.
    """

    seconds: float
    returncode: int | None
    stdout: str
    stderr: str

    def failure(self, label: str) -> str:
        """Describe why the command failed, with the last line it printed on standard error.

        Args:
            label: What the command was.

        Returns:
            One line.

        Example:
            >>> Completed(1.0, 2, "", "boom\\nerror: bad spec\\n").failure("dlw run")
            'dlw run exited with 2: error: bad spec'
        """
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "(nothing on standard error)"
        if self.returncode is None:
            return f"{label} was stopped after {self.seconds:.0f} s: {last}"
        return f"{label} exited with {self.returncode}: {last}"


def child_environment(data_home: Path | None = None) -> dict[str, str]:
    """The environment of a measured process: this one's, minus :data:`REMOVED_VARIABLES`.

    Args:
        data_home: Set as ``DLW_DATA_HOME`` when given.

    Returns:
        The variables.

    Example:
        >>> "KERAS_BACKEND" in child_environment()
        False
    """
    environment = {name: value for name, value in os.environ.items() if name not in REMOVED_VARIABLES}
    environment["DLW_WORKER"] = "off"  # a warm worker runs only the variant that asks for one
    if data_home is not None:
        environment["DLW_DATA_HOME"] = str(data_home)
    return environment


def dlw_command() -> list[str]:
    """The ``dlw`` console script of this Python environment.

    Returns:
        ``[path]`` of the script beside this interpreter, else the one on ``PATH``.

    Raises:
        MeasurementFailed: When there is none.

    Example:
        >>> Path(dlw_command()[0]).name  # doctest: +SKIP
        'dlw'
    """
    beside = Path(sys.executable).with_name("dlw")
    found = str(beside) if beside.exists() else shutil.which("dlw")
    if found is None:
        raise MeasurementFailed("no dlw command: install dlworkflow into this environment "
                                "(pip install -c constraints.txt \".[benchmark]\")")
    return [found]


def python_command(script: str) -> list[str]:
    """The command that runs one of this folder's scripts with this interpreter.

    Args:
        script: A file name in ``benchmarks/``.

    Returns:
        The command's first words.

    Example:
        >>> python_command("jax_loop.py")[-1].endswith("benchmarks/jax_loop.py")
        True
    """
    return [sys.executable, str(BENCHMARKS / script)]


def run_process(command: list[str], *, environment: dict[str, str], timeout: float = 600.0) -> Completed:
    """Run a command to its end in the checkout, with standard output and error read through pipes.

    Args:
        command: The command and its arguments.
        environment: Its environment.
        timeout: Seconds after which it is stopped.

    Returns:
        The :class:`Completed` command; ``returncode`` None if it was stopped.

    Example:
        >>> run_process(["true"], environment=child_environment()).returncode
        0
    """
    started = time.perf_counter()
    try:
        finished = subprocess.run(
            command, cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) else expired.stderr
        return Completed(time.perf_counter() - started, None, "", stderr or "")
    return Completed(time.perf_counter() - started, finished.returncode, finished.stdout, finished.stderr)


@contextlib.contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn a missing key or an unreadable value in a command's output into :class:`MeasurementFailed`.

    Args:
        what: What is being read, for the message.

    Example:
        >>> with reading("the record"):
        ...     {}["timings"]
        Traceback (most recent call last):
        ...
        processes.MeasurementFailed: the record is not as expected: KeyError 'timings'
    """
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise MeasurementFailed(f"{what} is not as expected: {type(err).__name__} {err}") from err


def last_json_line(stdout: str) -> dict[str, Any]:
    """The last line of some output that is a JSON object.

    Args:
        stdout: A command's standard output.

    Returns:
        The object.

    Raises:
        MeasurementFailed: When no line is one.

    Example:
        >>> last_json_line('noise\\n{"fit_seconds": 2.5}\\n')
        {'fit_seconds': 2.5}
    """
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise MeasurementFailed("the command printed no JSON result line")
