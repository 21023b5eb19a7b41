"""SQLite on a network filesystem: the mount found from a fake /proc/mounts, one warning per file and process."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from dlworkflow.registry import network_filesystem as module
from dlworkflow.registry.network_filesystem import (
    Mount,
    NetworkFilesystemWarning,
    mount_of,
    network_filesystem,
    warn_if_on_network_filesystem,
)
from dlworkflow.workflow_warning import WorkflowWarning

MOUNTS = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
fileserver:/export/home /home nfs4 rw,relatime,vers=4.2 0 0
/dev/nvme0n1p3 /home/ann/local ext4 rw 0 0
//nas/group\\040share /mnt/group\\040share cifs rw 0 0
lustre@o2ib:/scratch /scratch lustre rw,flock 0 0
ann@login:/data /mnt/login fuse.sshfs rw,nosuid 0 0
beegfs_nodev /beegfs beegfs rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


@pytest.mark.parametrize(("path", "kind"), [
    ("/home/ann/.dlw/registry.db", "nfs4"),
    ("/mnt/group share/dlw/registry.db", "cifs"),
    ("/scratch/ann/studies.db", "lustre"),
    ("/mnt/login/runs/registry.db", "fuse.sshfs"),
    ("/beegfs/x.db", "beegfs"),
])
def test_network_filesystems_are_found_by_the_longest_mount_point(path: str, kind: str) -> None:
    found = network_filesystem(path, MOUNTS)
    assert found is not None and found.type == kind


@pytest.mark.parametrize("path", ["/home/ann/local/registry.db", "/tmp/registry.db", "/homework/registry.db", "/x.db"])
def test_local_filesystems_are_not(path: str) -> None:
    assert network_filesystem(path, MOUNTS) is None


def test_the_longest_containing_mount_point_wins() -> None:
    assert mount_of("/home/ann/local/deep/r.db", MOUNTS) == Mount("/home/ann/local", "ext4")
    assert mount_of("/home/bob/r.db", MOUNTS) == Mount("/home", "nfs4")
    assert mount_of("/anything", "garbage\n\n") is None


def test_one_warning_per_file_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_WARNED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            warn_if_on_network_filesystem("/home/ann/.dlw/registry.db", "registry", MOUNTS)
        warn_if_on_network_filesystem("/home/ann/.dlw/studies.db", "studies database", MOUNTS)
        assert warn_if_on_network_filesystem("/tmp/registry.db", "registry", MOUNTS) is None
    assert [w.category for w in caught] == [NetworkFilesystemWarning, NetworkFilesystemWarning]
    assert issubclass(NetworkFilesystemWarning, WorkflowWarning)
    message = str(caught[0].message)
    assert message.startswith("registry /home/ann/.dlw/registry.db is on a network filesystem (nfs4 at /home)")
    assert "PostgreSQL" in message and "--storage journal:///shared/path/study.log" in message
    assert str(caught[1].message).startswith("studies database /home/ann/.dlw/studies.db")


def test_no_mount_table_says_nothing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MOUNTS_FILE", tmp_path / "absent")
    assert network_filesystem("/home/ann/registry.db") is None


_CLI_WITH_FAKE_MOUNTS = """
import sys
from pathlib import Path
import dlworkflow.registry.network_filesystem as module
module.MOUNTS_FILE = Path(sys.argv[1])
from dlworkflow.cli.application import main
sys.argv = ["dlw", "runs", "--registry", sys.argv[2]]
main()
"""


def test_dlw_prints_the_warning_once(tmp_path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(f"server:/export {tmp_path} nfs4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n")
    completed = subprocess.run(
        [sys.executable, "-c", _CLI_WITH_FAKE_MOUNTS, str(mounts), f"sqlite:///{tmp_path}/dlw/registry.db"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.count("NetworkFilesystemWarning: registry") == 1
    assert f"{tmp_path}/dlw/registry.db is on a network filesystem (nfs4 at {tmp_path})" in completed.stderr
