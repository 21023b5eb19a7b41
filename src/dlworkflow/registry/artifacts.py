"""The artifact layout of a run: every file name a run writes, defined here and only here.

Each run owns one folder, ``<home>/runs/<run_id>/``. A run is written into a staging folder
(``<home>/runs/.staging-<run_id>/``) and renamed into place in one step when it is complete,
so a failed or interrupted run never leaves a half-written run folder behind::

    <home>/
      registry.db
      runs/
        20250101-120000-3f2a9c/
          model.keras            MODEL
          preprocessing.json     PREPROCESSING
          spec.toml              SPEC
          history.csv            HISTORY
          predictions_test.csv   predictions_file("test")
          confusion_matrix.png   CONFUSION_PLOT   (classification)
          test_images.png        IMAGE_GRID       (images)
          run.json               RECORD

Example:
    >>> from pathlib import Path
    >>> folder = RunFolder.stage(Path(".dlw"), "20250101-120000-3f2a9c")  # doctest: +SKIP
    >>> folder.path(MODEL).write_bytes(b"...")                            # doctest: +SKIP
    >>> folder.commit()                                                   # doctest: +SKIP
    PosixPath('.dlw/runs/20250101-120000-3f2a9c')
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import TracebackType

from dlworkflow.errors import RegistryError

MODEL = "model.keras"
"""The trained Keras model (``model.save``)."""

PREPROCESSING = "preprocessing.json"
"""The fitted preprocessing (scaler statistics, feature names, target encoding) as JSON."""

SPEC = "spec.toml"
"""The resolved spec the run was trained from."""

HISTORY = "history.csv"
"""The training history, one row per epoch."""

RECORD = "run.json"
"""The run's record (:class:`~dlworkflow.registry.record.RunRecord` as JSON), written into every finished
run's folder, so that ``dlw recover`` can record the run again into a registry that lost it."""

IMAGE_GRID = "test_images.png"
"""Image classification: a grid of test images titled with their true and predicted class."""

CONFUSION_PLOT = "confusion_matrix.png"
"""Classification: the test set's confusion matrix with the counts written in."""

CLASS_ACCURACY_PLOT = "class_accuracy.png"
"""Classification: the test set's accuracy per class, the overall accuracy as a line."""

MODEL_CARD = "model_card.md"
"""The model card: intended use, data, preprocessing, metrics beside baselines, limitations (markdown)."""

HISTORY_PLOT = "history.png"
"""Training against validation curves of the loss and each metric, the best epoch marked."""

PREDICTED_VS_TRUE_PLOT = "predicted_vs_true.png"
"""Regression: predicted against true values on training and test, with the best baseline's points."""

RESIDUALS_PLOT = "residuals.png"
"""Regression: the test set's residuals in row (time) order, the best baseline's behind."""

ONNX_MODEL = "model.onnx"
"""An ONNX bundle's model (``dlw export RUN DIR --format onnx``), in place of :data:`MODEL`."""

SAVED_MODEL = "saved_model"
"""A SavedModel bundle's model folder (``dlw export RUN DIR --format savedmodel``), in place of :data:`MODEL`."""

EXPLANATION = "explanation.json"
"""``dlw explain``: the permutation importances of a table's columns (or the saliency maps' settings)."""

IMPORTANCE_PLOT = "feature_importance.png"
"""``dlw explain`` on a table: the columns' permutation importances as bars, their spread as error bars."""

SALIENCY_GRID = "saliency_maps.png"
"""``dlw explain`` on images: the test-image grid with each image's saliency map laid over it."""

PARTS = ("train", "validation", "test")
"""The data parts a predictions file can be written for."""

TENSORBOARD = "tensorboard"
"""Folder of the TensorBoard logs of a run with ``[train.tensorboard]`` (``train/`` and ``validation/``)."""

RUNS_DIR = "runs"
"""The folder under the registry home that holds one folder per run."""

STAGING_PREFIX = ".staging-"
"""Prefix of a run folder that is still being written."""

INTERRUPTED_PREFIX = ".interrupted-"
"""Prefix of the folder of an interrupted run: its last checkpoint, kept for ``dlw resume``."""

CHECKPOINT_DIR = "checkpoint"
"""The folder of a running run's last epoch checkpoint (removed when the run finishes)."""

UNRECORDED_PREFIX = ".unrecorded-"
"""Prefix of the note beside a finished run's folder that is not (yet) in the registry:
``runs/.unrecorded-<run_id>.json`` holds the run's record and which process writes it
(:func:`unrecorded_file`); ``dlw runs`` lists these runs and ``dlw recover`` records them."""

OWNER = "owner.json"
"""Which process writes a staging folder (host, pid) and the run's record so far, so that a
run whose process was killed is recognised and recorded as interrupted."""


def predictions_file(part: str) -> str:
    """Return the file name of the predictions on one data part.

    Args:
        part: ``train``, ``validation`` or ``test``.

    Returns:
        ``predictions_<part>.csv``.

    Raises:
        ValueError: If ``part`` is not one of :data:`PARTS`.

    Example:
        >>> predictions_file("test")
        'predictions_test.csv'
    """
    if part not in PARTS:
        raise ValueError(f"predictions_file: part must be one of {', '.join(map(repr, PARTS))}; got {part!r}")
    return f"predictions_{part}.csv"


def interrupted_dir(root: Path, run_id: str) -> Path:
    """The kept folder of an interrupted run: ``root/runs/.interrupted-<run_id>``.

    Example:
        >>> interrupted_dir(Path("/tmp/dlw"), "r1").as_posix()
        '/tmp/dlw/runs/.interrupted-r1'
    """
    return runs_dir(Path(root)) / f"{INTERRUPTED_PREFIX}{run_id}"


def unrecorded_file(root: Path, run_id: str) -> Path:
    """The note of a finished run not yet in the registry: ``root/runs/.unrecorded-<run_id>.json``.

    Example:
        >>> unrecorded_file(Path("/tmp/dlw"), "r1").as_posix()
        '/tmp/dlw/runs/.unrecorded-r1.json'
    """
    return runs_dir(Path(root)) / f"{UNRECORDED_PREFIX}{_checked_name(run_id, 'run id', str(root))}.json"


def remove_tree(folder: Path) -> None:
    """Remove a folder and everything in it, also what a read-only folder inside holds; ignore what is gone.

    ``shutil.rmtree`` cannot empty a folder whose write permission was taken away, so a
    staging folder made read-only would stay forever; here such a folder is made writable
    again (it is the run's own) and the removal tried once more.

    Example:
        >>> remove_tree(Path("/nonexistent/folder"))  # nothing there: nothing to do
    """
    def writable_again(function: object, path: str, _info: object) -> None:
        try:
            os.chmod(os.path.dirname(path) or ".", 0o700)
            os.chmod(path, 0o700)
        except OSError:
            return
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)

    if os.path.lexists(folder):
        shutil.rmtree(folder, onerror=writable_again)


def runs_dir(root: Path) -> Path:
    """Return the folder that holds the run folders of a registry home.

    Args:
        root: The registry home (the artifacts root).

    Returns:
        ``root/runs``.

    Example:
        >>> runs_dir(Path(".dlw")).as_posix()
        '.dlw/runs'
    """
    return Path(root) / RUNS_DIR


def run_dir(root: Path, run_id: str) -> Path:
    """Return the (committed) folder of one run.

    Args:
        root: The registry home (the artifacts root).
        run_id: The run's id.

    Returns:
        ``root/runs/<run_id>`` (it may not exist).

    Raises:
        RegistryError: If ``run_id`` could escape the runs folder.

    Example:
        >>> run_dir(Path(".dlw"), "20250101-120000-3f2a9c").as_posix()
        '.dlw/runs/20250101-120000-3f2a9c'
    """
    return runs_dir(root) / _checked_name(run_id, "run id", str(runs_dir(root)))


def _checked_name(name: str, kind: str, where: str) -> str:
    """Return ``name`` if it is a plain file name (no separators, not ``.``/``..``), else raise."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or (os.sep in name)
        or (os.altsep is not None and os.altsep in name)
        or "\x00" in name
    ):
        raise RegistryError.single(
            where,
            "",
            f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} must be a plain name without path separators or '..'",
            got=name,
            hint="Use one of the file names defined in dlworkflow.registry.artifacts.",
        )
    return name


class RunFolder:
    """The folder of one run, written in a staging place and moved into place when complete.

    Create it with :meth:`stage`, write files to :meth:`path`, then either :meth:`commit`
    (an atomic rename to ``root/runs/<run_id>/``) or :meth:`discard` (remove everything).
    Used as a context manager, the folder is discarded when the block ends without a
    commit (an error, or a forgotten commit), so a failed run leaves nothing half-written.

    Args:
        root: The registry home (artifacts root).
        run_id: The run's id.

    Attributes:
        root: The registry home.
        run_id: The run's id.
        directory: Where files are now: the staging folder, then the run folder after commit.
        destination: The run folder the staging folder becomes on commit.

    Example:
        >>> with RunFolder.stage(home, run_id) as folder:       # doctest: +SKIP
        ...     folder.path(HISTORY).write_text("epoch,loss\\n")
        ...     final = folder.commit()
    """

    def __init__(self, root: Path, run_id: str):
        self.root = Path(root)
        self.run_id = _checked_name(run_id, "run id", str(runs_dir(self.root)))
        self.destination = runs_dir(self.root) / run_id
        self._staging = runs_dir(self.root) / f"{STAGING_PREFIX}{run_id}"
        self.directory = self._staging
        self._state = "new"

    @classmethod
    def stage(cls, root: Path, run_id: str) -> RunFolder:
        """Create the staging folder ``root/runs/.staging-<run_id>/`` and return its RunFolder.

        Args:
            root: The registry home (artifacts root); created when missing.
            run_id: The run's id.

        Returns:
            The RunFolder, ready for files.

        Raises:
            RegistryError: If the run id is not a plain name, the run folder or its staging
                folder already exists, or the folder cannot be created.

        Example:
            >>> folder = RunFolder.stage(Path(".dlw"), "20250101-120000-3f2a9c")  # doctest: +SKIP
            >>> folder.directory.name                                            # doctest: +SKIP
            '.staging-20250101-120000-3f2a9c'
        """
        folder = cls(root, run_id)
        if folder.destination.exists():
            raise RegistryError.single(
                str(folder.destination),
                "",
                "a run folder with this id already exists",
                got=run_id,
                hint="Use a new run id (Registry.new_run_id()).",
            )
        try:
            folder._staging.parent.mkdir(parents=True, exist_ok=True)
            folder._staging.mkdir()
        except FileExistsError as err:
            raise RegistryError.single(
                str(folder._staging),
                "",
                "a staging folder for this run id already exists (another process is writing it, "
                "or an earlier run was interrupted)",
                got=run_id,
                hint="Use a new run id, or delete the leftover staging folder if no run is writing it.",
            ) from err
        except OSError as err:
            raise RegistryError.single(
                str(folder._staging),
                "",
                f"cannot create the run's staging folder ({err.strerror or err})",
                hint="Check that the registry home is writable, or choose another one with --registry / DLW_REGISTRY.",
            ) from err
        folder._state = "staged"
        return folder

    def path(self, name: str) -> Path:
        """Return the path of an artifact file inside this run's folder.

        Args:
            name: A plain file name, normally one of this module's constants.

        Returns:
            ``directory / name``.

        Raises:
            RegistryError: If ``name`` holds a path separator or is ``..``, or the folder was discarded.

        Example:
            >>> folder.path(MODEL).name  # doctest: +SKIP
            'model.keras'
        """
        name = _checked_name(name, "artifact file name", str(self.directory))
        if self._state == "discarded":
            raise RegistryError.single(
                str(self.directory), name, "the run folder was discarded", hint="Stage a new run folder."
            )
        return self.directory / name

    def files(self) -> list[str]:
        """Return the names of the files written so far, sorted.

        Returns:
            The file names (not paths) in the folder; empty after :meth:`discard`.

        Example:
            >>> folder.files()  # doctest: +SKIP
            ['history.csv', 'model.keras']
        """
        if not self.directory.is_dir():
            return []
        return sorted(entry.name for entry in self.directory.iterdir() if entry.is_file())

    def commit(self) -> Path:
        """Move the staging folder to ``root/runs/<run_id>/`` in one atomic rename.

        Returns:
            The run folder.

        Raises:
            RegistryError: If the folder is not staged, the run folder already exists, or the
                rename fails.

        Example:
            >>> folder.commit()  # doctest: +SKIP
            PosixPath('.dlw/runs/20250101-120000-3f2a9c')
        """
        if self._state != "staged":
            raise RegistryError.single(
                str(self.directory), "", f"only a staged run folder can be committed; this one is {self._state}"
            )
        if self.destination.exists():
            raise RegistryError.single(
                str(self.destination),
                "",
                "a run folder with this id already exists",
                got=self.run_id,
                hint="Discard this folder and stage the run under a new id.",
            )
        try:
            os.rename(self._staging, self.destination)
        except OSError as err:
            raise RegistryError.single(
                str(self._staging),
                "",
                f"cannot move the staging folder to {str(self.destination)!r} ({err.strerror or err})",
                hint="Check that the registry home is writable.",
            ) from err
        self.directory = self.destination
        self._state = "committed"
        return self.destination

    def discard(self) -> None:
        """Remove the staging folder and everything in it (no effect after a commit).

        Example:
            >>> folder.discard()  # doctest: +SKIP
        """
        if self._state in ("committed", "discarded"):
            return
        remove_tree(self._staging)
        self._state = "discarded"

    def interrupt(self) -> Path:
        """Keep the staging folder, with its checkpoint, as ``root/runs/.interrupted-<run_id>/``.

        Returns:
            The kept folder (``dlw resume`` goes on from its checkpoint).

        Example:
            >>> folder.interrupt()  # doctest: +SKIP
            PosixPath('.dlw/runs/.interrupted-20250101-120000-3f2a9c')
        """
        kept = interrupted_dir(self.root, self.run_id)
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(self._staging, kept)
        self.directory = kept
        self._state = "interrupted"
        return kept

    @classmethod
    def adopt(cls, root: Path, run_id: str) -> RunFolder:
        """The RunFolder of a staging folder another process left (its process was killed).

        Example:
            >>> RunFolder.adopt(home, "20250101-120000-3f2a9c").interrupt()  # doctest: +SKIP
        """
        folder = cls(root, run_id)
        folder._state = "staged" if folder._staging.is_dir() else "new"
        return folder

    @classmethod
    def resume(cls, root: Path, run_id: str) -> RunFolder:
        """Stage an interrupted run's kept folder again, to go on from its checkpoint.

        Args:
            root: The registry home.
            run_id: The interrupted run's id.

        Returns:
            The staged folder (its checkpoint inside).

        Raises:
            RegistryError: If the run has no kept folder.

        Example:
            >>> folder = RunFolder.resume(home, "20250101-120000-3f2a9c")  # doctest: +SKIP
        """
        folder = cls(root, run_id)
        kept = interrupted_dir(folder.root, run_id)
        if not kept.is_dir():
            raise RegistryError.single(
                str(kept), "", "the interrupted run's folder, with its checkpoint, is missing",
                hint="It cannot go on; start the spec again with dlw run.",
            )
        shutil.rmtree(folder._staging, ignore_errors=True)
        os.rename(kept, folder._staging)
        folder._state = "staged"
        return folder

    @property
    def committed(self) -> bool:
        """True once :meth:`commit` has moved the folder into place."""
        return self._state == "committed"

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state != "committed":
            self.discard()

    def __repr__(self) -> str:
        return f"RunFolder({str(self.directory)!r}, {self._state})"
