"""A bundle: everything needed to use a trained model elsewhere, in one folder, nothing pickled.

``dlw export RUN DIR`` writes::

    DIR/
      model.keras          the trained model (Keras' zip: architecture JSON + weights)
      preprocessing.json   the fitted preprocessing (features, scaler statistics, classes)
      spec.toml            the resolved spec the run was trained from
      model_card.md        the model card (:mod:`dlworkflow.sharing.model_card`)
      bundle.json          the manifest: format, run id, backend and versions, sha256 of every file

The bundle is written into a hidden staging folder next to ``DIR`` and renamed into place
when complete, so a failed export leaves nothing half-written. An existing folder is never
mixed with: a non-empty ``DIR`` is refused unless ``force`` is given *and* it holds an
earlier bundle (a ``bundle.json``), which is then replaced as a whole; a folder that holds
the run itself or the registry is always refused.

:meth:`Bundle.open` reads a bundle back and checks every file against the manifest's sha256
before anything is used; :meth:`Bundle.from_run` reads a run's folder in the registry the
same way (a run folder has no manifest: its files are the registry's own).

Example:
    >>> write_bundle(run_dir, record, "shared/weather")  # doctest: +SKIP
    PosixPath('/home/ann/shared/weather')
    >>> Bundle.open("shared/weather").backend  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import DataError, Problem, RegistryError
from dlworkflow.hashing import file_sha256
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
    directory: str | Path, files: list[str], record: RunRecord | Mapping[str, Any], preprocessing: Preprocessing | None = None
) -> dict[str, Any]:
    """The manifest of a bundle folder: what it is, where it came from, each file's sha256.

    Args:
        directory: The folder holding ``files``.
        files: The file names to list.
        record: The run's record (id, name, task, backend, versions).
        preprocessing: The run's saved preprocessing (says whether the model takes images).

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
        "backend": backend,
        "versions": {name: recorded[name] for name in wanted if name in recorded},
        "files": {
            name: {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size} for name in files
        },
    }


def write_bundle(
    run_dir: str | Path,
    record: RunRecord | Mapping[str, Any],
    destination: str | Path,
    *,
    force: bool = False,
) -> Path:
    """Write the bundle of a run into a folder, all at once.

    Args:
        run_dir: The run's folder in the registry.
        record: The run's current record (its model card shows the current test-set looks).
        destination: The bundle folder; created (with its parents) when missing.
        force: Replace ``destination`` when it holds an earlier bundle.

    Returns:
        The bundle folder, absolute.

    Raises:
        RegistryError: when the run has no model files (it failed, or its folder was
            removed), ``destination`` is a file, a non-empty folder (without ``force``),
            a folder that is not a bundle (even with ``force``), or holds the run itself, or
            the bundle cannot be written.

    Example:
        >>> write_bundle(registry.run_dir(run_id), record, "shared/weather", force=True)  # doctest: +SKIP
        PosixPath('/home/ann/shared/weather')
    """
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.sharing.model_card import model_card

    source = Path(run_dir)
    record = RunRecord.coerce(record)
    run_id = record.id
    missing = [name for name in MODEL_FILES if not (source / name).is_file()]
    if missing:
        raise RegistryError.single(
            str(source), f"run {run_id}", f"has no {', '.join(missing)} to export",
            hint="Only a finished run has a model; check it with `dlw show RUN` (a failed run keeps no artifacts).",
        )
    target = Path(destination).absolute()
    _check_destination(target, source, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
        staging.mkdir()  # with the user's umask, unlike tempfile.mkdtemp's private 0700
    except OSError as err:
        raise _write_error(target, err) from err
    try:
        for name in MODEL_FILES:
            shutil.copyfile(source / name, staging / name)
        preprocessing = _read_preprocessing(staging / artifacts.PREPROCESSING)
        (staging / MODEL_CARD).write_text(model_card(record, preprocessing), encoding="utf-8")
        listed = manifest(staging, [*MODEL_FILES, MODEL_CARD], record, preprocessing)
        (staging / BUNDLE_FILE).write_text(json.dumps(listed, indent=2) + "\n", encoding="utf-8")
        _move_into_place(staging, target)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_error(target, err) from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_error(target: Path, err: OSError) -> RegistryError:
    return RegistryError.single(  # type: ignore[return-value]
        str(target), "", f"cannot write the bundle ({err.strerror or err})",
        hint="Check that the folder's parent exists or can be created and is writable, and that the disk has room.",
    )


def _check_destination(target: Path, run_dir: Path, *, force: bool) -> None:
    where = str(target)
    resolved, run_folder = target.resolve(), run_dir.resolve()
    if resolved == run_folder or resolved in run_folder.parents:
        raise RegistryError.single(
            where, "", "holds the run's own folder (or the registry); exporting there would replace it",
            hint="Export to a new folder outside the registry, e.g. `dlw export RUN shared/my_model`.",
        )
    if not target.exists():
        return
    if not target.is_dir():
        raise RegistryError.single(where, "", "is a file, not a folder", hint="Name a new or empty folder.")
    if not any(target.iterdir()):
        return
    if not force:
        raise RegistryError.single(
            where, "", "the folder is not empty; an export never mixes with other files",
            hint="Name a new or empty folder, or pass --force (Python: force=True) to replace an earlier bundle.",
        )
    if not (target / BUNDLE_FILE).is_file():
        raise RegistryError.single(
            where, "", f"the folder is not empty and holds no {BUNDLE_FILE}: --force replaces only an earlier bundle",
            hint="Name a new or empty folder; files that are not a bundle are never deleted.",
        )


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename the finished staging folder to ``target``; an earlier bundle there goes only once it has."""
    if not target.exists():
        os.rename(staging, target)
        return
    if not any(target.iterdir()):
        target.rmdir()
        os.rename(staging, target)
        return
    previous = target.with_name(f".{target.name}.{secrets.token_hex(4)}.replaced")
    os.rename(target, previous)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


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

    @property
    def model_path(self) -> Path:
        """The ``.keras`` file."""
        return self.directory / artifacts.MODEL

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
            DataError: when the folder is missing or holds no ``bundle.json``, the manifest is
                unreadable or from a newer dlworkflow, a file it lists is missing or its
                sha256 differs (changed or damaged after export; all such files are named),
                or the preprocessing or spec cannot be read.

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
        try:
            listed = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise DataError.single(where, "", f"the manifest cannot be read ({err})",
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
    absent = [name for name in MODEL_FILES if name not in listed["files"]]
    if absent:
        raise DataError.single(where, "files", f"the manifest lists no {', '.join(absent)}",
                               hint="Export the run again with `dlw export RUN DIR`.")


def _check_files(folder: Path, listed: Mapping[str, Any], where: str) -> None:
    problems = []
    for name, entry in listed["files"].items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            problems.append(Problem(where, "files", "names a file outside the bundle folder", got=name,
                                    hint="Do not use this bundle; export the run again."))
            continue
        path = folder / name
        expected = (entry or {}).get("sha256") if isinstance(entry, dict) else None
        if not path.is_file():
            problems.append(Problem(str(path), "", "missing: the manifest lists it",
                                    hint="Copy the whole bundle folder, or export the run again."))
        elif not isinstance(expected, str) or sha256_file(path) != expected:
            got = sha256_file(path)
            problems.append(Problem(
                str(path), "", f"its sha256 does not match {BUNDLE_FILE}: the file was changed or damaged after "
                f"export (expected {str(expected)[:16]}…, got {got[:16]}…)",
                hint="Do not use it: get an intact copy of the bundle, or export the run again "
                "(dlw export RUN DIR --force).",
            ))
    if problems:
        raise DataError(problems)


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
