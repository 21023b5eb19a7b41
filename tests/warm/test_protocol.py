"""What a command and a warm worker say to each other: messages with descriptors, fingerprints, exit codes."""

from __future__ import annotations

import os
import socket
import sys
import threading

import pytest

from dlworkflow.warm import protocol
from dlworkflow.warm.client import delegate
from dlworkflow.warm.control import WorkerError, start_workers, worker_states
from dlworkflow.warm.fork import exit_code_of


def test_a_message_carries_its_file_descriptors_and_a_body_longer_than_one_read():
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    body = b"x" * 100_000  # over one read of 65,536 bytes, under the socket buffer
    with left, right:
        protocol.send_message(left, body, [write_end])
        received, descriptors = protocol.receive_message(right, 3)
    os.close(write_end)
    assert received == body
    assert len(descriptors) == 1
    os.write(descriptors[0], b"through the passed descriptor")
    os.close(descriptors[0])
    assert os.read(read_end, 100) == b"through the passed descriptor"
    os.close(read_end)


def test_a_message_over_the_limit_or_cut_short_is_refused():
    left, right = socket.socketpair()
    with left, right:
        left.sendall((protocol.MESSAGE_LIMIT + 1).to_bytes(4, "big"))
        with pytest.raises(ConnectionError, match="over the limit"):
            protocol.receive_message(right)
    left, right = socket.socketpair()
    with right:
        left.sendall((10).to_bytes(4, "big") + b"abc")
        left.close()
        with pytest.raises(ConnectionError, match="closed the connection"):
            protocol.receive_message(right)


def test_requests_and_replies_survive_their_encoding():
    request = protocol.Request(["run", "spec é.toml"], "/tmp", {"A": "ü"}, 0o27, {"stamp": 1.5}, "/venv/bin")
    assert protocol.Request.from_json(request.to_json()) == request
    for reply in (protocol.Reply(started=12), protocol.Reply(exit_code=0), protocol.Reply(cold="why"),
                  protocol.Reply(handoff="tensorflow")):
        assert protocol.Reply.from_line(reply.to_line()) == reply
        assert reply.to_line().count(b"\n") == 1


def test_the_fingerprint_keeps_the_variables_that_change_imports_and_names_a_difference():
    environment = {"HOME": "/home/a", "XLA_FLAGS": "--x", "KERAS_HOME": "/k", "TERM": "xterm", "DLW_REGISTRY": "r"}
    mine = protocol.fingerprint(environment)
    assert mine["environment"] == {"HOME": "/home/a", "KERAS_HOME": "/k", "XLA_FLAGS": "--x"}
    assert mine["executable"] == sys.executable
    assert protocol.fingerprint_difference(mine, protocol.fingerprint({**environment, "DLW_REGISTRY": "s"})) is None
    changed = protocol.fingerprint({**environment, "XLA_FLAGS": "--y"})
    assert protocol.fingerprint_difference(mine, changed) == (
        "the environment variable XLA_FLAGS differs (the worker has --x, the command has --y)")
    assert "changed since the worker started" in protocol.fingerprint_difference(mine, {**mine, "stamp": 0.0})


def test_the_workers_folder_is_chosen_from_the_environment():
    assert protocol.worker_directory({"DLW_WORKER_DIR": "/a", "XDG_RUNTIME_DIR": "/run/u"}) == protocol.Path("/a")
    assert protocol.worker_directory({"XDG_RUNTIME_DIR": "/run/u"}) == protocol.Path("/run/u/dlworkflow")
    assert protocol.worker_directory({}) == protocol.Path(f"/tmp/dlworkflow-{os.getuid()}")


def test_without_a_worker_a_command_runs_in_its_own_process(tmp_path, monkeypatch):
    tmp_path.chmod(0o700)
    monkeypatch.setenv("DLW_WORKER_DIR", str(tmp_path))
    monkeypatch.setenv("DLW_WORKER", "on")
    assert delegate(["runs"]) is None
    assert [state.running for state in worker_states()] == [False, False]
    protocol.socket_path("jax", tmp_path).touch()  # a socket file left behind by a killed worker
    assert delegate(["runs"]) is None


def test_exit_codes_are_those_python_gives(capsys):
    assert [exit_code_of(SystemExit(code)) for code in (None, 0, 5, 256 + 2)] == [0, 0, 5, 2]
    assert exit_code_of(SystemExit("a message")) == 1
    assert capsys.readouterr().err == "a message\n"


def _answering_listener(path, reply: protocol.Reply) -> tuple[socket.socket, threading.Thread, list]:
    """A socket at ``path`` that reads one request and answers ``reply`` (a stand-in worker)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    received = []

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            payload, descriptors = protocol.receive_message(connection, 3)
            protocol.close_descriptors(descriptors)
            received.append(protocol.Request.from_json(payload))
            connection.sendall(reply.to_line())

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return listener, thread, received


def test_a_command_trusts_only_a_socket_in_a_folder_of_its_own_user_that_no_one_else_may_write_to(tmp_path, monkeypatch):
    folder = tmp_path / "workers"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("DLW_WORKER_DIR", str(folder))
    monkeypatch.setenv("DLW_WORKER", "on")
    listener, thread, received = _answering_listener(protocol.socket_path("jax", folder), protocol.Reply(exit_code=7))
    with listener:
        folder.chmod(0o777)  # anyone could have planted that socket: the command tells it nothing
        assert delegate(["runs", "--all"]) is None
        assert received == []
        folder.chmod(0o700)
        assert delegate(["runs", "--all"]) == 7
        thread.join(timeout=10)
    assert received[0].argv == ["runs", "--all"]
    assert received[0].environment["DLW_WORKER_DIR"] == str(folder)


def test_workers_are_not_started_in_a_folder_others_may_write_to(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("DLW_WORKER_DIR", str(folder))
    with pytest.raises(WorkerError, match="writable by you only"):
        start_workers(["jax"], idle_minutes=1)
    assert list(folder.iterdir()) == []
