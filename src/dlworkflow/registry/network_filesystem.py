"""SQLite on a network filesystem (NFS, SMB, Lustre, GPFS, BeeGFS, sshfs...): found from the mount table, warned about once.

SQLite relies on file locks that network filesystems implement badly or not at all: jobs on
several nodes writing one ``registry.db`` or ``studies.db`` on a shared home folder can
corrupt it or fail with "database is locked" (the SQLite FAQ; mlflow #5917, aim #1299). A
cluster's group registry belongs on PostgreSQL, and a study without a server in a journal
file (``--storage journal:///shared/path/study.log``). :func:`network_filesystem` finds the
filesystem of a path from ``/proc/mounts`` (the longest mount point that contains it);
:func:`warn_if_on_network_filesystem` raises a :class:`NetworkFilesystemWarning` the first
time a process opens a SQLite file there. Where there is no ``/proc/mounts`` (macOS,
Windows) nothing is said.

Example:
    >>> mounts = "server:/export/home /home nfs4 rw,relatime 0 0\\n/dev/sda1 / ext4 rw 0 0\\n"
    >>> network_filesystem("/home/ann/.dlw/registry.db", mounts)
    Mount(point='/home', type='nfs4')
    >>> network_filesystem("/tmp/registry.db", mounts) is None
    True
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from dlworkflow.workflow_warning import WorkflowWarning

MOUNTS_FILE = Path("/proc/mounts")
"""The kernel's table of mounted filesystems (Linux)."""

NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "fuse.sshfs", "sshfs",
    "ceph", "fuse.ceph", "cephfs", "glusterfs", "fuse.glusterfs", "afs", "openafs", "panfs", "wekafs", "9p",
    "fuse.s3fs", "fuse.gcsfuse", "fuse.rclone", "davfs", "fuse.davfs2", "vboxsf", "ncpfs", "coda", "orangefs",
})
"""Filesystem types (as ``/proc/mounts`` names them) whose file locking SQLite cannot rely on."""


class NetworkFilesystemWarning(WorkflowWarning):
    """A SQLite database (registry or studies) lies on a network filesystem.

    Example:
        >>> issubclass(NetworkFilesystemWarning, WorkflowWarning)
        True
    """


@dataclass(frozen=True)
class Mount:
    """The mounted filesystem a path lies on.

    Attributes:
        point: Its mount point, e.g. ``/home``.
        type: Its type as the mount table names it, e.g. ``nfs4``.

    Example:
        >>> Mount("/home", "nfs4").type
        'nfs4'
    """

    point: str
    type: str


def _unescape(field: str) -> str:
    """A mount table field with its octal escapes (``\\040`` for a space) decoded."""
    return field.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in field else field


def mount_of(path: str | Path, mounts: str) -> Mount | None:
    """The mount a path lies on: the longest mount point containing it.

    Args:
        path: An absolute path (need not exist).
        mounts: The text of ``/proc/mounts``: ``device point type options dump pass`` per line.

    Returns:
        The mount, or None when no line covers the path.

    Example:
        >>> mount_of("/scratch/ann/x.db", "lfs@o2ib:/scratch /scratch lustre rw 0 0\\nrootfs / rootfs rw 0 0")
        Mount(point='/scratch', type='lustre')
    """
    target = Path(path)
    best: Mount | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        mounted = Path(point)
        if (target == mounted or mounted in target.parents) and (best is None or len(point) > len(best.point)):
            best = Mount(point, fields[2])
    return best


def network_filesystem(path: str | Path, mounts: str | None = None) -> Mount | None:
    """The network filesystem a path lies on, or None when it is on a local one (or it cannot be told).

    Args:
        path: A file or folder (need not exist; symbolic links in the existing part are resolved).
        mounts: The mount table's text; default: read :data:`MOUNTS_FILE` (None where it is absent).

    Returns:
        The mount when its type is one of :data:`NETWORK_TYPES`, else None.

    Example:
        >>> network_filesystem("/home/x.db", "//nas/share /home cifs rw 0 0")
        Mount(point='/home', type='cifs')
    """
    if mounts is None:
        try:
            mounts = MOUNTS_FILE.read_text(errors="replace")
        except OSError:
            return None
    mount = mount_of(os.path.realpath(Path(path).expanduser().absolute()), mounts)
    return mount if mount is not None and mount.type.lower() in NETWORK_TYPES else None


_WARNED: set[str] = set()
"""The files a warning was given for in this process: each is said once, however often it is opened."""


def warn_if_on_network_filesystem(database: str | Path, what: str, mounts: str | None = None) -> Mount | None:
    """Warn once per process and file when a SQLite database lies on a network filesystem.

    Args:
        database: The SQLite file.
        what: ``registry`` or ``studies database`` (the first words of the warning).
        mounts: The mount table's text (tests); default: read ``/proc/mounts``.

    Returns:
        The network mount, or None (nothing said).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = warn_if_on_network_filesystem("/home/doc/r.db", "registry", "srv:/home /home nfs rw 0 0")
        >>> str(caught[0].message).split(":")[0]
        'registry /home/doc/r.db is on a network filesystem (nfs at /home)'
    """
    mount = network_filesystem(database, mounts)
    key = str(database)
    if mount is None or key in _WARNED:
        return mount
    _WARNED.add(key)
    warnings.warn(
        f"{what} {database} is on a network filesystem ({mount.type} at {mount.point}): SQLite's file locks are "
        "unreliable there, so jobs writing it from several nodes can corrupt it or fail with 'database is locked'. "
        "For a group or a cluster use PostgreSQL (--registry postgresql://HOST/DATABASE, see the README's "
        "'On a GPU or a cluster'); for a study without a server, --storage journal:///shared/path/study.log; "
        "or keep the SQLite file on a local disk.",
        NetworkFilesystemWarning, stacklevel=3,
    )
    return mount
