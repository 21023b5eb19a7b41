"""Files a user names as output: written only where nothing of theirs is lost, never half-written.

Every path ``dlw`` writes on a user's behalf (``dlw report -o``, ``dlw predict --output``,
a bundle's files) goes through :class:`OutputFile`, which:

* writes **regular files only**: an existing device (``/dev/full``), FIFO, socket or folder,
  or a symbolic link to one (or to nothing), is refused with an error naming the path;
  a link to a regular file is written through, so the link stays;
* never replaces **an input**: a path that is the same file as one being read (same inode,
  or the same resolved path) is always refused;
* refuses **an existing file** unless ``force`` is given, or ``replaceable`` says the file is
  one dlworkflow wrote (a page of an earlier ``dlw report``, say);
* writes **through a temporary file** in the same folder, which is renamed into place when
  complete and removed on any failure: a full disk leaves the old file as it was and no
  temporary file behind, and gives one error.

The error is of the class the caller names (a prediction's output is data, a run's page or
bundle belongs to the registry), so each command keeps its exit code.

Example:
    >>> page = OutputFile(tmp / "page.html", option="-o")
    >>> page.write_text("<html></html>").name
    'page.html'
    >>> page.write_text("again")
    Traceback (most recent call last):
    ...
    dlworkflow.errors.DataError: .../page.html: -o: the file exists; dlw replaces an existing file only when asked. ...
    >>> OutputFile(tmp / "page.html", force=True).write_text("again").read_text()
    'again'
    >>> OutputFile(tmp, option="-o").check()
    Traceback (most recent call last):
    ...
    dlworkflow.errors.DataError: ...: -o: is a folder, not a file. Name a file, e.g. .../output.csv.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dlworkflow.errors import DataError, WorkflowError

TEMPORARY_SUFFIX = ".partial"
"""Ending of the temporary file an output is written to before it is renamed into place."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words.

    Args:
        mode: ``os.stat(path).st_mode``.

    Returns:
        ``"a regular file"``, ``"a folder"``, ``"a character device"``, ….

    Example:
        >>> file_kind(os.stat(".").st_mode)
        'a folder'
    """
    return next((kind for test, kind in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode) else "not a file")


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths name the same file: the same inode when both exist, else the same resolved path.

    Args:
        first: A path.
        second: Another path.

    Returns:
        True when writing ``first`` would replace ``second``.

    Example:
        >>> _ = (tmp / "rows.csv").write_text("a\\n1\\n")
        >>> same_file(tmp / "rows.csv", tmp / "." / "rows.csv"), same_file(tmp / "rows.csv", tmp / "out.csv")
        (True, False)
    """
    try:
        return os.path.samefile(first, second)
    except OSError:
        return Path(first).resolve() == Path(second).resolve()


@dataclass(frozen=True, init=False)
class OutputFile:
    """A file to write for the user, safely (see the module's description).

    Args:
        path: The file the user named.
        force: Replace an existing regular file.
        option: How messages name where the path came from (``--output``, ``-o``, ``DIR``).
        error: The :class:`~dlworkflow.errors.WorkflowError` subclass raised (its exit code).
        inputs: Files being read, which the output must never replace (even with ``force``).
        replaceable: Says whether an existing file is one dlworkflow wrote and may replace
            without ``force``.
        make_parents: Create missing parent folders.

    Example:
        >>> out = OutputFile(tmp / "new" / "predictions.csv", make_parents=True)
        >>> with out.writing() as temporary:
        ...     _ = temporary.write_text("prediction\\n1.5\\n")
        >>> out.path.read_text()
        'prediction\\n1.5\\n'
    """

    path: Path
    force: bool = False
    option: str = "--output"
    error: type[WorkflowError] = DataError
    inputs: tuple[Path, ...] = ()
    replaceable: Callable[[Path], bool] | None = field(default=None, compare=False)
    make_parents: bool = False

    def __init__(
        self,
        path: str | Path,
        *,
        force: bool = False,
        option: str = "--output",
        error: type[WorkflowError] = DataError,
        inputs: Iterable[str | Path | None] = (),
        replaceable: Callable[[Path], bool] | None = None,
        make_parents: bool = False,
    ):
        object.__setattr__(self, "path", Path(path))
        object.__setattr__(self, "force", force)
        object.__setattr__(self, "option", option)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "inputs", tuple(Path(item) for item in inputs if item is not None))
        object.__setattr__(self, "replaceable", replaceable)
        object.__setattr__(self, "make_parents", make_parents)

    def _fail(self, what: str, hint: str, path: Path | None = None) -> WorkflowError:
        return self.error.single(str(path or self.path), self.option, what, hint=hint)

    def check(self) -> Path:
        """Refuse a path that must not be written, before any work is done.

        Returns:
            The file that will be written: the path, or the regular file a link points to.

        Raises:
            WorkflowError: (of class ``error``) for a folder, device, FIFO, socket, a link
                to one or to nothing, an input file, an existing file without ``force``, or a
                parent that is not a folder.

        Example:
            >>> OutputFile("/dev/null").check()
            Traceback (most recent call last):
            ...
            dlworkflow.errors.DataError: /dev/null: --output: is a character device, not a regular file; ...
        """
        path = self.path
        for source in self.inputs:
            if same_file(path, source):
                raise self._fail(
                    f"is the input file {str(source)!r}; writing there would destroy the input",
                    "Name another file for the output.",
                )
        target = path
        try:
            status = os.stat(path)
        except FileNotFoundError:
            if path.is_symlink():
                raise self._fail("is a symbolic link to nothing; dlw does not write through it",
                                 "Remove the link or name another file.") from None
            self._check_parent(path.parent)
            return path
        except NotADirectoryError:
            self._check_parent(path.parent)
            raise
        except OSError as err:
            raise self._fail(f"cannot be looked at ({err.strerror or err})", "Check the path and its permissions.") from err
        if not stat.S_ISREG(status.st_mode):
            kind = file_kind(status.st_mode)
            linked = f" (a symbolic link to {kind})" if path.is_symlink() else ""
            if stat.S_ISDIR(status.st_mode):
                raise self._fail(f"is a folder{linked}, not a file", f"Name a file, e.g. {path / 'output.csv'}.")
            raise self._fail(f"is {kind}{linked}, not a regular file; dlw writes only regular files",
                             "Name a regular file (a new one, or one dlw wrote).")
        if path.is_symlink():
            target = path.resolve()
        if not self.force and not (self.replaceable is not None and self.replaceable(target)):
            raise self._fail(
                "the file exists and is not one dlw wrote; it is left as it is" if self.replaceable is not None
                else "the file exists; dlw replaces an existing file only when asked",
                "Name a new file, or remove this one first"
                + (" (or pass --force to replace it)." if self.option == "--output" else "."),
            )
        return target

    def _check_parent(self, parent: Path) -> None:
        if parent.is_dir():
            return
        if parent.exists() or any(folder.is_file() for folder in parent.parents):
            raise self._fail("its folder is not a folder", "Name a file inside an existing folder.", parent)
        if not self.make_parents:
            raise self._fail("its folder does not exist", "Create the folder first, or name a file in an existing one.",
                             parent)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Write the file: the block writes to the yielded temporary path, renamed into place at its end.

        The temporary file is in the same folder (``.<name>.<random>.partial``), created with
        the usual permissions; if the block raises, or the rename fails, it is removed and the
        file at :attr:`path` is as it was.

        Yields:
            The temporary file's path (it exists, empty).

        Raises:
            WorkflowError: as :meth:`check`, or when the file cannot be written (a full disk,
                no permission), naming the path and the reason.

        Example:
            >>> with OutputFile(tmp / "a.txt").writing() as temporary:
            ...     _ = temporary.write_text("text")
            >>> sorted(path.name for path in tmp.iterdir())
            ['a.txt']
        """
        target = self.check()
        temporary = self._create_temporary(target)
        try:
            yield temporary
            self._move_into_place(temporary, target)
        except OSError as err:
            _remove(temporary)
            raise self._write_error(err) from err
        except BaseException:
            _remove(temporary)
            raise

    def write_text(self, text: str, *, encoding: str = "utf-8") -> Path:
        """Write text (see :meth:`writing`).

        Returns:
            :attr:`path`.

        Example:
            >>> OutputFile(tmp / "b.txt").write_text("ok").read_text()
            'ok'
        """
        with self.writing() as temporary:
            temporary.write_text(text, encoding=encoding)
        return self.path

    def write_bytes(self, data: bytes) -> Path:
        """Write bytes (see :meth:`writing`).

        Returns:
            :attr:`path`.

        Example:
            >>> OutputFile(tmp / "c.bin").write_bytes(b"ok").stat().st_size
            2
        """
        with self.writing() as temporary:
            temporary.write_bytes(data)
        return self.path

    def _create_temporary(self, target: Path) -> Path:
        try:
            if self.make_parents:
                target.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(8):
                temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
                try:
                    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
                except FileExistsError:
                    continue
                if target.exists():
                    _keep_mode(target, temporary)
                return temporary
            raise FileExistsError(errno.EEXIST, "no free temporary name")
        except OSError as err:
            raise self._write_error(err) from err

    def _move_into_place(self, temporary: Path, target: Path) -> None:
        if self.force or target.exists():
            self.check()  # nothing was swapped in meanwhile (a folder, a FIFO, an input)
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)  # fails if a file appeared meanwhile: never replaces one
        except FileExistsError:
            self.check()
            os.replace(temporary, target)  # check() allowed it: one of ours
            return
        except OSError:  # a file system without hard links
            self.check()
            os.replace(temporary, target)
            return
        _remove(temporary)

    def _write_error(self, err: OSError) -> WorkflowError:
        full = err.errno in (errno.ENOSPC, errno.EDQUOT)
        return self._fail(
            f"cannot write the file ({err.strerror or err})",
            "Free some disk space and run the command again; nothing was written."
            if full else "Check that the folder exists and is writable; nothing was written.",
        )


def _keep_mode(existing: Path, temporary: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(temporary, stat.S_IMODE(os.stat(existing).st_mode))


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
