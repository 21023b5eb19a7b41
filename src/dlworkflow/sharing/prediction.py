"""Predictions of a shared model for new rows or images, in the layout of a run's own predictions.

:func:`new_input` turns ``--input`` into network input with the bundle's saved preprocessing
(a CSV table: :mod:`dlworkflow.data.new_rows`; an image file or folder:
:mod:`dlworkflow.data.new_images`). :func:`predict_part` runs the model through the same
function a run scores its parts with (:func:`dlworkflow.training.prediction.predict`, Keras'
default batch size of 32), so the same rows in the same order give the same numbers as the
run's ``predictions_<part>.csv``. :func:`predictions_frame` lays them out as those files do:
``prediction`` (the value, or the class name) and, for classes, one ``probability_<class>``
column per class; image predictions start with the ``file`` column.

Keras is imported only by :func:`predict_part`, through the model it is given.

Example:
    >>> part = new_input(bundle, "new_days.csv")  # doctest: +SKIP
    >>> predictions_frame(part, predict_part(model, part, bundle.preprocessing), bundle.preprocessing)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.data.dataset import Part
    from dlworkflow.data.preprocessing import Preprocessing
    from dlworkflow.sharing.bundle import Bundle

PREDICTION_COLUMN = "prediction"
"""The predicted value (regression) or class name (classification), as in a run's predictions files."""

PROBABILITY_PREFIX = "probability_"
"""Prefix of the per-class probability columns."""


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
    import pandas as pd

    if bundle.is_images:
        from dlworkflow.data.new_images import prepare_images

        if isinstance(source, pd.DataFrame):
            raise DataError.single("<DataFrame>", "", "the model takes images, not a table",
                                   hint="Give an image file or a folder of images.")
        return prepare_images(source, bundle.preprocessing)
    from dlworkflow.data.new_rows import accepted_columns, prepare_rows, read_rows

    spec_data = bundle.spec.get("data") or {}
    persistence = (bundle.spec.get("evaluate") or {}).get("persistence")
    frame = source if isinstance(source, pd.DataFrame) else read_rows(source)
    return prepare_rows(
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
        ``(rows,)`` values or ``(rows, classes)`` probabilities, float64.

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
    return predict(model, part, image=image)


def predictions_frame(
    part: Part, predicted: np.ndarray, preprocessing: Preprocessing | Mapping[str, Any]
) -> pd.DataFrame:
    """Lay out predictions as a run's predictions files do, one row per input row, in input order.

    Args:
        part: The input (its frame gives the ``file`` column of images).
        predicted: From :func:`predict_part`.
        preprocessing: The saved preprocessing, or its ``preprocessing.json`` dict (class names).

    Returns:
        ``[file,] prediction[, probability_<class>...]``.

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


def write_predictions(frame: pd.DataFrame, output: str | Path) -> Path:
    """Write predictions as CSV (numbers written so they read back bit for bit).

    Args:
        frame: From :func:`predictions_frame`.
        output: The CSV file; its folder must exist.

    Returns:
        The file written.

    Raises:
        DataError: when the file cannot be written.

    Example:
        >>> write_predictions(frame, "predictions.csv")  # doctest: +SKIP
        PosixPath('predictions.csv')
    """
    path = Path(output)
    try:
        frame.to_csv(path, index=False)
    except OSError as err:
        raise DataError.single(
            str(path), "", f"cannot write the predictions ({err.strerror or err})",
            hint="Check that the folder exists and is writable (--output).",
        ) from err
    return path
