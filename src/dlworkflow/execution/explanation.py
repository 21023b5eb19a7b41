"""``dlw explain``: why a recorded run's model predicts what it does, written into its run folder.

A table run: the permutation importance of each input column (grouped back from its
encoding, :mod:`dlworkflow.evaluation.permutation_importance`) on validation rows by default,
against the run's primary metric, drawn as ``feature_importance.png``. An image run: occlusion
saliency maps (:mod:`dlworkflow.evaluation.saliency`) of the part's first images (at most
:data:`~dlworkflow.evaluation.saliency.MAX_IMAGES`), drawn as the grid ``saliency_maps.png``.
A run with a text column: also the importance of each word of a few rows
(:mod:`dlworkflow.evaluation.word_importance`). Everything found goes into ``explanation.json``
in the run folder (the report shows it). The run's data is prepared again from its spec (the
same split), and refused when its fingerprint changed. Asking for test rows counts a look at
the run's test set, as scoring it does.

Example:
    >>> explained = explain_run(store, record, rows=500)  # doctest: +SKIP
    >>> explained.importance.columns[0].column  # doctest: +SKIP
    'BASEL_sunshine'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import DataError, SpecError
from dlworkflow.evaluation.permutation_importance import (
    DEFAULT_REPEATS,
    PermutationImportance,
)
from dlworkflow.evaluation.saliency import MAX_IMAGES, SaliencyMaps
from dlworkflow.evaluation.word_importance import MAX_ROWS, WordImportances
from dlworkflow.registry import artifacts

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset, Part
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.registry.registry import Registry

EXPLAINED_PARTS = ("validation", "test")
"""The parts ``--part`` may name."""

PREDICT_CHUNK = 4096
"""Rows per model call while shuffled copies are scored."""


@dataclass(frozen=True)
class Explanation:
    """What ``dlw explain`` found and wrote.

    Attributes:
        run_id: The run explained.
        importance: The columns' permutation importances (a table run), else None.
        files: The files written into the run folder.
        note: A look at the test set counted (``--part test``), else None.
        saliency: The images' occlusion maps (an image run), else None.
        words: The word importances of a few rows, one entry per text column (a run with text).

    Example:
        >>> Explanation("r1", None, ()).files
        ()
    """

    run_id: str
    importance: PermutationImportance | None
    files: tuple[Path, ...]
    note: str | None = None
    saliency: SaliencyMaps | None = None
    words: tuple[WordImportances, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """What was found, as ``explanation.json`` holds it (and ``dlw explain --json`` prints it)."""
        found: dict[str, Any] = {}
        if self.importance is not None:
            found["permutation_importance"] = self.importance.to_dict()
        if self.saliency is not None:
            found["saliency"] = self.saliency.to_dict()
        if self.words:
            found["word_importance"] = [column.to_dict() for column in self.words]
        return found


def explain_run(
    store: Registry, record: RunRecord, *, rows: int | None = None, part: str = "validation",
    repeats: int = DEFAULT_REPEATS,
) -> Explanation:
    """Explain a finished run's model on its validation (or test) rows and write the results into its folder.

    Args:
        store: The open registry (a test-set look is counted in it).
        record: The run's record.
        rows: At most this many rows of the part (the first ones), or all.
        part: ``validation`` or ``test`` (a look at the test set).
        repeats: Shuffles per column.

    Returns:
        The explanation and the files written.

    Raises:
        SpecError: for an unknown part or a non-positive ``rows``.
        DataError: when the data changed since the run or the part has no rows.
        RegistryError: when the run has no model.

    Example:
        >>> explain_run(store, store.get("2026"), part="test").note  # doctest: +SKIP
        "look #3 at test set 'weather_3_years_v1' ..."
    """
    from dlworkflow.sharing.bundle import Bundle

    _check_request(part, rows, repeats)
    run_dir = store.run_dir(record.id)
    bundle = Bundle.from_run(run_dir, record)  # a finished run with its model files, or a RegistryError
    dataset = _prepared_again(record)
    if bundle.is_images:
        maps, pictures = explain_images(bundle.model_path, dataset, record, part=part, rows=rows)
        explained = Explanation(record.id, None, (), saliency=maps)
        files = write_explanation(explained, run_dir, pictures=pictures)
    else:
        importance = explain_table(bundle.model_path, dataset, record, part=part, rows=rows, repeats=repeats)
        words = explain_words(bundle.model_path, dataset, record, part=part, rows=rows)
        explained = Explanation(record.id, importance, (), words=words)
        files = write_explanation(explained, run_dir)
    note = _test_look(store, dataset, record) if part == "test" else None
    store.attach_explanation(record.id, explained.to_dict(), [path.name for path in files])  # the record holds it
    return replace(explained, files=files, note=note)


def _check_request(part: str, rows: int | None, repeats: int) -> None:
    if part not in EXPLAINED_PARTS:
        raise SpecError.single("--part", "", f"must be one of {', '.join(map(repr, EXPLAINED_PARTS))}", got=part,
                               hint="Explain on validation rows (the default); test rows count a look at the test set.")
    if rows is not None and rows < 1:
        raise SpecError.single("--rows", "", "must be a positive number of rows", got=rows,
                               hint="Leave it out to use every row of the part.")
    if repeats < 1:
        raise SpecError.single("--repeats", "", "must be a positive number of shuffles", got=repeats,
                               hint=f"The default is {DEFAULT_REPEATS}.")


def _prepared_again(record: RunRecord) -> Dataset:
    """The run's data prepared and split again from its spec, refused when it changed."""
    from dlworkflow.execution.preparation import prepare
    from dlworkflow.spec import validate_spec

    spec = validate_spec(record.spec, source=record.spec_file or "<record>")
    dataset = prepare(spec).dataset
    if dataset.fingerprint != record.data.fingerprint:
        raise DataError.single(
            spec.source, "data", "has changed since the run (its fingerprint differs): the rows would not be the "
            "ones the model was scored on", hint="Run the spec again with dlw run, then explain the new run.",
        )
    return dataset


def explain_table(
    model_path: Path, dataset: Dataset, record: RunRecord, *, part: str, rows: int | None, repeats: int
) -> PermutationImportance:
    """Permutation importance of a table model's input columns on one part, with the run's primary metric.

    Example:
        >>> explain_table(run_dir / "model.keras", dataset, record, part="validation", rows=None,
        ...               repeats=5).metric  # doctest: +SKIP
        'rmse'
    """
    from dlworkflow.evaluation.permutation_importance import (
        column_groups,
        permutation_importance,
    )
    from dlworkflow.sharing.model_loading import load_model_safely

    chosen = _chosen_part(dataset, record, part)
    count = chosen.size if rows is None else min(rows, chosen.size)
    model = load_model_safely(model_path)
    scaling = dataset.preprocessing.target_scaling
    return permutation_importance(
        lambda inputs: scaling.inverse(_predict(model, inputs)), chosen.x[:count], chosen.labels[:count],
        groups=column_groups(dataset.preprocessing), task=dataset.task, metric=record.primary.metric, part=part,
        num_classes=dataset.output_units if dataset.class_names else None, repeats=repeats, seed=0,
    )


def _chosen_part(dataset: Dataset, record: RunRecord, part: str) -> Part:
    chosen = dataset.parts.get(part)
    if chosen is None or chosen.size == 0 or (chosen.x is None and chosen.files is None):
        raise DataError.single(f"run {record.id}", f"split.{part}", "has no rows to explain the model on",
                               hint="Give the run a validation split ([split] validation > 0), or use --part test.")
    return chosen


def explain_images(
    model_path: Path, dataset: Dataset, record: RunRecord, *, part: str, rows: int | None
) -> tuple[SaliencyMaps, list[np.ndarray]]:
    """Occlusion saliency maps of a part's first images (at most ``MAX_IMAGES``), and the images to draw.

    Example:
        >>> maps, pictures = explain_images(run_dir / "model.keras", dataset, record, part="validation",
        ...                                 rows=8)  # doctest: +SKIP
        >>> len(maps.maps), pictures[0].dtype  # doctest: +SKIP
        (8, dtype('uint8'))
    """
    from dlworkflow.evaluation.plots import test_images_for_grid
    from dlworkflow.evaluation.saliency import occlusion_saliency
    from dlworkflow.sharing.model_loading import load_model_safely

    chosen = _chosen_part(dataset, record, part)
    count = min(rows or MAX_IMAGES, MAX_IMAGES, chosen.size)
    model = load_model_safely(model_path)
    maps = occlusion_saliency(
        lambda inputs: _predict(model, inputs), _image_inputs(chosen, dataset, count),
        labels=chosen.labels[:count], class_names=dataset.class_names or (), part=part,
    )
    return maps, test_images_for_grid(dataset, part, count)


def _image_inputs(part: Part, dataset: Dataset, count: int) -> np.ndarray:
    """The network inputs of a part's first images: from memory, or read as training streamed them."""
    if part.x is not None:
        return np.asarray(part.x[:count])
    from dlworkflow.training.streams import image_stream

    first = replace(part, y=part.y[:count], labels=part.labels[:count], frame=part.frame.iloc[:count],
                    files=tuple(part.files or ())[:count])
    return np.asarray(next(iter(image_stream(first, dataset.image, batch_size=count, targets=False))))


def explain_words(
    model_path: Path, dataset: Dataset, record: RunRecord, *, part: str, rows: int | None
) -> tuple[WordImportances, ...]:
    """Word importances (occlusion) of the part's first rows (at most ``MAX_ROWS``), one entry per text column.

    Each shortened text goes through the run's saved preprocessing with the row's other columns
    as they are (:func:`~dlworkflow.data.new_rows.prepare_rows`), as ``dlw predict`` encodes new rows.

    Returns:
        Nothing for a run without text columns, or one on windows of rows.

    Example:
        >>> words = explain_words(run_dir / "model.keras", dataset, record, part="validation", rows=3)  # doctest: +SKIP
        >>> [word.word for word in words[0].rows[0].top(3)]  # doctest: +SKIP
        ['fish', 'edible', 'flesh']
    """
    from dlworkflow.data.new_rows import prepare_rows
    from dlworkflow.evaluation.word_importance import word_occlusion
    from dlworkflow.sharing.model_loading import load_model_safely

    preprocessing = dataset.preprocessing
    encoding = getattr(preprocessing, "encoding", None)
    columns = [column.name for column in encoding.columns if column.type == "text"] if encoding is not None else []
    if not columns or getattr(preprocessing, "window", None) is not None:
        return ()
    chosen = _chosen_part(dataset, record, part)
    count = min(rows or MAX_ROWS, MAX_ROWS, chosen.size)
    model = load_model_safely(model_path)
    scaling = preprocessing.target_scaling

    def predict(row: Any, column: str, texts: list[str]) -> np.ndarray:
        copies = row.loc[row.index.repeat(len(texts))].reset_index(drop=True)
        copies[column] = texts
        inputs = prepare_rows(copies, preprocessing, source=f"run {record.id}", ignore_extra=True).x
        return scaling.inverse(_predict(model, inputs))

    found = []
    for column in columns:
        weighed = []
        for index in range(count):
            row = chosen.frame.iloc[[index]]
            one = word_occlusion(lambda texts, row=row, column=column: predict(row, column, texts),
                                 [row[column].iloc[0]], labels=chosen.labels[index:index + 1],
                                 class_names=dataset.class_names, column=column, part=part)
            weighed.append(replace(one.rows[0], row=index))
        found.append(WordImportances(column, part, tuple(weighed)))
    return tuple(found)


def _predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """The model's predictions for many rows: direct calls in large chunks (no Keras predict loop per call)."""
    from dlworkflow.sharing.onnx_prediction import outputs_to_predictions

    chunks = [np.asarray(model(inputs[start:start + PREDICT_CHUNK], training=False), dtype=np.float64)
              for start in range(0, len(inputs), PREDICT_CHUNK)]
    return outputs_to_predictions(np.concatenate(chunks))


def write_explanation(
    explained: Explanation, run_dir: Path, *, pictures: list[np.ndarray] | None = None
) -> tuple[Path, ...]:
    """Write ``explanation.json`` and its figure into the run folder (replacing earlier ones).

    Args:
        explained: What was found.
        run_dir: The run folder.
        pictures: The explained images as displayable arrays (an image run).

    Returns:
        The files written.

    Example:
        >>> [path.name for path in write_explanation(explained, run_dir)]  # doctest: +SKIP
        ['explanation.json', 'feature_importance.png']
    """
    from dlworkflow.evaluation.explanation_plots import (
        save_importance_plot,
        save_saliency_grid,
    )

    data = run_dir / artifacts.EXPLANATION
    temporary = data.with_name(f".{data.name}.partial")
    temporary.write_text(json.dumps(explained.to_dict(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(data)
    files = [data]
    if explained.importance is not None:
        files.append(save_importance_plot(explained.importance, run_dir / artifacts.IMPORTANCE_PLOT))
    if explained.saliency is not None and pictures is not None:
        files.append(save_saliency_grid(explained.saliency, pictures, run_dir / artifacts.SALIENCY_GRID))
    return tuple(files)


def _test_look(store: Registry, dataset: Dataset, record: RunRecord) -> str | None:
    look = store.count_look(dataset.test_fingerprint)
    if look is None:
        return None
    return (f"explaining on test rows is a look at test set {look.name!r}: look #{look.look}, counted for run "
            f"{record.id}. Choose between models on validation; look at the test set once, at the end.")
