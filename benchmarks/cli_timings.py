"""Timing the commands that do not train: ``dlw --help`` and ``dlw runs`` over a large registry.

Besides the commands themselves it measures their floors on this machine (a bare
interpreter, importing the CLI's libraries, importing SQLAlchemy) and lists which heavy
modules each command imports, in the command's own process.

Example:
    >>> timing = time_command("true", ["true"], environment=child_environment(), repeats=2)
    >>> len(timing.seconds), timing.failed
    (2, False)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from processes import child_environment, dlw_command, run_process
from results import CommandTiming

HEAVY_MODULES = ("keras", "tensorflow", "jax", "torch", "numpy", "pandas", "sklearn", "scipy", "matplotlib",
                 "sqlalchemy", "pydantic", "PIL")
"""Modules whose import a command that does not train should avoid (or at least notice)."""

MODULES_MARKER = "DLW_BENCHMARK_MODULES "
"""Prefix of the line on which the module probe reports what was imported."""

MODULE_PROBE = f"""
import json, sys
from dlworkflow.cli import main
sys.argv = ["dlw", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
imported = sorted(name for name in {HEAVY_MODULES!r} if name in sys.modules)
sys.stderr.write({MODULES_MARKER!r} + json.dumps(imported) + "\\n")
"""
"""Runs ``dlw`` with the given arguments in-process, then reports the heavy modules loaded."""

BARE_INTERPRETER = "python -c pass"
"""The floor under every command: starting the interpreter."""

CLI_LIBRARIES = "python -c 'import typer, rich'"
"""The floor under every ``dlw`` command: the libraries the CLI is made of."""

SQLALCHEMY_IMPORT = "python -c 'import sqlalchemy'"
"""What reading the registry through SQLAlchemy costs before the first query."""

GIVE_UP_AFTER_SECONDS = 30.0
"""A command slower than this is not repeated: one run says enough, and the benchmark stays short."""


def time_command(label: str, command: list[str], *, environment: dict[str, str], repeats: int,
                 timeout: float = 600.0) -> CommandTiming:
    """Run a command ``repeats`` times in fresh processes and keep each wall time.

    Output goes through a pipe and is read to its end. A run slower than
    :data:`GIVE_UP_AFTER_SECONDS` ends the repetitions; a failed run ends them too.

    Args:
        label: The command as the report shows it.
        command: The command line.
        environment: Its environment.
        repeats: How many runs at most.
        timeout: Seconds before a run is stopped.

    Returns:
        The timing, with the last run's output size.
    """
    timing = CommandTiming(label)
    for _ in range(repeats):
        completed = run_process(command, environment=environment, timeout=timeout)
        if completed.returncode != 0:
            timing.failed = True
            timing.note = completed.failure(label)
            break
        timing.seconds.append(completed.seconds)
        timing.output_lines = completed.stdout.count("\n")
        timing.output_bytes = len(completed.stdout.encode())
        timing.output = completed.stdout
        if completed.seconds > GIVE_UP_AFTER_SECONDS:
            timing.note = f"not repeated: one run took over {GIVE_UP_AFTER_SECONDS:.0f} s"
            break
    return timing


def python_floor(label: str, code: str, *, repeats: int) -> CommandTiming:
    """Time ``python -c CODE`` with this interpreter: a floor under a command's start-up.

    Args:
        label: What the floor is.
        code: The Python code.
        repeats: Runs.

    Returns:
        The timing.
    """
    return time_command(label, [sys.executable, "-c", code], environment=child_environment(), repeats=repeats)


def modules_imported(arguments: list[str], environment: dict[str, str]) -> list[str] | None:
    """Which of :data:`HEAVY_MODULES` a ``dlw`` command has imported by its end.

    Args:
        arguments: The command's arguments after ``dlw``.
        environment: Its environment.

    Returns:
        The module names, or None when the probe printed nothing.
    """
    completed = run_process([sys.executable, "-c", MODULE_PROBE, *arguments], environment=environment, timeout=600)
    for line in completed.stderr.splitlines():
        if line.startswith(MODULES_MARKER):
            return json.loads(line[len(MODULES_MARKER):])
    return None


def describe_table_output(timing: CommandTiming, text: str) -> str:
    """Say what ``dlw runs`` printed: lines, size and how many tables.

    Args:
        timing: The command's timing (lines and bytes).
        text: Its standard output.

    Returns:
        A short description.

    Example:
        >>> describe_table_output(CommandTiming("x", output_lines=3, output_bytes=10), "test set a\\nx\\ny\\n")
        '3 lines, 0.0 MB: 1 table(s) (one per test set and metric), 10 columns wide'
    """
    tables = sum(1 for line in text.splitlines() if line.lstrip().startswith("test set "))
    width = max((len(line) for line in text.splitlines()), default=0)
    return (f"{timing.output_lines:,} lines, {timing.output_bytes / 1e6:.1f} MB: {tables} table(s) "
            f"(one per test set and metric), {width} columns wide")


def describe_json_output(timing: CommandTiming, text: str) -> str:
    """Say what ``dlw runs --json`` printed: how many runs and how big.

    Args:
        timing: The command's timing (lines and bytes).
        text: Its standard output.

    Returns:
        A short description.

    Example:
        >>> describe_json_output(CommandTiming("x", output_lines=1, output_bytes=20), '[{"id": "a"}]')
        '1 lines, 0.0 MB: a JSON list of 1 runs, 1 keys each'
    """
    try:
        rows = json.loads(text)
    except json.JSONDecodeError:
        return f"{timing.output_lines:,} lines, {timing.output_bytes / 1e6:.1f} MB, not valid JSON"
    keys = len(rows[0]) if rows else 0
    return (f"{timing.output_lines:,} lines, {timing.output_bytes / 1e6:.1f} MB: a JSON list of {len(rows):,} runs, "
            f"{keys} keys each")


LISTINGS = (("dlw runs",), ("dlw runs", "--json"), ("dlw runs", "--all"), ("dlw runs", "--all", "--json"))
"""The listings timed: the default leaderboards (best runs per test set) and every run, as tables and as JSON."""


def listing_timings(registry: str, environment: dict[str, str], *, repeats: int,
                    timeout: float) -> list[CommandTiming]:
    """Time each of :data:`LISTINGS` on a registry, standard output to a pipe.

    Args:
        registry: The registry URL.
        environment: The commands' environment.
        repeats: Runs of each.
        timeout: Seconds before a run is stopped.

    Returns:
        The timings, each with a note of what it printed.
    """
    timings = []
    for _, *options in LISTINGS:
        label = " ".join(["dlw runs", *options])
        command = [*dlw_command(), "runs", *options, "--registry", registry]
        timing = time_command(label, command, environment=environment, repeats=repeats, timeout=timeout)
        describe = describe_json_output if "--json" in options else describe_table_output
        if not timing.failed and timing.seconds:
            described = describe(timing, timing.output)
            timing.note = f"{described}; {timing.note}" if timing.note else described
        timing.output = ""
        timings.append(timing)
    return timings


def help_timing(environment: dict[str, str], *, repeats: int) -> CommandTiming:
    """Time ``dlw --help``.

    Args:
        environment: Its environment.
        repeats: Runs.

    Returns:
        The timing.
    """
    timing = time_command("dlw --help", [*dlw_command(), "--help"], environment=environment, repeats=repeats)
    timing.output = ""
    return timing


def floors(*, repeats: int) -> list[CommandTiming]:
    """Time the floors under the CLI commands on this machine.

    Args:
        repeats: Runs of each.

    Returns:
        A bare interpreter; importing typer and rich (what any ``dlw`` command needs);
        importing SQLAlchemy (what reading the registry through it costs).
    """
    return [
        python_floor(BARE_INTERPRETER, "pass", repeats=repeats),
        python_floor(CLI_LIBRARIES, "import typer, rich", repeats=repeats),
        python_floor(SQLALCHEMY_IMPORT, "import sqlalchemy", repeats=repeats),
    ]


def registry_url(folder: Path) -> str:
    """The SQLite URL of ``registry.db`` in a folder.

    Example:
        >>> registry_url(Path("/tmp/x"))
        'sqlite:////tmp/x/registry.db'
    """
    return f"sqlite:///{folder / 'registry.db'}"
