"""Predictions of a shared model for new rows or images, in the layout of a run's own predictions.

:func:`new_input` turns ``--input`` into network input with the bundle's saved preprocessing
(a CSV table: :mod:`dlworkflow.data.new_rows`; an image file or folder:
:mod:`dlworkflow.data.new_images`). :func:`predict_part` runs the model through the same
function a run scores its parts with (:func:`dlworkflow.training.prediction.predict`, Keras'
default batch size of 32), so the same rows in the same order give the same numbers as the
run's ``predictions_<part>.csv``. :func:`predictions_frame` lays them out as those files do:
``prediction`` (the value, or the class name) and, for classes, one ``probability_<class>``
column per class; image predictions start with the ``file`` column, a windowed model's with
``row`` (the input row that ends each window).

Keras is imported only by :func:`predict_part`, through the model it is given.

Example:
    >>> part = new_input(bundle, "new_days.csv")  # doctest: +SKIP
    >>> predictions_frame(part, predict_part(model, part, bundle.preprocessing), bundle.preprocessing)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import DataError
from dlworkflow.output_files import OutputFile
from dlworkflow.workflow_warning import warn_each

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.data.dataset import Part
    from dlworkflow.data.preprocessing import Preprocessing
    from dlworkflow.sharing.bundle import Bundle

PREDICTION_COLUMN = "prediction"
"""The predicted value (regression) or class name (classification), as in a run's predictions files."""

ROW_COLUMN = "row"
"""A windowed model's predictions: the input row (from 1, after the header) whose window each prediction is for."""

PROBABILITY_PREFIX = "probability_"
"""Prefix of the per-class probability columns."""

MAX_NAMED = 10
"""At most this many rows or image files are named in one message."""


def new_input(bundle: Bundle, source: str | Path | pd.DataFrame, *, ignore_extra: bool = False) -> Part:
    """Read ``--input`` and apply the bundle's saved preprocessing: the network's input.

    Args:
        bundle: The model's bundle (its preprocessing and spec).
        source: A CSV file or a DataFrame of rows (table models), or an image file or folder
            (image models).
        ignore_extra: Table models: allow columns the model does not know.

    Returns:
        A part named ``new`` (see :func:`dlworkflow.data.new_rows.prepare_rows` and
        :func:`dlworkflow.data.new_images.prepare_images`).

    Raises:
        DataError: for input the model cannot take (missing or extra columns, text or missing
            values, unreadable images), naming the file.

    Example:
        >>> new_input(Bundle.open("shared/weather"), "new_days.csv").x.shape  # doctest: +SKIP
        (5, 89)
    """
    return _new_input(bundle, source, ignore_extra=ignore_extra)[0]


def _new_input(
    bundle: Bundle, source: str | Path | pd.DataFrame, *, ignore_extra: bool = False
) -> tuple[Part, tuple[str, ...]]:
    """:func:`new_input` and the notes on its rows (unseen category values, imputed gaps)."""
    import pandas as pd

    if bundle.is_images:
        from dlworkflow.data.new_images import prepare_images

        if isinstance(source, pd.DataFrame):
            raise DataError.single("<DataFrame>", "", "the model takes images, not a table",
                                   hint="Give an image file or a folder of images.")
        return prepare_images(source, bundle.preprocessing), ()
    from dlworkflow.data.new_rows import accepted_columns, prepare_rows_noted, read_rows

    spec_data = bundle.spec.get("data") or {}
    persistence = (bundle.spec.get("evaluate") or {}).get("persistence")
    frame = source if isinstance(source, pd.DataFrame) else read_rows(source)
    return prepare_rows_noted(
        frame, bundle.preprocessing, source="<DataFrame>" if isinstance(source, pd.DataFrame) else str(source),
        accepted=accepted_columns(bundle.preprocessing, spec_data, persistence), ignore_extra=ignore_extra,
    )


def predict_part(model: Any, part: Part, preprocessing: Preprocessing | Mapping[str, Any]) -> np.ndarray:
    """The model's predictions for a part, exactly as a run computes its own.

    Args:
        model: The loaded Keras model.
        part: From :func:`new_input`.
        preprocessing: The saved preprocessing, or its ``preprocessing.json`` dict (how a
            streamed image part is decoded).

    Returns:
        ``(rows,)`` values (in the target's own units: a scaled target's are put back with the
        saved ``target_scaling``) or ``(rows, classes)`` probabilities, float64.

    Raises:
        DataError: when an image file cannot be read while streaming.

    Example:
        >>> predict_part(model, part, bundle.preprocessing).shape  # doctest: +SKIP
        (5,)
    """
    from dlworkflow.data.preprocessing import ImagePreprocessing, as_preprocessing
    from dlworkflow.training.prediction import predict

    saved = as_preprocessing(preprocessing)
    image = saved.image.to_dict() if isinstance(saved, ImagePreprocessing) else None
    return saved.target_scaling.inverse(predict(model, part, image=image))


def predictions_frame(
    part: Part, predicted: np.ndarray, preprocessing: Preprocessing | Mapping[str, Any]
) -> pd.DataFrame:
    """Lay out predictions as a run's predictions files do, one row per input row, in input order.

    Args:
        part: The input (its frame gives the ``file`` column of images).
        predicted: From :func:`predict_part`.
        preprocessing: The saved preprocessing, or its ``preprocessing.json`` dict (class names).

    Returns:
        ``[file,] [row,] prediction[, probability_<class>...]``.

    Raises:
        DataError: when the model's outputs do not match the saved classes.

    Example:
        >>> probabilities = np.array([[0.9, 0.1]])
        >>> predictions_frame(part, probabilities, {"class_names": ["a", "b"]}).columns.tolist()  # doctest: +SKIP
        ['prediction', 'probability_a', 'probability_b']
    """
    import pandas as pd

    from dlworkflow.data.preprocessing import as_preprocessing

    saved = as_preprocessing(preprocessing)
    frame = pd.DataFrame(index=pd.RangeIndex(len(part.frame)))
    if saved.is_images and "file" in part.frame.columns:
        frame["file"] = part.frame["file"].to_numpy()
    window = getattr(saved, "window", None)
    if window is not None:  # each prediction is for the row ending its window (1-based, after the header)
        frame[ROW_COLUMN] = np.arange(window.span, window.span + len(part.frame))
    class_names = saved.class_names
    if not class_names:
        frame[PREDICTION_COLUMN] = np.asarray(predicted).reshape(-1)
        return frame
    if predicted.ndim != 2 or predicted.shape[1] != len(class_names):
        raise DataError.single(
            "model.keras", "", f"the model gives {predicted.shape[1:]} outputs per row, "
            f"but the preprocessing names {len(class_names)} classes",
            hint="The model and preprocessing.json come from different runs: export the run again.",
        )
    names = np.asarray([str(name) for name in class_names], dtype=object)
    frame[PREDICTION_COLUMN] = names[np.argmax(predicted, axis=1)]
    for index, name in enumerate(names):
        frame[f"{PROBABILITY_PREFIX}{name}"] = predicted[:, index]
    return frame


def check_finite(predicted: np.ndarray, part: Part, *, where: str) -> None:
    """Refuse predictions that are NaN or infinite: an error naming the rows (or image files).

    Args:
        predicted: From :func:`predict_part`.
        part: The input (row numbers, or the ``file`` column of images).
        where: The model file, for the message.

    Raises:
        DataError: naming the rows whose prediction is not a finite number.

    Example:
        >>> from types import SimpleNamespace
        >>> rows = SimpleNamespace(frame=__import__("pandas").DataFrame({"a": [1, 2, 3]}))
        >>> check_finite(np.array([1.0, np.inf, np.nan]), rows, where="bundle/model.keras")
        Traceback (most recent call last):
        ...
        dlworkflow.errors.DataError: bundle/model.keras: the model gives NaN or infinite predictions for 2 rows \
(data rows 2, 3, counting from 1 after the header); nothing was written. ...
    """
    values = np.asarray(predicted, dtype=np.float64)
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1) if values.size else np.zeros(0, bool)
    if not bad.any():
        return
    indices = np.flatnonzero(bad)
    more = f" and {len(indices) - MAX_NAMED} more" if len(indices) > MAX_NAMED else ""
    frame = part.frame
    if "file" in frame.columns and len(frame) == len(values):
        files = ", ".join(repr(str(frame["file"].iloc[index])) for index in indices[:MAX_NAMED])
        named = f"{len(indices)} image{'s' if len(indices) > 1 else ''} ({files}{more})"
    else:
        rows = ", ".join(str(int(index) + 1) for index in indices[:MAX_NAMED])
        plural = "s" if len(indices) > 1 else ""
        named = f"{len(indices)} row{plural} (data row{plural} {rows}{more}, counting from 1 after the header)"
    raise DataError.single(
        where, "", f"the model gives NaN or infinite predictions for {named}; nothing was written",
        hint="Check those inputs: values far outside the training data can overflow the network. "
        "If every row fails, the model itself is broken (its weights hold NaN): train and export it again.",
    )


def prediction_output(
    output: str | Path | None, source: str | Path | pd.DataFrame, *, force: bool = False
) -> OutputFile | None:
    """The ``--output`` file of a prediction, checked before any work: never the input, never an existing file.

    Args:
        output: The CSV file to write, or None (nothing is written).
        source: The input (``--input``): the output may never be it.
        force: Replace an existing file (``--force``); the input is refused even so.

    Returns:
        The checked output, or None.

    Raises:
        DataError: when ``output`` is the input file, exists (without ``force``), or is a
            folder, device, FIFO or socket, or its folder does not exist.

    Example:
        >>> _ = (tmp / "rows.csv").write_text("a\\n1\\n")
        >>> prediction_output(tmp / "rows.csv", tmp / "rows.csv", force=True)
        Traceback (most recent call last):
        ...
        dlworkflow.errors.DataError: .../rows.csv: --output: is the input file ...; writing there would destroy ...
    """
    if output is None:
        return None
    inputs = [Path(source)] if isinstance(source, (str, Path)) else []
    target = OutputFile(output, force=force, option="--output", error=DataError, inputs=inputs)
    target.check()
    return target


def write_predictions(frame: pd.DataFrame, output: str | Path | OutputFile, *, force: bool = False) -> Path:
    """Write predictions as CSV (numbers written so they read back bit for bit), all at once or not at all.

    Args:
        frame: From :func:`predictions_frame`.
        output: The CSV file (its folder must exist), or an :class:`~dlworkflow.output_files.OutputFile`.
        force: Replace an existing file (never a folder, device or FIFO).

    Returns:
        The file written.

    Raises:
        DataError: when the file exists (without ``force``), is not a regular file, or cannot
            be written (a full disk); no temporary file is left.

    Example:
        >>> write_predictions(frame, "predictions.csv")  # doctest: +SKIP
        PosixPath('predictions.csv')
    """
    target = output if isinstance(output, OutputFile) else OutputFile(output, force=force)
    with target.writing() as temporary:
        frame.to_csv(temporary, index=False)
    return target.path


def predict_bundle(
    bundle: Bundle,
    source: str | Path | pd.DataFrame,
    output: OutputFile | None = None,
    *,
    ignore_extra: bool = False,
    registry: str | None = None,
) -> pd.DataFrame:
    """Check the input, load the model safely, predict, refuse non-finite values, write the CSV.

    The input is read and checked before Keras is imported; the backend the run trained
    with is then activated and the model loaded with safe mode (see
    :mod:`dlworkflow.sharing.model_loading`). An ONNX bundle is run by onnxruntime instead
    (:mod:`dlworkflow.sharing.onnx_prediction`): Keras and its backends are never imported; a
    SavedModel bundle by TensorFlow's serving signature (:mod:`dlworkflow.sharing.saved_model_prediction`).

    Args:
        bundle: The model (:func:`dlworkflow.sharing.bundle_source.bundle_for`).
        source: A CSV file or a DataFrame (table models), an image file or folder (image models).
        output: Where to write the predictions (:func:`prediction_output`), or None.
        ignore_extra: Table models: ignore columns the model does not know.
        registry: The registry where predicting a registered test set's rows counts a look
            (:func:`test_set_look_note`, raised as a
            :class:`~dlworkflow.workflow_warning.WorkflowWarning`).

    Returns:
        The predictions (:func:`predictions_frame`).

    Raises:
        DataError: for input the model cannot take, a model holding Python code or too large
            to load, NaN or infinite predictions (naming the rows), or an output that cannot
            be written (nothing is written then).

    Example:
        >>> predict_bundle(Bundle.open("shared/weather"), "new_days.csv").shape  # doctest: +SKIP
        (5, 1)
    """
    from dlworkflow.sharing.model_loading import (
        activate_saved_backend,
        check_safe,
        load_model_safely,
    )

    if output is not None:  # nor may the predictions replace the model's own files
        output = replace(output, inputs=(*output.inputs, *bundle.files))
        output.check()
    if bundle.model_format == "onnx":  # onnxruntime: no Keras, no backend imported
        from dlworkflow.sharing.onnx_prediction import onnx_session, predict_onnx

        session = onnx_session(bundle.model_path)  # onnxruntime installed, the model loadable: before the input
        part, notes = _new_input(bundle, source, ignore_extra=ignore_extra)
        predicted = bundle.preprocessing.target_scaling.inverse(predict_onnx(bundle.model_path, part, session))
    elif bundle.model_format == "savedmodel":  # TensorFlow's serving signature: no Keras model loaded
        from dlworkflow.sharing.saved_model_prediction import (
            load_saved_model,
            predict_saved_model,
        )

        part, notes = _new_input(bundle, source, ignore_extra=ignore_extra)
        image = bundle.preprocessing.image.to_dict() if bundle.is_images else None  # type: ignore[attr-defined]
        outputs = predict_saved_model(load_saved_model(bundle.model_path), part, image, where=str(bundle.model_path))
        predicted = bundle.preprocessing.target_scaling.inverse(outputs)
    else:
        check_safe(bundle.model_path)
        part, notes = _new_input(bundle, source, ignore_extra=ignore_extra)
        activate_saved_backend(bundle.backend, where=bundle.where)
        predicted = predict_part(load_model_safely(bundle.model_path), part, bundle.preprocessing)
    check_finite(predicted, part, where=str(bundle.model_path))
    frame = predictions_frame(part, predicted, bundle.preprocessing)
    if output is not None:
        write_predictions(frame, output)
    note = test_set_look_note(bundle, source, registry)
    warn_each([*notes, *([note] if note else [])])
    return frame


def test_set_look_note(bundle: Bundle, source: str | Path | pd.DataFrame, registry: str | None) -> str | None:
    """Count a look at a registered test set when the rows predicted are its rows, target included.

    Rows whose fingerprint (features and target, in order: what a run's test set is
    fingerprinted by) is a registered test set's can be scored against their target: that
    is a look at the test set, counted as a run's is, and said. Counted in the registry of
    a run's model (``source`` a run id), or of a bundle folder when ``registry`` is given;
    images and rows without the target column are never a look.

    Args:
        bundle: The model's bundle.
        source: The rows predicted (a CSV file or a DataFrame).
        registry: The registry's SQLAlchemy URL, or None (the default one, for a run's model).

    Returns:
        The note (registered name, fingerprint, the look's number, the run), or None when
        the rows are not a registered test set.

    Example:
        >>> test_set_look_note(bundle, "penguins_test.csv", None)  # doctest: +SKIP
        "penguins_test.csv: these rows with their target are test set 'penguins' (…): look #4 at it ..."
    """
    import pandas as pd

    from dlworkflow.data.fingerprint import table_fingerprint
    from dlworkflow.data.new_rows import read_rows
    from dlworkflow.registry import Registry

    preprocessing = bundle.preprocessing
    if bundle.is_images or (bundle.manifest is not None and registry is None) or not preprocessing.target:
        return None
    frame = source if isinstance(source, pd.DataFrame) else read_rows(source)
    frame = frame.rename(columns=str)
    if preprocessing.target not in frame.columns:
        return None
    features = frame[list(preprocessing.feature_names)]
    fingerprint = table_fingerprint(features, frame[preprocessing.target])
    with Registry.open(registry) as store:
        look = store.count_look(fingerprint)
    if look is None:
        return None
    shown = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    return (
        f"{shown}: these rows with their target are test set {look.name!r} ({fingerprint[:12]}): "
        f"look #{look.look} at it, counted for run {bundle.run_id} ({bundle.name}). A score on them is a "
        "test score; choose between models on validation and look at the test set once, at the end."
    )
