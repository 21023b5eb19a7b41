"""Read the bad-inputs catalogue and run one case: shared by the test and by ``make_index.py``.

A case is a folder ``cases/<NN_name>/`` with its input files and ``expected.toml``::

    input = "TOML syntax error: a string never closed"   # one line for the docs' index
    command = "run"                     # a dlw command, or "artifact-path" (a unit-level case)
    args = ["{spec}", "--quiet"]        # default ["{spec}"]; placeholders: {spec} {run} {case} {tmp}
    exit_code = 2                       # 2 spec, 3 data, 4 training, 5 registry, 0 with warning = true
    fragments = ["spec.toml", "line 4, column 9", "Fix the syntax"]   # where, what, fix
    warning = false                     # true: the command succeeds and prints a warning
    recorded = "failed"                 # the run the command records (a failed training), if any
    recorded_error = ["NaN"]            # fragments of that run's recorded error
    setup = ["run"]                     # "run": train spec.toml first ({run} is its id);
                                        # "comment": then comment it with the text of comment.txt;
                                        # "bundle": write bundle/bundle.json for the files in bundle/;
                                        # "tamper": then change bundle/preprocessing.json
                                        # "link": then move bundle/preprocessing.json out, a link in its place
                                        # "fifo:NAME": make a named pipe NAME; "grow:NAME": pad NAME past 1 MiB
    xfail = "why, and the fix needed"   # a known gap, fixed in a file this catalogue may not edit
    [[files]]                           # files the command writes, and what they must (not) hold
    path = "page.html"
    contains = ["&lt;script&gt;"]
    absent = ["<script>alert"]

The command runs in a copy of the case folder with a fresh SQLite registry
(``DLW_REGISTRY``) and an empty data home (``DLW_DATA_HOME``).
"""

from __future__ import annotations

import json
import os
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CASES_DIR = Path(__file__).resolve().parent / "cases"
EXPECTED_FILE = "expected.toml"
EXIT_CODES = {0: "ok", 2: "spec", 3: "data", 4: "training", 5: "registry"}
KEYS = {
    "input", "command", "args", "exit_code", "fragments", "warning", "recorded", "recorded_error", "setup",
    "xfail", "files",
}


@dataclass(frozen=True)
class Case:
    """One catalogue case, as ``expected.toml`` describes it."""

    name: str
    folder: Path
    input: str
    command: str
    args: tuple[str, ...]
    exit_code: int
    fragments: tuple[str, ...]
    warning: bool = False
    recorded: str | None = None
    recorded_error: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    xfail: str | None = None
    files: tuple[dict[str, Any], ...] = ()

    @property
    def marks(self) -> list[pytest.MarkDecorator]:
        """``xfail`` (strict) for a known gap."""
        return [pytest.mark.xfail(reason=self.xfail, strict=True)] if self.xfail else []

    @property
    def command_line(self) -> str:
        """The command as a user types it, for the index (``dlw run spec.toml``)."""
        words = [self.command, *self.args]
        if self.command in UNIT_COMMANDS:
            function = UNIT_COMMANDS[self.command].__doc__.split("``")[1]
            return f"{function} with {', '.join(map(repr, self.args))} (unit level)"
        shown = " ".join(
            word.replace("{spec}", "spec.toml").replace("{run}", "RUN").replace("{tmp}/", "").replace("{case}/", "")
            for word in words
        )
        return f"dlw {shown}"


def load_cases(folder: Path = CASES_DIR) -> list[Case]:
    """Every case under ``folder``, in name order.

    Raises:
        ValueError: for an ``expected.toml`` with an unknown key or without a required one.
    """
    cases = []
    for case_folder in sorted((path for path in folder.iterdir() if path.is_dir()), key=_case_order):
        expected = tomllib.loads((case_folder / EXPECTED_FILE).read_text(encoding="utf-8"))
        unknown = set(expected) - KEYS
        if unknown:
            raise ValueError(f"{case_folder.name}/{EXPECTED_FILE}: unknown keys {sorted(unknown)}")
        cases.append(Case(
            name=case_folder.name,
            folder=case_folder,
            input=expected["input"],
            command=expected["command"],
            args=tuple(expected.get("args", ["{spec}"])),
            exit_code=expected["exit_code"],
            fragments=tuple(expected["fragments"]),
            warning=expected.get("warning", False),
            recorded=expected.get("recorded"),
            recorded_error=tuple(expected.get("recorded_error", ())),
            setup=tuple(expected.get("setup", ())),
            xfail=expected.get("xfail"),
            files=tuple(expected.get("files", ())),
        ))
    return cases


def _case_order(folder: Path) -> tuple[int, str]:
    """Cases in the order of their number (``9_…`` before ``10_…`` before ``100_…``), then by name."""
    number = folder.name.split("_", 1)[0]
    return (int(number) if number.isdigit() else 10**9, folder.name)


@dataclass
class Outcome:
    """What running a case produced."""

    exit_code: int
    output: str
    traceback: str | None
    runs: list[dict[str, Any]] = field(default_factory=list)
    setup_runs: set[str] = field(default_factory=set)
    run_folders: set[str] = field(default_factory=set)
    setup_folders: set[str] = field(default_factory=set)


def run_case(case: Case, work: Path, tmp: Path) -> Outcome:
    """Run a case's command in ``work`` (a copy of its folder), registry and data home under ``tmp``.

    The current directory must be ``work``.
    """
    from typer.testing import CliRunner

    from dlworkflow.cli import app

    home = tmp / "dlw"
    registry = f"sqlite:///{home / 'registry.db'}"
    env = {"DLW_REGISTRY": registry, "DLW_DATA_HOME": str(tmp / "data_home"), "COLUMNS": "200"}
    runner = CliRunner(env=env)
    values = {"spec": "spec.toml", "case": str(work), "tmp": str(tmp), "run": ""}
    setup_runs: set[str] = set()
    for step in case.setup:
        if step == "run":
            result = runner.invoke(app, ["run", "spec.toml", "--quiet"], catch_exceptions=False)
            assert result.exit_code == 0, f"{case.name}: the setup run failed:\n{result.output}"
            (run,) = _runs(registry, home)
            values["run"] = run["id"]
            setup_runs.add(run["id"])
        elif step == "comment":
            text = (work / "comment.txt").read_bytes().decode("utf-8").rstrip("\n")  # a carriage return kept
            result = runner.invoke(app, ["comment", values["run"], text], catch_exceptions=False)
            assert result.exit_code == 0, f"{case.name}: the setup comment failed:\n{result.output}"
        elif step == "bundle":
            _write_manifest(work / "bundle")
        elif step == "link":  # a link cannot travel in the case folder (copytree copies its target)
            (work / "bundle" / "preprocessing.json").rename(work / "preprocessing.json")
            (work / "bundle" / "preprocessing.json").symlink_to(Path("..") / "preprocessing.json")
        elif step == "tamper":
            with (work / "bundle" / "preprocessing.json").open("a", encoding="utf-8") as file:
                file.write(" ")
        elif step.startswith("fifo:"):  # a named pipe cannot travel in the case folder
            os.mkfifo(work / step.removeprefix("fifo:"))
        elif step.startswith("grow:"):  # a file over 1 MiB is made here, not kept in the repository
            with (work / step.removeprefix("grow:")).open("a", encoding="utf-8") as file:
                file.write(("# padding " + "x" * 1013 + "\n") * 1100)
        else:
            raise ValueError(f"{case.name}: unknown setup step {step!r}")
    setup_folders = _run_folders(home)
    arguments = [argument.format(**values) for argument in case.args]
    if case.command in UNIT_COMMANDS:
        exit_code, output, trace = UNIT_COMMANDS[case.command](tmp, *arguments)
    else:
        result = runner.invoke(app, [case.command, *arguments])
        trace = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trace = "".join(traceback.format_exception(*result.exc_info))
        exit_code, output = result.exit_code, result.output
    return Outcome(
        exit_code=exit_code, output=output, traceback=trace, runs=_runs(registry, home), setup_runs=setup_runs,
        run_folders=_run_folders(home), setup_folders=setup_folders,
    )


def _runs(registry: str, home: Path) -> list[dict[str, Any]]:
    """Every run the registry holds (none when the registry was never created)."""
    if not (home / "registry.db").exists():
        return []
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        return [store.get(row.id).to_dict() for row in store.list_runs()]


def _run_folders(home: Path) -> set[str]:
    runs = home / "runs"
    return {path.name for path in runs.iterdir()} if runs.is_dir() else set()


def _write_manifest(bundle: Path) -> None:
    """Write ``bundle.json`` for the files in a hand-made bundle folder, as ``dlw export`` would."""
    from dlworkflow.sharing.bundle import BUNDLE_FILE, manifest

    files = sorted(path.name for path in bundle.iterdir() if path.name != BUNDLE_FILE)
    record = {"id": "20250101-000000-c0ffee", "name": "catalogue", "backend": "jax",
              "data": {"task": "regression", "target": "y"}}
    (bundle / BUNDLE_FILE).write_text(json.dumps(manifest(bundle, files, record)), encoding="utf-8")


def _artifact_path(tmp: Path, name: str) -> tuple[int, str, str | None]:
    """``RunFolder.path(name)`` on a staged run folder: the registry's guard against escaping names."""
    from dlworkflow.errors import WorkflowError
    from dlworkflow.registry.artifacts import RunFolder

    folder = RunFolder.stage(tmp / "dlw", "20250101-000000-c0ffee")
    try:
        path = folder.path(name)
    except WorkflowError as err:
        return err.exit_code, f"error: {err}", None
    except Exception:  # noqa: BLE001 - any other exception is what the case must catch
        return 1, "", traceback.format_exc()
    finally:
        folder.discard()
    return 0, str(path), None


UNIT_COMMANDS = {"artifact-path": _artifact_path}
"""Cases that call a library function rather than a ``dlw`` command: name → function(tmp, *args)."""


_LOCKER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
"""


def _dlw_with_fault(tmp: Path, fault: str, *arguments: str) -> tuple[int, str, str | None]:
    """``dlw`` with a fault injected: a full disk or a read-only folder while a run writes its files, or
    another process holding the SQLite registry's write lock when a run finishes.

    Faults: ``full-disk-checkpoint`` (the epoch checkpoint), ``full-disk-plots`` (every plot),
    ``read-only-staging`` (the checkpoint, in a folder made read-only), ``locked-registry`` (the
    lock taken as the run is about to be recorded, held to the end); ``run-locked-then``: first
    ``dlw run spec.toml`` with ``locked-registry``, then the command, the lock still held;
    ``run-locked-released-then``: the same, the lock released before the command. A short
    SQLite busy timeout and retry schedule keep a locked registry fast.
    """
    import errno
    import os
    import subprocess
    import sys

    from typer.testing import CliRunner

    from dlworkflow.cli import app
    from dlworkflow.execution import runner
    from dlworkflow.registry import database

    home = tmp / "dlw"
    env = {"DLW_REGISTRY": f"sqlite:///{home / 'registry.db'}", "DLW_DATA_HOME": str(tmp / "data_home"),
           "COLUMNS": "200"}
    lockers: list[subprocess.Popen[str]] = []

    def lock(*args: Any, **kwargs: Any) -> Any:
        locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(home / "registry.db")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lockers.append(locker)
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        return note_unrecorded(*args, **kwargs)

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def read_only(path: Path, write: Any) -> None:
        os.chmod(path.parent, 0o500)
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    note_unrecorded = runner.note_unrecorded
    outputs, exit_code = [], 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)
        patch.setattr(runner, "RECORD_RETRY_DELAYS", (0.05,))
        if fault == "full-disk-checkpoint":
            patch.setattr("numpy.savez", full_disk)
        elif fault == "full-disk-plots":
            patch.setattr("matplotlib.figure.Figure.savefig", full_disk)
        elif fault == "read-only-staging":
            patch.setattr("dlworkflow.training.checkpoint._replace", read_only)
        else:
            patch.setattr(runner, "note_unrecorded", lock)
        commands = [list(arguments)]
        if fault.startswith("run-locked"):
            commands = [["run", "spec.toml", "--quiet"], list(arguments)]
        try:
            for number, command in enumerate(commands):
                if number and fault == "run-locked-released-then":
                    for locker in lockers:
                        locker.communicate(timeout=30)
                result = CliRunner(env=env).invoke(app, command)
                if result.exception is not None and not isinstance(result.exception, SystemExit):
                    return 1, result.output, "".join(traceback.format_exception(*result.exc_info))
                outputs.append(result.output)
                exit_code = result.exit_code
        finally:
            for locker in lockers:
                if locker.poll() is None:
                    locker.kill()
                locker.wait()
    return exit_code, "\n".join(outputs), None


UNIT_COMMANDS["dlw-fault"] = _dlw_with_fault
