"""``dlw export``: a run's bundle written all at once, never over files dlworkflow did not write.

The bundle (see :mod:`dlworkflow.sharing.bundle`) is written into a hidden staging folder
next to ``DIR`` and renamed into place when complete, so a failed export leaves nothing
half-written. An existing folder is never mixed with: a non-empty ``DIR`` is refused unless
``force`` is given *and* it holds an earlier bundle and nothing else: a ``bundle.json`` that
parses as a dlworkflow manifest and only the files it lists (all of them names a bundle
holds). Those files alone are then replaced, the manifest last, in the same folder; anything
else in ``DIR`` (a ``src/`` folder, notes, a link) makes ``force`` refuse, leaving
everything in place. A folder that holds the run itself or the registry is always refused.

Example:
    >>> write_bundle(run_dir, record, "shared/weather")  # doctest: +SKIP
    PosixPath('/home/ann/shared/weather')
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import DataError, RegistryError
from dlworkflow.output_files import file_kind
from dlworkflow.registry import artifacts
from dlworkflow.sharing.bundle import (
    BUNDLE_FILE,
    BUNDLE_FILES,
    MAX_MANIFEST_BYTES,
    MAX_NAMED,
    MODEL_CARD,
    MODEL_FILES,
    MODEL_FOLDERS,
    _check_manifest,
    _read_preprocessing,
    manifest,
    model_files,
)

if TYPE_CHECKING:
    from dlworkflow.registry.record import RunRecord


def write_bundle(
    run_dir: str | Path,
    record: RunRecord | Mapping[str, Any],
    destination: str | Path,
    *,
    force: bool = False,
    model_format: str = "keras",
) -> Path:
    """Write the bundle of a run into a folder, all at once.

    Args:
        run_dir: The run's folder in the registry.
        record: The run's current record (its model card shows the current test-set looks).
        destination: The bundle folder; created (with its parents) when missing.
        force: Replace the files of an earlier bundle in ``destination`` (only those its
            manifest lists, and only when it holds nothing else).
        model_format: ``keras`` (the run's ``model.keras``, copied), ``onnx`` (``model.onnx``) or
            ``savedmodel`` (a ``saved_model`` folder), converted by
            :func:`dlworkflow.sharing.onnx_export.convert_model`.

    Returns:
        The bundle folder, absolute.

    Raises:
        RegistryError: when the run has no model files (it failed, or its folder was
            removed), ``destination`` is a file, a non-empty folder (without ``force``),
            a folder that is not a bundle or holds anything its manifest does not list (even
            with ``force``), or holds the run itself, or the bundle cannot be written; for an
            unknown ``model_format``, a converter that is not installed or a failed conversion.

    Example:
        >>> write_bundle(registry.run_dir(run_id), record, "shared/weather", force=True)  # doctest: +SKIP
        PosixPath('/home/ann/shared/weather')
    """
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.sharing.model_card import model_card
    from dlworkflow.sharing.onnx_export import check_converter, convert_model

    check_converter(model_format)
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
    if target.is_symlink() and target.is_dir():
        target = target.resolve()  # a link to a folder: export into that folder, the link stays
    replaced = _check_destination(target, source, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
        staging.mkdir()  # with the user's umask, unlike tempfile.mkdtemp's private 0700
    except OSError as err:
        raise _write_error(target, err) from err
    try:
        files = model_files(model_format)
        for name in files[1:] if model_format != "keras" else files:
            shutil.copyfile(source / name, staging / name)
        if model_format != "keras":
            convert_model(source / artifacts.MODEL, staging / files[0], model_format)
        preprocessing = _read_preprocessing(staging / artifacts.PREPROCESSING)
        (staging / MODEL_CARD).write_text(model_card(record, preprocessing), encoding="utf-8")
        listed = manifest(staging, [*files, MODEL_CARD], record, preprocessing, model_format=model_format)
        (staging / BUNDLE_FILE).write_text(json.dumps(listed, indent=2) + "\n", encoding="utf-8")
        _move_into_place(staging, target, replaced)
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


def _check_destination(target: Path, run_dir: Path, *, force: bool) -> tuple[str, ...]:
    """Refuse a destination an export must not touch; return the earlier bundle's files ``force`` replaces."""
    where = str(target)
    resolved, run_folder = target.resolve(), run_dir.resolve()
    if resolved == run_folder or resolved in run_folder.parents:
        raise RegistryError.single(
            where, "", "holds the run's own folder (or the registry); exporting there would replace it",
            hint="Export to a new folder outside the registry, e.g. `dlw export RUN shared/my_model`.",
        )
    if target.is_symlink() and not target.exists():
        raise RegistryError.single(where, "", "is a symbolic link to nothing", hint="Remove the link or name a folder.")
    if not target.exists():
        return ()
    if not target.is_dir():
        kind = file_kind(target.stat().st_mode)
        raise RegistryError.single(where, "", f"is {kind}, not a folder", hint="Name a new or empty folder.")
    if not any(target.iterdir()):
        return ()
    if not force:
        raise RegistryError.single(
            where, "", "the folder is not empty; an export never mixes with other files",
            hint="Name a new or empty folder, or pass --force (Python: force=True) to replace an earlier bundle.",
        )
    listed = _earlier_bundle_files(target)
    present = sorted(os.listdir(target))
    foreign = [name for name in present if name not in listed or not _replaceable(target / name)]
    if foreign:
        shown = ", ".join(repr(name) for name in foreign[:MAX_NAMED])
        more = f" and {len(foreign) - MAX_NAMED} more" if len(foreign) > MAX_NAMED else ""
        raise RegistryError.single(
            where, "", f"holds what the earlier bundle's {BUNDLE_FILE} does not list: {shown}{more}; "
            "--force replaces only the files of an earlier bundle",
            hint="Move those elsewhere, or name a new or empty folder; nothing was changed.",
        )
    return tuple(name for name in present if name in listed)


def _earlier_bundle_files(target: Path) -> set[str]:
    """The files a folder's ``bundle.json`` lists (and itself), when it is a dlworkflow manifest; else an error."""
    path = target / BUNDLE_FILE

    def refuse(why: str) -> RegistryError:
        return RegistryError.single(  # type: ignore[return-value]
            str(target), "", f"the folder is not empty and {why}: --force replaces only an earlier bundle",
            hint="Name a new or empty folder; files that are not a bundle are never deleted.",
        )

    try:
        status = os.lstat(path)
    except FileNotFoundError:
        raise refuse(f"holds no {BUNDLE_FILE}") from None
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_MANIFEST_BYTES:
        raise refuse(f"its {BUNDLE_FILE} is not a dlworkflow manifest")
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))
        _check_manifest(listed, str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, DataError) as err:
        raise refuse(f"its {BUNDLE_FILE} is not a dlworkflow manifest") from err
    names = {name.split("/")[0] for name in listed["files"]}  # a model folder's files: the folder
    if not names <= set(BUNDLE_FILES):
        raise refuse(f"its {BUNDLE_FILE} lists files no dlworkflow bundle holds ({sorted(names - set(BUNDLE_FILES))!r})")
    return names | {BUNDLE_FILE}


def _replaceable(path: Path) -> bool:
    """An earlier bundle's entry ``--force`` may replace: a regular file, or a real model folder (no link)."""
    mode = os.lstat(path).st_mode
    return stat.S_ISREG(mode) or (stat.S_ISDIR(mode) and path.name in MODEL_FOLDERS)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _move_into_place(staging: Path, target: Path, replaced: tuple[str, ...]) -> None:
    """Move the finished bundle to ``target``: a rename, or file by file over an earlier bundle (manifest last).

    Only the earlier bundle's own files (``replaced``) are replaced or removed; the folder
    itself, its permissions and anything that appears in it meanwhile stay.
    """
    if not target.exists():
        os.rename(staging, target)
        return
    if not replaced:
        target.rmdir()  # empty: fails, leaving everything, if a file appeared meanwhile
        os.rename(staging, target)
        return
    new = sorted(path.name for path in staging.iterdir())
    for name in [*(name for name in new if name != BUNDLE_FILE), BUNDLE_FILE]:
        if name in MODEL_FOLDERS and name in replaced:
            _remove(target / name)  # a folder is not replaced by a rename over it
        os.replace(staging / name, target / name)
    for name in replaced:
        if name not in new:
            _remove(target / name)
    staging.rmdir()
