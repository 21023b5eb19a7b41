"""Output files: regular files only, never an input, never an existing file without force, never half-written."""

from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path

import pytest

from dlworkflow.errors import DataError, RegistryError
from dlworkflow.output_files import OutputFile, file_kind, same_file


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".partial"))


def test_a_new_file_is_written_with_the_usual_permissions(tmp_path):
    path = OutputFile(tmp_path / "out.csv").write_text("a\n1\n")
    assert path.read_text() == "a\n1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("mine")
    os.chmod(path, 0o640)
    with pytest.raises(DataError, match=r"notes.csv: --output: the file exists.*pass --force"):
        OutputFile(path).write_text("theirs")
    assert path.read_text() == "mine"
    OutputFile(path, force=True).write_text("new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640  # its mode kept


def test_a_file_dlw_wrote_is_replaced_without_force(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<meta name=generator content=dlworkflow>")
    ours = OutputFile(path, option="-o", replaceable=lambda file: "dlworkflow" in file.read_text())
    ours.write_text("<meta name=generator content=dlworkflow> again")
    assert path.read_text().endswith("again")
    path.write_text("someone's page")
    with pytest.raises(DataError, match="-o: the file exists"):
        ours.write_text("x")


def test_the_input_is_never_the_output_even_with_force(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    for named in (rows, tmp_path / "." / "rows.csv"):
        with pytest.raises(DataError, match="is the input file .*rows.csv.*destroy the input"):
            OutputFile(named, force=True, inputs=[rows]).check()
    (tmp_path / "link.csv").symlink_to(rows)
    with pytest.raises(DataError, match="is the input file"):
        OutputFile(tmp_path / "link.csv", force=True, inputs=[rows]).check()
    hard = tmp_path / "hard.csv"
    os.link(rows, hard)
    with pytest.raises(DataError, match="is the input file"):
        OutputFile(hard, force=True, inputs=[rows]).check()
    assert rows.read_text() == "a\n1\n"


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_a_device_is_refused_even_with_force(device):
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    with pytest.raises(RegistryError, match=f"{device}: -o: is a character device, not a regular file"):
        OutputFile(device, force=True, option="-o", error=RegistryError).write_text("page")


def test_a_folder_a_fifo_a_socket_and_links_to_them_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        cases = {tmp_path: "is a folder", fifo: "is a FIFO", sock_path: "is a socket"}
        for target, what in list(cases.items()):
            link = tmp_path / f"link-to-{target.name}"
            link.symlink_to(target)
            cases[link] = f"{what} .*symbolic link"
        for path, what in cases.items():
            with pytest.raises(DataError, match=what.replace("(", r"\(")):
                OutputFile(path, force=True).write_text("x")
    finally:
        server.close()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(tmp_path) == []


def test_a_link_to_nothing_is_refused_and_a_link_to_a_file_written_through(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(DataError, match="symbolic link to nothing"):
        OutputFile(tmp_path / "dangling").check()
    real = tmp_path / "real.csv"
    real.write_text("old")
    (tmp_path / "link.csv").symlink_to(real)
    OutputFile(tmp_path / "link.csv", force=True).write_text("new")
    assert (tmp_path / "link.csv").is_symlink() and real.read_text() == "new"


def test_a_missing_folder_is_refused_or_made(tmp_path):
    with pytest.raises(DataError, match="its folder does not exist"):
        OutputFile(tmp_path / "no" / "out.csv").check()
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match="its folder is not a folder"):
        OutputFile(tmp_path / "file" / "out.csv", make_parents=True).check()
    assert OutputFile(tmp_path / "a" / "b" / "out.csv", make_parents=True).write_text("x").read_text() == "x"


def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text("old")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(DataError, match=r"out.csv: --output: cannot write the file \(No space left on device\)"
                                        r".*Free some disk space"):
        OutputFile(path, force=True).write_text("new")
    monkeypatch.undo()
    assert path.read_text() == "old" and leftovers(tmp_path) == []


def test_any_failure_inside_the_block_removes_the_temporary_file(tmp_path):
    with pytest.raises(KeyError), OutputFile(tmp_path / "out.csv").writing() as temporary:
        temporary.write_text("half")
        raise KeyError("the writer failed")
    assert list(tmp_path.iterdir()) == []


def test_a_file_appearing_while_writing_is_not_replaced(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(DataError, match="the file exists"), OutputFile(path).writing() as temporary:
        temporary.write_text("ours")
        path.write_text("someone else's")  # created after the check, before the rename
    assert path.read_text() == "someone else's" and leftovers(tmp_path) == []


def test_words_for_kinds_and_same_file(tmp_path):
    assert file_kind(os.stat(tmp_path).st_mode) == "a folder"
    assert same_file(tmp_path / "x", tmp_path / "y" / ".." / "x")
