"""A study in one file on a shared filesystem: ``--storage journal:///shared/path/study.log``.

Where a cluster has no database server, Optuna's journal storage keeps a study as an
append-only log file that every worker, on any node that mounts the folder, reads and
appends to (``optuna.storages.journal.JournalFileBackend``, locked with a symbolic link,
which NFS supports). Optuna's journal storage has no heartbeats of its own, so a trial whose
worker was killed would stay ``RUNNING`` for ever and the study would wait for it.
:class:`HeartbeatJournalStorage` adds them: a running trial writes its time into the log
every :data:`~dlworkflow.tuning.study.HEARTBEAT_SECONDS` (a trial system attribute); one
silent for :data:`~dlworkflow.tuning.study.GRACE_SECONDS` counts as dead, is failed and run
again once, as with a database storage. The times are the workers' clocks: the hosts must
agree on the time within the grace period (NTP does).

This module imports Optuna: import it where a storage is made.

Example:
    >>> journal_file("journal:///scratch/ann/weather.log")
    PosixPath('/scratch/ann/weather.log')
    >>> storage = make_journal_storage("journal:///tmp/dlw/weather.log")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import (
    BaseStorage,
    JournalStorage,
    RetryHeartbeatStaleTrialCallback,
)
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.trial import TrialState

from dlworkflow.errors import RegistryError
from dlworkflow.tuning.study import JOURNAL_SCHEME

HEARTBEAT_ATTRIBUTE = "dlw_heartbeat"
"""The trial system attribute holding the time (seconds since the epoch) of a running trial's last heartbeat."""


def is_journal_url(url: str) -> bool:
    """Whether a storage URL names a journal file.

    Example:
        >>> is_journal_url("journal:///tmp/study.log"), is_journal_url("sqlite:///tmp/studies.db")
        (True, False)
    """
    return url.startswith(JOURNAL_SCHEME)


def journal_file(url: str) -> Path:
    """The journal file a ``journal://`` URL names, as an absolute path.

    Example:
        >>> journal_file("journal:///tmp/x/study.log")
        PosixPath('/tmp/x/study.log')
    """
    return Path(url[len(JOURNAL_SCHEME):]).expanduser().absolute()


def check_journal_file(url: str) -> Path:
    """Make sure the journal file can be written, creating its folder when only the last level is missing.

    The folder of ``journal:///tmp/x/study.log`` (``/tmp/x``) is created when ``/tmp`` exists; a
    deeper missing path is refused, since on a cluster it usually means a shared filesystem that
    is not mounted on this node (a folder created here would not be shared).

    Args:
        url: The ``journal://`` URL.

    Returns:
        The journal file.

    Raises:
        RegistryError: for an empty path, a path that is a folder, a missing folder, or a folder
            or file that cannot be written.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> check_journal_file(f"journal://{folder}/study.log").name
        'study.log'
    """
    where = f"storage {url}"
    if not url[len(JOURNAL_SCHEME):].strip():
        raise RegistryError.single(where, "", "names no journal file",
                                   hint="Write --storage journal:///shared/path/study.log (an absolute path).")
    path = journal_file(url)
    folder = path.parent
    if path.is_dir():
        raise RegistryError.single(where, "", f"{path} is a folder, not a journal file",
                                   hint=f"Name a file in it, e.g. --storage journal://{path / 'study.log'}.")
    if not folder.exists() and folder.parent.is_dir() and os.access(folder.parent, os.W_OK):
        folder.mkdir(exist_ok=True)
    if not folder.is_dir():
        raise RegistryError.single(
            where, "", f"the folder {folder} does not exist",
            hint=f"Create it (mkdir -p {folder}) or, on a cluster, check that its shared filesystem is mounted here.",
        )
    writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK | os.X_OK)
    if not writable or not os.access(folder, os.W_OK | os.X_OK):
        raise RegistryError.single(
            where, "", f"{path if path.exists() else folder} cannot be written by this user (the journal file "
            "and its lock file beside it are written by every worker)",
            hint="Choose a folder you can write to, or ask its owner for write permission.",
        )
    return path


def make_journal_storage(url: str, heartbeat_seconds: int, grace_seconds: int) -> BaseStorage:
    """An Optuna journal file storage with heartbeats (:class:`HeartbeatJournalStorage`).

    Args:
        url: The ``journal://`` URL.
        heartbeat_seconds: How often a running trial writes its heartbeat.
        grace_seconds: After how long without one a running trial is failed and retried.

    Returns:
        The storage.

    Raises:
        RegistryError: as :func:`check_journal_file`.

    Example:
        >>> storage = make_journal_storage("journal:///tmp/dlw/study.log", 10, 30)  # doctest: +SKIP
    """
    path = check_journal_file(url)
    return HeartbeatJournalStorage(JournalFileBackend(str(path)), heartbeat_seconds, grace_seconds)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's journal storage with Optuna's heartbeat interface, so a killed worker's trial is retried.

    Args:
        backend: The journal backend (a ``JournalFileBackend``).
        heartbeat_seconds: How often a running trial writes its heartbeat.
        grace_seconds: After how long without one a running trial counts as dead.

    Example:
        >>> from optuna.storages.journal import JournalFileBackend
        >>> import tempfile
        >>> storage = HeartbeatJournalStorage(JournalFileBackend(f"{tempfile.mkdtemp()}/s.log"), 10, 30)
        >>> storage.get_heartbeat_interval()
        10
    """

    def __init__(self, backend: BaseJournalBackend, heartbeat_seconds: int, grace_seconds: int) -> None:
        super().__init__(backend)
        self.heartbeat_seconds = heartbeat_seconds
        self.grace_seconds = grace_seconds

    def record_heartbeat(self, trial_id: int) -> None:
        """Write the trial's heartbeat (the time now) into the journal."""
        try:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTRIBUTE, time.time())
        except UpdateFinishedTrialError:
            pass  # another worker failed it as stale meanwhile: there is nothing left to keep alive

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            beat = trial.system_attrs.get(HEARTBEAT_ATTRIBUTE)
            if beat is None and trial.datetime_start is not None:
                beat = trial.datetime_start.timestamp()
            if beat is not None and now - float(beat) > self.grace_seconds:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        """How often a running trial writes its heartbeat, in seconds."""
        return self.heartbeat_seconds

    def get_heartbeat_stale_trial_callback(self) -> Callable[[Any, Any], None] | None:
        """Run a trial whose worker died once more (as the database storage does)."""
        return RetryHeartbeatStaleTrialCallback(max_retry=1)
