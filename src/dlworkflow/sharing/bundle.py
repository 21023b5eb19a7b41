"""A bundle: everything needed to use a trained model elsewhere, in one folder, nothing pickled.

``dlw export RUN DIR`` writes::

    DIR/
      model.keras          the trained model (Keras' zip: architecture JSON + weights);
                           model.onnx instead with --format onnx (:mod:`dlworkflow.sharing.onnx_export`),
                           a saved_model/ folder with --format savedmodel (its files listed one by one)
      preprocessing.json   the fitted preprocessing (features, scaler statistics, classes)
      spec.toml            the resolved spec the run was trained from
      model_card.md        the model card (:mod:`dlworkflow.sharing.model_card`)
      bundle.json          the manifest: format, run id, backend and versions, sha256 of every file

:func:`~dlworkflow.sharing.bundle_export.write_bundle` writes it (never over files it did not
write, see there).

:meth:`Bundle.open` reads a bundle back and checks every file against the manifest's sha256
before anything is used; :meth:`Bundle.from_run` reads a run's folder in the registry the
same way (a run folder has no manifest: its files are the registry's own).

Example:
    >>> Bundle.open("shared/weather").backend  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import DataError, Problem, RegistryError
from dlworkflow.hashing import file_sha256
from dlworkflow.output_files import file_kind
from dlworkflow.registry import artifacts

if TYPE_CHECKING:
    from dlworkflow.data.preprocessing import Preprocessing
    from dlworkflow.registry.record import RunRecord

BUNDLE_FILE = "bundle.json"
"""The manifest of a bundle."""

MODEL_CARD = artifacts.MODEL_CARD
"""The model card, in a bundle and in a run folder."""

FORMAT = "dlworkflow-bundle"
"""The manifest's ``format`` value."""

FORMAT_VERSION = 1
"""The manifest layout this version writes and the newest it reads."""

MODEL_FILES = (artifacts.MODEL, artifacts.PREPROCESSING, artifacts.SPEC)
"""The run's files a bundle copies (and a prediction needs)."""

MODEL_FORMAT_FILES = {"keras": artifacts.MODEL, "onnx": artifacts.ONNX_MODEL, "savedmodel": artifacts.SAVED_MODEL}
"""The model file (a folder for a SavedModel) of each bundle format (the manifest's ``model_format``, ``keras`` when
absent)."""

BUNDLE_FILES = (*MODEL_FILES, MODEL_CARD, artifacts.ONNX_MODEL, artifacts.SAVED_MODEL)
"""Every file (or folder) a bundle's manifest lists (``bundle.json`` itself besides): all ``--force`` ever replaces."""

MODEL_FOLDERS = (artifacts.SAVED_MODEL,)
"""The bundle entries that are folders: the manifest lists their files as ``folder/…/file``."""

SAVED_MODEL_PROGRAM = f"{artifacts.SAVED_MODEL}/saved_model.pb"
"""The file a SavedModel folder cannot be without (its graph)."""


def model_files(model_format: str = "keras") -> tuple[str, ...]:
    """The files a bundle of a model format needs: its model, the preprocessing and the spec.

    Example:
        >>> model_files("onnx")
        ('model.onnx', 'preprocessing.json', 'spec.toml')
    """
    return (MODEL_FORMAT_FILES[model_format], artifacts.PREPROCESSING, artifacts.SPEC)


def listed_files(folder: Path, names: Iterable[str]) -> list[str]:
    """The names a manifest lists: each file as it is, each folder's files as ``folder/…/file`` (sorted).

    Example:
        >>> _ = (tmp / "saved_model" / "variables").mkdir(parents=True)
        >>> for name in ("saved_model/saved_model.pb", "saved_model/variables/variables.index", "spec.toml"):
        ...     _ = (tmp / name).write_text("x")
        >>> listed_files(tmp, ["saved_model", "spec.toml"])
        ['saved_model/saved_model.pb', 'saved_model/variables/variables.index', 'spec.toml']
    """
    found: list[str] = []
    for name in names:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            found += sorted(member.relative_to(folder).as_posix() for member in path.rglob("*") if member.is_file())
        else:
            found.append(name)
    return found


def _entry_names(model_format: str) -> tuple[str, ...]:
    """What a manifest must list for a model format (a folder: its indispensable file)."""
    return tuple(SAVED_MODEL_PROGRAM if name == artifacts.SAVED_MODEL else name for name in model_files(model_format))

MAX_MANIFEST_BYTES = 1 << 20
"""A ``bundle.json`` larger than this (1 MiB) is not one dlworkflow wrote (a few hundred bytes)."""

MAX_FILE_BYTES = {
    BUNDLE_FILE: MAX_MANIFEST_BYTES,
    artifacts.PREPROCESSING: 64 << 20,
    artifacts.SPEC: 4 << 20,
    MODEL_CARD: 16 << 20,
}
"""The largest size of each small file of a bundle; ``model.keras`` is bounded by its zip members
(:func:`dlworkflow.sharing.model_loading.check_archive`)."""

MAX_NAMED = 10
"""At most this many file names are listed in one message."""

BACKEND_PACKAGES = {"jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow",), "torch": ("torch",)}
"""The packages of each Keras backend, whose versions the manifest records."""


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file's bytes, as hex (:func:`dlworkflow.hashing.file_sha256`).

    Args:
        path: The file.

    Returns:
        64 hex digits.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "model.keras"
        >>> _ = path.write_bytes(b"abc")
        >>> sha256_file(path)[:16]
        'ba7816bf8f01cfea'
    """
    return file_sha256(path).hex()


def manifest(
    directory: str | Path,
    files: list[str],
    record: RunRecord | Mapping[str, Any],
    preprocessing: Preprocessing | None = None,
    *,
    model_format: str = "keras",
) -> dict[str, Any]:
    """The manifest of a bundle folder: what it is, where it came from, each file's sha256.

    Args:
        directory: The folder holding ``files``.
        files: The file names to list (a folder: each of its files, :func:`listed_files`).
        record: The run's record (id, name, task, backend, versions).
        preprocessing: The run's saved preprocessing (says whether the model takes images).
        model_format: ``keras``, ``onnx`` or ``savedmodel``; any but ``keras`` is written as ``model_format``.

    Returns:
        ``{"format", "format_version", "run_id", "name", "exported_at", "task", "target",
        "kind", "backend", "versions", "files": {name: {"sha256", "bytes"}}}``; ``versions``
        holds the run's Python, dlworkflow, Keras, NumPy and backend package versions.

    Example:
        >>> manifest("bundle", ["model.keras"], record)["files"]["model.keras"]["bytes"]  # doctest: +SKIP
        181234
    """
    from dlworkflow.registry.record import RunRecord

    folder = Path(directory)
    record = RunRecord.coerce(record)
    backend = record.backend
    recorded = record.versions
    wanted = ("python", "dlworkflow", "keras", *BACKEND_PACKAGES.get(str(backend), ()), "numpy")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "run_id": record.id,
        "name": record.name,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": record.data.task,
        "target": record.data.target,
        "kind": "images" if preprocessing is not None and preprocessing.is_images else "table",
        **({} if model_format == "keras" else {"model_format": model_format}),
        "backend": backend,
        "versions": {name: recorded[name] for name in wanted if name in recorded},
        "files": {
            name: {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
            for name in listed_files(folder, files)
        },
    }


@dataclass(frozen=True)
class Bundle:
    """A model ready to predict with: its folder, saved preprocessing, spec and backend.

    Build one with :meth:`open` (a bundle folder, checked against its manifest) or
    :meth:`from_run` (a run folder of the registry).

    Attributes:
        directory: The folder.
        where: How messages name it (the manifest's path, or the run).
        run_id: The run the model comes from.
        name: The run's name.
        backend: The Keras backend the run trained with, or None when unknown.
        preprocessing: The saved preprocessing (``preprocessing.json``, read as a
            :class:`~dlworkflow.data.preprocessing.TablePreprocessing` or
            :class:`~dlworkflow.data.preprocessing.ImagePreprocessing`).
        spec: The resolved spec (``spec.toml``) as a dict.
        manifest: The parsed ``bundle.json``; None for a run folder.
        model_format: ``keras`` (``model.keras``), ``onnx`` (``model.onnx``, predicted with onnxruntime) or
            ``savedmodel`` (the ``saved_model`` folder, predicted with TensorFlow).

    Example:
        >>> bundle = Bundle.open("shared/weather")  # doctest: +SKIP
        >>> bundle.model_path.name, bundle.preprocessing.scaling.method  # doctest: +SKIP
        ('model.keras', 'none')
    """

    directory: Path
    where: str
    run_id: str | None
    name: str | None
    backend: str | None
    preprocessing: Preprocessing
    spec: dict[str, Any]
    manifest: dict[str, Any] | None = field(default=None, repr=False)
    model_format: str = "keras"

    @property
    def model_path(self) -> Path:
        """The model file: ``model.keras``, ``model.onnx`` for an ONNX bundle, the ``saved_model`` folder."""
        return self.directory / MODEL_FORMAT_FILES[self.model_format]

    @property
    def files(self) -> tuple[Path, ...]:
        """The model's own files: those the manifest lists and the manifest (a run: its model files)."""
        names = [*self.manifest["files"], BUNDLE_FILE] if self.manifest else list(MODEL_FILES)
        return tuple(self.directory / name for name in names)

    @property
    def is_images(self) -> bool:
        """Whether the model takes images (else a table)."""
        return self.preprocessing.is_images

    @classmethod
    def open(cls, directory: str | Path) -> Bundle:
        """Read a bundle folder, checking every file against the manifest's sha256.

        Args:
            directory: The folder ``dlw export`` wrote.

        Returns:
            The bundle.

        Raises:
            DataError: when the folder is missing or holds no ``bundle.json``, holds a symbolic
                link (wherever it points), the manifest is unreadable or from a newer
                dlworkflow, a file it lists is missing, not a regular file, larger than
                :data:`MAX_FILE_BYTES` allows or its size or sha256 differs (changed or damaged
                after export; all such files are named), or the preprocessing or spec cannot
                be read. The manifest detects damage, not tampering: anyone who changes a
                file can write a matching manifest.

        Example:
            >>> Bundle.open("shared/weather").run_id  # doctest: +SKIP
            '20261123-215917-474e44'
        """
        folder = Path(directory).absolute()
        path = folder / BUNDLE_FILE
        where = str(path)
        if not folder.is_dir():
            raise DataError.single(str(folder), "", "bundle folder not found",
                                   hint="Give the folder `dlw export RUN DIR` wrote, or a run id.")
        if not path.is_file():
            raise DataError.single(
                str(folder), "", f"not a dlworkflow bundle: it holds no {BUNDLE_FILE}",
                hint="Give a folder written by `dlw export RUN DIR`, or the run id to predict from the registry.",
            )
        check_members(folder, [BUNDLE_FILE])
        try:
            listed = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise DataError.single(where, "", f"the manifest cannot be read ({type(err).__name__}: {err})",
                                   hint="Export the run again.") from err
        _check_manifest(listed, where)
        _check_files(folder, listed, where)
        return cls(
            directory=folder,
            where=where,
            run_id=listed.get("run_id"),
            name=listed.get("name"),
            backend=listed.get("backend"),
            preprocessing=_read_preprocessing(folder / artifacts.PREPROCESSING),
            spec=_read_toml(folder / artifacts.SPEC),
            manifest=listed,
            model_format=listed.get("model_format", "keras"),
        )

    @classmethod
    def from_run(cls, directory: str | Path, record: RunRecord | Mapping[str, Any]) -> Bundle:
        """Read a run's folder in the registry as a bundle (no manifest to check).

        Args:
            directory: The run folder (``Registry.run_dir``).
            record: The run's record (its id, name and backend).

        Returns:
            The bundle.

        Raises:
            RegistryError: when the run is not finished or its folder lacks a model file.
            DataError: when the preprocessing or spec cannot be read.

        Example:
            >>> Bundle.from_run(store.run_dir(run_id), store.get(run_id))  # doctest: +SKIP
        """
        from dlworkflow.registry.record import RunRecord

        folder = Path(directory)
        record = RunRecord.coerce(record)
        run_id = record.id
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if record.status != "finished" or missing:
            state = record.status
            what = f"is {state} and has no model" if state != "finished" else f"its folder lacks {', '.join(missing)}"
            raise RegistryError.single(
                str(folder), f"run {run_id}", what,
                hint="Predict with a finished run (`dlw runs` lists them), or train one with `dlw run SPEC`.",
            )
        check_members(folder, MODEL_FILES)
        return cls(
            directory=folder,
            where=f"run {run_id}",
            run_id=run_id,
            name=record.name,
            backend=record.backend,
            preprocessing=_read_preprocessing(folder / artifacts.PREPROCESSING),
            spec=_read_toml(folder / artifacts.SPEC),
        )


def _check_manifest(listed: Any, where: str) -> None:
    if not isinstance(listed, dict) or listed.get("format") != FORMAT or not isinstance(listed.get("files"), dict):
        raise DataError.single(where, "", f"not a dlworkflow bundle manifest (format {FORMAT!r} with files)",
                               hint="Export the run again with `dlw export RUN DIR`.")
    version = listed.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DataError.single(
            where, "format_version", f"this dlworkflow reads bundles up to version {FORMAT_VERSION}", got=version,
            hint="Upgrade dlworkflow (pip install -U dlworkflow) to read this bundle.",
        )
    model_format = listed.get("model_format", "keras")
    if model_format not in MODEL_FORMAT_FILES:
        raise DataError.single(
            where, "model_format", f"this dlworkflow reads {', '.join(map(repr, MODEL_FORMAT_FILES))} bundles",
            got=model_format, hint="Upgrade dlworkflow (pip install -U dlworkflow) to read this bundle.",
        )
    absent = [name for name in _entry_names(model_format) if name not in listed["files"]]
    if absent:
        raise DataError.single(where, "files", f"the manifest lists no {', '.join(absent)}",
                               hint="Export the run again with `dlw export RUN DIR`.")


def _check_files(folder: Path, listed: Mapping[str, Any], where: str) -> None:
    problems = []
    for name, entry in listed["files"].items():
        if not _inside(name):
            problems.append(Problem(where, "files", "names a file outside the bundle folder", got=name,
                                    hint="Do not use this bundle; export the run again."))
            continue
        path = folder / name
        if "/" in name and (refused := _folder_problem(folder, name)) is not None:
            problems.append(refused)
            continue
        expected = (entry or {}).get("sha256") if isinstance(entry, dict) else None
        declared = (entry or {}).get("bytes") if isinstance(entry, dict) else None
        refused = _member_problem(path)
        if refused is not None:
            problems.append(refused)
        else:
            size = path.stat().st_size
            if isinstance(declared, int) and size != declared:  # no need to read it all
                differs = f"it holds {size} bytes, the manifest says {declared}"
            elif not isinstance(expected, str) or (got := sha256_file(path)) != expected:
                differs = f"expected {str(expected)[:16]}…, got {got[:16]}…" if isinstance(expected, str) else \
                    "the manifest gives no sha256"
            else:
                continue
            problems.append(Problem(
                str(path), "", f"its sha256 does not match {BUNDLE_FILE}: the file was changed or damaged after "
                f"export ({differs})",
                hint="Do not use it: get an intact copy of the bundle, or export the run again "
                "(dlw export RUN DIR --force).",
            ))
    if problems:
        raise DataError(problems)


def _inside(name: Any) -> bool:
    """Whether a manifest's name is a file of the bundle folder, or of one of its model folders."""
    if not isinstance(name, str) or "\\" in name:
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts) and (len(parts) == 1 or parts[0] in MODEL_FOLDERS)


def _folder_problem(folder: Path, name: str) -> Problem | None:
    """A file inside a model folder: every folder on its way must be a real folder (no link followed)."""
    parts = name.split("/")
    for depth in range(1, len(parts)):
        step = folder.joinpath(*parts[:depth])
        try:
            status = os.lstat(step)
        except OSError:
            return Problem(str(folder / name), "", "missing: the model needs it",
                           hint="Copy the whole bundle folder, or export the run again.")
        if not stat.S_ISDIR(status.st_mode):
            return Problem(str(step), "", f"is {file_kind(status.st_mode)}, not a folder; a bundle holds regular "
                           "files and folders only and no link is followed",
                           hint="Copy the whole bundle folder again, or export the run again.")
    return None


def check_members(folder: Path, names: Iterable[str]) -> None:
    """Refuse a bundle or run folder holding a link, or a file of its own that is not a regular file of a sane size.

    Every symbolic link in the folder is refused, wherever it points (a bundle holds regular
    files only); each named file must be a regular file within :data:`MAX_FILE_BYTES`.
    Nothing is read but the folder's entries.

    Args:
        folder: The bundle or run folder.
        names: The files the model needs from it.

    Raises:
        DataError: naming each link and each file that is missing, not regular or too large.

    Example:
        >>> _ = (tmp / "spec.toml").write_text("name = 'x'")
        >>> (tmp / "model.keras").symlink_to("/etc/hostname")
        >>> check_members(tmp, ["spec.toml", "model.keras"])
        Traceback (most recent call last):
        ...
        dlworkflow.errors.DataError: .../model.keras: is a symbolic link (to '/etc/hostname'); ...
    """
    problems = []
    links = sorted(entry.name for entry in os.scandir(folder) if entry.is_symlink())
    for name in links:
        problems.append(Problem(
            str(folder / name), "", f"is a symbolic link (to {os.readlink(folder / name)!r}); a bundle holds "
            "regular files only and no link is followed",
            hint="Replace the link by the file itself (cp -L), or export the run again.",
        ))
    for name in names:
        if name not in links and (problem := _member_problem(folder / name)) is not None:
            problems.append(problem)
    if problems:
        raise DataError(problems)


def _member_problem(path: Path) -> Problem | None:
    """What is wrong with one of a bundle's files, looked at with ``lstat`` only, or None."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return Problem(str(path), "", "missing: the model needs it",
                       hint="Copy the whole bundle folder, or export the run again.")
    except OSError as err:
        return Problem(str(path), "", f"cannot be looked at ({err.strerror or err})", hint="Check its permissions.")
    if stat.S_ISLNK(status.st_mode):
        return Problem(str(path), "", "is a symbolic link; a bundle holds regular files only and no link is followed",
                       hint="Replace the link by the file itself (cp -L), or export the run again.")
    if not stat.S_ISREG(status.st_mode):
        return Problem(str(path), "", f"is {file_kind(status.st_mode)}, not a regular file",
                       hint="Copy the whole bundle folder again, or export the run again.")
    limit = MAX_FILE_BYTES.get(path.name)
    if limit is not None and status.st_size > limit:
        return Problem(str(path), "", f"holds {status.st_size} bytes, more than a bundle's {path.name} may "
                       f"({limit} bytes)", hint="Do not use it: export the run again.")
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError.single(str(path), "", f"cannot be read as JSON ({err})", hint="Export the run again.") from err
    if not isinstance(value, dict):
        raise DataError.single(str(path), "", "must hold a JSON object", got=type(value).__name__,
                               hint="Export the run again.")
    return value


def _read_preprocessing(path: Path) -> Preprocessing:
    from dlworkflow.data.preprocessing import Preprocessing

    return Preprocessing.from_dict(_read_json(path), source=str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataError.single(str(path), "", f"cannot be read as TOML ({err})", hint="Export the run again.") from err
