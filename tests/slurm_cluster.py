"""A throwaway single-node SLURM cluster for the test suite: Debian's ``slurm-wlm`` and ``munge``, a temporary folder.

``dlw run --executor slurm`` and ``dlw tune --executor slurm`` submit jobs through submitit,
so the tests marked ``slurm`` run them against a real cluster, as the PostgreSQL tests run
against a real server. :meth:`SlurmCluster.start` writes a ``slurm.conf`` in a new temporary
folder (controller and compute node on 127.0.0.1 at free ports, state, spool, logs and the
munge socket all in that folder, ``CPUs`` = the machine's), starts ``munged`` (as the
``munge`` user), ``slurmctld`` and ``slurmd`` in the foreground as children of the test
process, and waits until ``srun -N1 hostname`` answers. :meth:`SlurmCluster.stop` cancels
every job left, stops the daemons and deletes the folder. Jobs find the cluster through
``SLURM_CONF`` (:attr:`SlurmCluster.environment`).

The daemons run as root (``SlurmUser=root``): the cluster is only started when the tests run
as root, as in CI's container; elsewhere the ``slurm`` tests skip, saying why.

Example:
    >>> cluster = SlurmCluster.start()             # doctest: +SKIP
    >>> os.environ.update(cluster.environment)     # doctest: +SKIP
    >>> subprocess.run(["srun", "-N1", "hostname"], check=True)  # doctest: +SKIP
    >>> cluster.stop()                             # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PROGRAMS = ("munged", "slurmctld", "slurmd", "srun", "sbatch", "squeue", "scancel", "scontrol")
"""The programs of Debian's packages ``munge`` and ``slurm-wlm`` that the cluster needs."""

INSTALL_HINT = "install Debian's packages: apt-get install slurm-wlm munge"

START_TIMEOUT_SECONDS = 60.0
"""How long to wait for the cluster to run a first job step."""

STOP_TIMEOUT_SECONDS = 20.0
"""How long each daemon gets to stop on SIGTERM before it is killed."""

MUNGE_KEY = Path("/etc/munge/munge.key")
"""The key Debian's package ``munge`` creates."""

CONFIGURATION = """\
ClusterName=dlwtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={folder}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=5
OverTimeLimit=0
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
"""
"""``slurm.conf`` of the test cluster (the settings of issue 18's notes, ports and paths filled in)."""


class SlurmUnavailable(RuntimeError):
    """This machine cannot run a SLURM cluster for the tests (the ``slurm`` tests skip)."""


def check_machine() -> None:
    """Raise :class:`SlurmUnavailable` unless the programs, the munge user and key and root are there.

    Example:
        >>> check_machine()  # doctest: +SKIP
    """
    missing = [program for program in PROGRAMS if shutil.which(program) is None]
    if missing:
        raise SlurmUnavailable(f"needs the programs {', '.join(missing)} ({INSTALL_HINT})")
    if os.geteuid() != 0:
        raise SlurmUnavailable("starts slurmctld and slurmd as root; the tests do not run as root")
    if not MUNGE_KEY.is_file():
        raise SlurmUnavailable(f"needs munge's key {MUNGE_KEY} ({INSTALL_HINT})")
    try:
        import pwd

        pwd.getpwnam("munge")
    except KeyError as err:
        raise SlurmUnavailable(f"needs the system user munge ({INSTALL_HINT})") from err


class SlurmCluster:
    """A single-node SLURM cluster (munged, slurmctld, slurmd) in a temporary folder, for one test session.

    Attributes:
        folder: The temporary folder (``slurm.conf``, state, spool, logs, munge socket).
        conf: The ``slurm.conf`` path; clients find the cluster through ``SLURM_CONF``.

    Example:
        >>> cluster = SlurmCluster.start()  # doctest: +SKIP
        >>> cluster.stop()                  # doctest: +SKIP
    """

    def __init__(self, folder: Path, processes: list[subprocess.Popen[bytes]]):
        """Wrap started daemons; use :meth:`start` instead."""
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self._processes = processes

    @property
    def environment(self) -> dict[str, str]:
        """What a client (``sbatch``, submitit, a test) needs in its environment: ``SLURM_CONF``.

        Example:
            >>> cluster.environment  # doctest: +SKIP
            {'SLURM_CONF': '/tmp/dlw-slurm-.../slurm.conf'}
        """
        return {"SLURM_CONF": str(self.conf)}

    @classmethod
    def start(cls) -> SlurmCluster:
        """Write the configuration, start the three daemons and wait until a job step runs.

        Returns:
            The running cluster.

        Raises:
            SlurmUnavailable: If programs, the munge user or key, or root are missing.
            RuntimeError: If the daemons start but no job step runs within
                :data:`START_TIMEOUT_SECONDS` (with the ends of their logs).

        Example:
            >>> cluster = SlurmCluster.start()  # doctest: +SKIP
        """
        check_machine()
        folder = Path(tempfile.mkdtemp(prefix="dlw-slurm-"))
        folder.chmod(0o755)
        cluster = cls(folder, [])
        try:
            cluster._configure()
            cluster._launch()
            cluster._wait_until_ready()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        """Cancel every job left, stop the daemons (slurmd, slurmctld, munged) and delete the folder.

        Example:
            >>> cluster.stop()  # doctest: +SKIP
        """
        if self.conf.is_file() and self._processes:
            subprocess.run(["scancel", "--full", "--user=root"], env=self._client_env(), timeout=30,
                           capture_output=True, check=False)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while self._jobs_left() and time.monotonic() < deadline:
                time.sleep(0.5)
        for process in reversed(self._processes):
            _end(process)
        self._processes.clear()
        _kill_step_daemons(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self, name: str = "slurmctld.log", lines: int = 30) -> str:
        """The last lines of one of the cluster's logs (``slurmctld.log``, ``slurmd.log``, ``munge/munged.log``).

        Example:
            >>> print(cluster.log("slurmd.log"))  # doctest: +SKIP
        """
        try:
            return "\n".join((self.folder / name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ------------------------------------------------------------------ helpers

    def _configure(self) -> None:
        for name in ("state", "spool"):
            (self.folder / name).mkdir()
        munge = self.folder / "munge"
        munge.mkdir(mode=0o711)
        shutil.chown(munge, "munge", "munge")
        munge.chmod(0o711)
        host = socket.gethostname()
        self.conf.write_text(CONFIGURATION.format(
            host=host, controller_port=_free_port(), node_port=_free_port(), folder=self.folder,
            cpus=os.cpu_count() or 1,
        ))

    def _launch(self) -> None:
        munge = self.folder / "munge"
        self._processes.append(_spawn([
            "runuser", "-u", "munge", "--", "munged", "--foreground", "--force",
            f"--socket={munge}/munge.socket", f"--pid-file={munge}/munged.pid",
            f"--log-file={munge}/munged.log", f"--seed-file={munge}/munged.seed",
        ], self.folder / "munge-stdout.log"))
        deadline = time.monotonic() + 10
        while not (munge / "munge.socket").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self._processes.append(_spawn(["slurmctld", "-D", "-f", str(self.conf)], self.folder / "slurmctld.out"))
        self._processes.append(_spawn(["slurmd", "-D", "-f", str(self.conf)], self.folder / "slurmd.out"))

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        last = ""
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} stopped at its start:\n{self._logs()}")
            try:
                answer = subprocess.run(["srun", "-N1", "--immediate=5", "hostname"], env=self._client_env(),
                                        capture_output=True, text=True, timeout=15, check=False)
            except subprocess.TimeoutExpired:
                continue
            if answer.returncode == 0:
                return
            last = answer.stderr.strip()
            time.sleep(1)
        raise RuntimeError(f"the cluster did not run a job step within {START_TIMEOUT_SECONDS:.0f} s ({last}):\n"
                           f"{self._logs()}")

    def _logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name, 15)}" for name in
                         ("munge/munged.log", "slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"))

    def _jobs_left(self) -> bool:
        try:
            listing = subprocess.run(["squeue", "-h", "-o", "%i"], env=self._client_env(), capture_output=True,
                                     text=True, timeout=15, check=False)
        except subprocess.TimeoutExpired:
            return False
        return listing.returncode == 0 and bool(listing.stdout.strip())

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.environment}


def _spawn(command: list[str], output: Path) -> subprocess.Popen[bytes]:
    with output.open("wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _kill_step_daemons(folder: Path) -> None:
    """End the ``slurmstepd`` processes this cluster's slurmd left (their command line names its spool folder)."""
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"slurmstepd" in command and str(folder).encode() in command:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
