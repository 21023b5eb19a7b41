"""A real warm worker (``dlw worker start``) serving real ``dlw`` commands started as a user starts them.

One JAX worker per test module, in a folder of its own, stopped at the end: the commands it
runs keep their folder, environment, standard streams and exit codes; Ctrl-C interrupts the
run as without a worker; a killed command ends its fork; a command the worker cannot serve
(another environment, another backend) runs in its own process.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlworkflow.warm import protocol
from tests.conftest import tiny_weather_spec

SPEC = tiny_weather_spec("warm_weather")

SERVED = re.compile(r"dlw worker: run by process (\d+), a fork of the worker")


def dlw_process(*arguments: str, cwd: Path, env: dict[str, str], **options) -> subprocess.Popen:
    """``dlw ARGUMENTS`` through the console script's entry point, as a user's shell starts it."""
    return subprocess.Popen([sys.executable, "-m", "dlworkflow.launch", *arguments], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def dlw(*arguments: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    process = dlw_process(*arguments, cwd=cwd, env=env)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory):
    """A started JAX worker and the environment of the commands it serves; stopped afterwards."""
    home = tmp_path_factory.mktemp("warm")
    env = {**os.environ, "DLW_WORKER": "verbose", "DLW_WORKER_DIR": str(home / "workers"),
           "DLW_DATA_HOME": str(home / "data_home"), "DLW_REGISTRY": f"sqlite:///{home / 'registry.db'}"}
    (home / "spec.toml").write_text(SPEC, encoding="utf-8")
    started = dlw("worker", "start", "--backend", "jax", "--idle-minutes", "10", cwd=home, env=env)
    assert started.returncode == 0, started.stderr
    try:
        yield home, env
    finally:
        stopped = dlw("worker", "stop", cwd=home, env=env)
        assert stopped.returncode == 0, stopped.stderr


def test_a_command_runs_in_the_worker_with_its_folder_environment_streams_and_exit_code(worker):
    home, env = worker
    status = dlw("worker", "status", cwd=home, env=env)
    assert re.search(r"^jax: running, process \d+", status.stdout, re.MULTILINE), status.stdout
    assert "tensorflow: not running" in status.stdout

    served = dlw("run", "spec.toml", "--quiet", cwd=home, env=env)  # a spec path relative to the command's folder
    assert served.returncode == 0, served.stderr
    assert SERVED.search(served.stderr), served.stderr
    listed = dlw("runs", "--json", cwd=home, env=env)
    rows = json.loads(listed.stdout)
    assert [row["name"] for row in rows] == ["warm_weather"]
    own = dlw("runs", "--json", cwd=home, env={**env, "DLW_WORKER": "off"})
    assert json.loads(own.stdout) == rows and not SERVED.search(own.stderr)

    wrong = dlw("runs", "--registry", "nowhere.db", cwd=home, env=env)
    assert wrong.returncode == 5
    assert SERVED.search(wrong.stderr)
    assert "error: registry nowhere.db: is not a database URL" in wrong.stderr


def test_on_a_terminal_the_worker_prints_what_the_commands_own_process_prints(worker):
    home, env = worker
    if not json.loads(dlw("runs", "--json", cwd=home, env=env).stdout):  # run alone (-k): a run to list
        assert dlw("run", "spec.toml", "--quiet", cwd=home, env=env).returncode == 0
    shown = {}
    for mode in ("verbose", "off"):
        primary, secondary = pty.openpty()
        process = subprocess.Popen([sys.executable, "-m", "dlworkflow.launch", "runs", "--all"], cwd=home,
                                   env={**env, "DLW_WORKER": mode, "COLUMNS": "150", "TERM": "xterm-256color"},
                                   stdout=secondary, stderr=subprocess.PIPE)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
        _stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert bool(SERVED.search(stderr.decode())) == (mode == "verbose")
        shown[mode] = b"".join(chunks)
    assert b"\x1b[" in shown["off"]  # styled for a terminal 150 columns wide
    assert shown["verbose"] == shown["off"]


def test_a_command_in_another_environment_runs_in_its_own_process(worker):
    home, env = worker
    result = dlw("runs", cwd=home, env={**env, "JAX_ENABLE_X64": "1"})
    assert result.returncode == 0, result.stderr
    assert ("dlw worker: running here: the environment variable JAX_ENABLE_X64 differs (the worker has it unset, "
            "the command has 1)") in result.stderr
    assert not SERVED.search(result.stderr)


@pytest.mark.parametrize("payload", [b"not json", b'{"argv": ["runs"], "from_a_newer_version": 1}', b"[1, 2]"])
def test_an_unreadable_request_is_answered_and_leaves_no_descriptor_open(worker, payload):
    home, _env = worker
    read_end, write_end = os.pipe()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(protocol.socket_path("jax", home / "workers")))
        protocol.send_message(connection, payload, [read_end, write_end, write_end])
        replies = connection.makefile("rb").read().splitlines()
    os.close(write_end)
    assert os.read(read_end, 10) == b""  # the worker holds no copy of the write end: the pipe has ended
    os.close(read_end)
    assert len(replies) == 1
    assert protocol.Reply.from_line(replies[0]).cold.startswith("the worker could not read the request")


@pytest.mark.slow
def test_ctrl_c_interrupts_the_run_in_the_worker_and_a_killed_command_ends_its_fork(worker):
    home, env = worker
    long = dlw_process("run", "spec.toml", "--set", "train.epochs=1000000", cwd=home, env=env)
    fork = _served_by(long)
    _wait_for(lambda: _checkpointed(home), "the run's first checkpoint")
    long.send_signal(signal.SIGINT)
    _stdout, stderr = long.communicate(timeout=120)
    assert long.returncode == 130, stderr
    statuses = [row["status"] for row in json.loads(dlw("runs", "--all", "--json", cwd=home, env=env).stdout)]
    assert "interrupted" in statuses
    _wait_for(lambda: not _alive(fork), "the fork to end")

    killed = dlw_process("run", "spec.toml", "--set", "train.epochs=1000000", cwd=home, env=env)
    fork = _served_by(killed)
    killed.kill()
    killed.communicate(timeout=60)
    _wait_for(lambda: not _alive(fork), "the fork of a killed command to end")


@pytest.mark.slow
def test_a_run_for_the_other_backend_runs_in_its_own_process_without_its_worker(worker):
    home, env = worker
    result = dlw("run", "spec.toml", "--quiet", "--set", "train.backend=tensorflow", cwd=home, env=env)
    assert result.returncode == 0, result.stderr
    assert SERVED.search(result.stderr)  # the JAX worker's fork saw the backend and handed the command back
    rows = json.loads(dlw("runs", "--all", "--json", cwd=home, env=env).stdout)
    newest = max(rows, key=lambda row: row["created_at"])
    shown = json.loads(dlw("show", newest["id"], "--json", cwd=home, env=env).stdout)
    assert (shown["backend"], shown["status"]) == ("tensorflow", "finished")


def _served_by(process: subprocess.Popen) -> int:
    line = process.stderr.readline()
    match = SERVED.search(line)
    assert match, line
    return int(match.group(1))


def _checkpointed(home: Path) -> bool:
    return any((home / "runs").glob("*/checkpoint/checkpoint-*.npz"))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)
