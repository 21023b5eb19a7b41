"""The ``[data]`` and ``[split]`` sections of a spec: where the rows come from and how they are split.

Kept apart from :mod:`dlworkflow.spec.schema` (which re-exports both) so that the data side of a
spec can grow (column types, missing values) without crowding the model and training sections.

Example:
    >>> DataSpec(dataset="penguins", target="species").scaling
    'none'
    >>> SplitSpec(type="ordered", order_by="DATE").test_fraction
    0.2
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from dlworkflow.spec.limits import (
    check_column_types,
    check_date_format,
    check_image_side,
    check_target_scaling_task,
)
from dlworkflow.spec.registries import (
    DATASETS,
    SCALING_METHODS,
    SPLIT_TYPES,
    unknown_name,
)
from dlworkflow.spec.section import Fraction, Section
from dlworkflow.spec.text_section import TextSpec


class WindowSpec(Section):
    """``[data.window]``: each sample is the ``size`` rows ending at the row whose (shifted) target is predicted.

    Inputs become ``(size, features)``; the split must keep row order (``split.type = "ordered"``).

    Example:
        >>> WindowSpec(size=7).stride
        1
    """

    size: int = Field(ge=2, le=100_000, description="Rows in a window: the target row and the size - 1 rows before it.")
    stride: int = Field(1, ge=1, le=100_000, description=(
        "Rows between two rows of a window (Keras' sampling_rate): 1 takes consecutive rows, 7 one row a week."))


class DataSpec(Section):
    """``[data]``: where the table comes from and how it is prepared before the split.

    Preparation runs in this fixed order: drop columns → shift the target → keep the first
    ``rows`` rows → drop rows with missing values → select feature columns → encode the target.
    """

    dataset: str | None = Field(
        None,
        description="Built-in table ('penguins', 'weather') or Keras image set ('cifar10', 'mnist', 'fashion_mnist'); "
        "a name registered in dlworkflow.spec.registries.DATASETS.",
    )
    path: str | None = Field(
        None,
        description="A CSV or Parquet file, an .npz of image arrays, or a folder with one sub-folder of images per "
        "class; relative to the spec file, then to the data home (DLW_DATA_HOME).",
    )
    target: str | None = Field(None, description="Column to predict (tables; images carry their labels).")
    image_size: tuple[int, int] | None = Field(
        None, description="Resize images to [height, width]; needed for a folder of mixed sizes."
    )
    drop: tuple[str, ...] = Field((), description="Columns (or glob patterns) to remove before anything else.")
    select: tuple[str, ...] = Field((), description="Feature columns or glob patterns to keep, e.g. 'BASEL_*'.")
    shift: int = Field(0, description="Shift the target in time: -1 predicts the next row's value (tomorrow).")
    rows: int | None = Field(None, gt=0, description="Keep only the first N rows (after the shift).")
    dropna: bool = Field(False, description="Drop rows with a missing (or infinite) value in any used column.")
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="'auto': classification for a text/categorical/boolean target, else regression."
    )
    target_encoding: Literal["onehot", "integer"] = Field(
        "onehot", description="How a class target is fed to the network (classification only)."
    )
    scaling: str = Field(
        "none",
        description="Feature scaling fitted on the training split only: 'none', 'standardize', 'minmax'; "
        "'pixels' divides images by 255 (names registered in dlworkflow.spec.registries.SCALING_METHODS).",
    )
    target_scaling: Literal["none", "standardize"] = Field("none", description=(
        "Regression only: 'standardize' trains on (target - mean) / std of the training rows; "
        "predictions, metrics and plots stay in the target's own units."))
    _target_scaling_for_regression = field_validator("target_scaling")(check_target_scaling_task)
    columns: dict[str, str] = Field(default_factory=dict, description=(
        "Column types by name or glob pattern: 'number', 'category', 'boolean', 'date', 'text' or 'ignore'; "
        "columns not named are inferred (dlw inspect shows them)."))
    missing: Literal["error", "drop", "impute"] | None = Field(None, description=(
        "Rows with gaps: 'error', 'drop' (as dropna = true) or 'impute' (median / most frequent value of the "
        "training rows, plus a <column>_missing indicator); unset, data.dropna decides."))
    date_format: str | None = Field(None, description="strftime format of text dates, e.g. '%d/%m/%Y' (default ISO).")
    max_onehot: int = Field(50, gt=0, description=(
        "A category with more training values than this becomes one integer-index column instead of one-hot."))
    text: TextSpec = Field(default_factory=TextSpec, description=(
        "[data.text]: how text columns become token ids (mode = 'sequence') or term vectors ('tf_idf', ...)."))
    window: WindowSpec | None = Field(None, description=(
        "[data.window] size = 7: each sample is the 7 rows ending at the target row, inputs (7, features); "
        "needs an ordered split."))
    _known_column_types = field_validator("columns")(check_column_types)
    _date_format_has_fields = field_validator("date_format")(check_date_format)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str | None) -> str | None:
        if value is not None and value not in DATASETS:
            raise unknown_name(
                DATASETS, value, "unknown built-in dataset", more="Or give data.path = 'file.csv' for your own table."
            )
        return value

    @field_validator("scaling")
    @classmethod
    def _known_scaling(cls, value: str) -> str:
        if value not in SCALING_METHODS:
            raise unknown_name(SCALING_METHODS, value)
        return value

    @property
    def missing_rows(self) -> str:
        """What happens to gaps: ``data.missing``, else ``drop`` with ``dropna = true``, else ``error``."""
        return self.missing or ("drop" if self.dropna else "error")

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if self.dataset is not None and self.path is not None:
            raise ValueError("give either data.dataset or data.path, not both")
        return self

    @model_validator(mode="after")
    def _target_not_selected(self) -> DataSpec:
        # A pattern may match the target (it is left out); naming it asks for the answer as an input.
        if self.shift == 0 and self.target is not None and self.target in self.select:
            index = self.select.index(self.target)
            raise ValueError(
                f"data.select[{index}] names the target column {self.target!r}: a feature equal to the target "
                "leaks the answer into the inputs. Remove it from data.select (or set data.shift, e.g. -1, "
                "to predict a later row from this one)"
            )
        return self

    @field_validator("image_size")
    @classmethod
    def _positive_size(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and min(value) < 1:
            raise ValueError(f"must be two positive integers [height, width]; got {list(value)!r}")
        return check_image_side(value)


class SplitSpec(Section):
    """``[split]``: how rows become train, validation and test sets.

    ``random`` and ``stratified`` make the two scikit-learn calls of the lesson: first
    ``test_size = test + validation`` off the whole data, then the test share of that holdout.
    ``ordered`` keeps time order: train, then validation, then test.
    """

    type: str = Field(
        "random",
        description="Split method: 'random', 'stratified' or 'ordered' "
        "(names registered in dlworkflow.spec.registries.SPLIT_TYPES).",
    )
    test: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Fraction of rows in the test set (default 0.2); an .npz or Keras image set brings its own.",
    )
    validation: Fraction = Field(0.0, description="Fraction of rows in the validation set (may be 0).")
    seed: int = Field(0, ge=0, description="random_state of the split.")
    order_by: str | None = Field(
        None, description="Column (e.g. a date) whose order an 'ordered' split follows instead of the file's row order."
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in SPLIT_TYPES:
            raise unknown_name(SPLIT_TYPES, value)
        return value

    @property
    def test_fraction(self) -> float:
        """``test``, or 0.2 when the spec leaves it out."""
        return 0.2 if self.test is None else self.test

    @model_validator(mode="after")
    def _fractions_leave_training_rows(self) -> SplitSpec:
        if self.test_fraction + self.validation >= 1.0:
            raise ValueError(
                f"split.test + split.validation must be below 1 to leave training rows; "
                f"got {self.test_fraction} + {self.validation}"
            )
        return self
