"""The typed, frozen spec: what a ``dlw`` spec file may say, section by section.

Each section is a pydantic model that forbids unknown keys, so a typo is an error rather
than a silently ignored setting. Field descriptions feed the command line's help and the
spec reference. Nothing here imports Keras: layer and optimizer names are checked against
:mod:`dlworkflow.spec.keras_names`.

Example:
    >>> spec = Spec.model_validate({
    ...     "name": "penguins",
    ...     "data": {"dataset": "penguins", "target": "species"},
    ...     "model": {"layers": [{"type": "Dense", "units": 3, "activation": "softmax"}]},
    ... })
    >>> spec.split.type, spec.train.epochs
    ('random', 10)
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from dlworkflow.errors import suggestion
from dlworkflow.spec.data_sections import DataSpec, SplitSpec
from dlworkflow.spec.keras_names import APPLICATION_TYPES, LAYER_TYPES, OPTIMIZER_TYPES
from dlworkflow.spec.limits import (
    check_activation_name,
    check_layer_count,
    check_plain_values,
    check_users_own_code,
    check_window_split,
    refuse_layer,
)
from dlworkflow.spec.registries import spec_problem
from dlworkflow.spec.section import Section
from dlworkflow.spec.slurm_section import SlurmSpec

CONVOLUTION_LAYER_PREFIXES = ("Conv", "Convolution", "DepthwiseConv", "SeparableConv")
"""Layer names that mark a model as convolutional (used to pick a backend)."""

POOLING_LAYER_MARKERS = ("Pooling", "Pool1D", "Pool2D", "Pool3D")


class LayerSpec(Section):
    """One ``[[model.layers]]`` entry: a Keras layer class name and its Keras arguments.

    Example: ``{ type = "Dense", units = 100, activation = "relu" }``.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(description="A keras.layers class name, e.g. 'Dense'.")

    @field_validator("type")
    @classmethod
    def _known_layer(cls, value: str) -> str:
        if value not in LAYER_TYPES:
            raise ValueError(f"unknown Keras layer {value!r}. {suggestion(value, LAYER_TYPES)}")
        return refuse_layer(value)

    _activation_by_name = model_validator(mode="after")(check_activation_name)

    @property
    def arguments(self) -> dict[str, Any]:
        """The Keras keyword arguments of this layer (everything but ``type``)."""
        return dict(self.model_extra or {})

    @property
    def is_convolutional(self) -> bool:
        """Whether this is a convolution or pooling layer."""
        return self.type.startswith(CONVOLUTION_LAYER_PREFIXES) or any(
            marker in self.type for marker in POOLING_LAYER_MARKERS
        )


class BaseSpec(Section):
    """``[model.base]``: a ``keras.applications`` network under the ``[[model.layers]]`` head.

    Example: ``{ application = "DenseNet121", weights = "imagenet", pooling = "max" }``. Further keys
    (``alpha = 0.35`` for MobileNetV2) are passed to the application as keyword arguments.
    """

    model_config = ConfigDict(extra="allow", frozen=True, validate_default=True)

    application: str = Field(description="A keras.applications class name, e.g. 'DenseNet121'.")
    weights: str | None = Field(
        None,
        description="'imagenet' (downloaded by Keras), a local weights file, or 'none' (or left out) for random "
        "weights (not pretrained).",
    )
    trainable: bool = Field(False, description="Train the base's weights too (false: freeze it).")
    pooling: Literal["avg", "max"] | None = Field(None, description="Pool the base's last feature map.")

    @field_validator("application")
    @classmethod
    def _known_application(cls, value: str) -> str:
        if value not in APPLICATION_TYPES:
            raise ValueError(f"unknown keras.applications network {value!r}. {suggestion(value, APPLICATION_TYPES)}")
        return value

    @property
    def arguments(self) -> dict[str, Any]:
        """Further keyword arguments of the application (everything the spec adds to the known keys)."""
        return dict(self.model_extra or {})

    @property
    def pretrained(self) -> bool:
        """Whether the base starts from trained weights (ImageNet or a file), not random ones."""
        return self.weights is not None and self.weights.lower() != "none"


class ModelSpec(Section):
    """``[model]``: a list of layers built with the Functional API, or a builder function.

    With ``[model.base]`` the layers are the head on top of a pretrained network.
    """

    name: str | None = Field(None, description="Keras model name (defaults to the spec name).")
    input_shape: tuple[int, ...] | None = Field(
        None, description="Shape of one input, e.g. [64, 64, 3]; taken from the data when left out."
    )
    base: BaseSpec | None = Field(None, description="A pretrained keras.applications network under the layers.")
    layers: tuple[LayerSpec, ...] = Field((), description="Layers after the input, in order.")
    builder: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' returning a Keras model, instead of layers.",
    )
    builder_args: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments passed to the builder function."
    )

    _layer_count = field_validator("layers", mode="before")(check_layer_count)
    _users_own_code = field_validator("builder")(check_users_own_code)
    _plain_arguments = field_validator("builder_args")(check_plain_values)

    @model_validator(mode="after")
    def _layers_or_builder(self) -> ModelSpec:
        if self.builder is None and not self.layers:
            raise ValueError("give model.layers (a list of [[model.layers]] tables) or model.builder")
        if self.builder is not None and self.layers:
            raise ValueError("give either model.layers or model.builder, not both")
        if self.builder is not None and self.base is not None:
            raise ValueError("give either model.base (with a [[model.layers]] head) or model.builder, not both")
        return self

    @field_validator("input_shape")
    @classmethod
    def _positive_shape(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and (not value or min(value) < 1):
            raise ValueError(f"must be a list of positive integers, e.g. [64, 64, 3]; got {list(value)!r}")
        return value

    @property
    def is_convolutional(self) -> bool:
        """Whether the model convolves or pools: a pretrained base or such a layer (decides the backend)."""
        return self.base is not None or any(layer.is_convolutional for layer in self.layers)


class OptimizerSpec(Section):
    """``[train.optimizer]``: a Keras optimizer by name with its arguments.

    The shorthand ``optimizer = "adam"`` means ``{ type = "adam" }``.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field("adam", description="Keras optimizer, e.g. 'adam', 'sgd', 'rmsprop'.")
    learning_rate: float | None = Field(None, gt=0.0, description="Learning rate (Keras default when left out).")

    @field_validator("type")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        names = {name.lower(): name for name in OPTIMIZER_TYPES}
        if value.lower() not in names:
            raise ValueError(f"unknown Keras optimizer {value!r}. {suggestion(value, [n.lower() for n in OPTIMIZER_TYPES])}")
        return value

    @property
    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for the optimizer's constructor."""
        arguments = dict(self.model_extra or {})
        if self.learning_rate is not None:
            arguments["learning_rate"] = self.learning_rate
        return arguments


class LossSpec(Section):
    """``[train.loss]``: a Keras loss by name with its arguments.

    ``loss = "mse"`` is the short form of ``{ type = "mse" }``; the lesson's CIFAR loss is
    ``{ type = "SparseCategoricalCrossentropy", from_logits = true }``.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field("auto", description="Keras loss; 'auto' picks mse or the matching cross-entropy.")

    @property
    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for the loss's constructor (e.g. ``from_logits``)."""
        return dict(self.model_extra or {})


class FineTuneSpec(Section):
    """``[train.fine_tune]``: after the frozen stage, unfreeze the base and train on, gently."""

    layers: int | Literal["all"] = Field("all", description="Unfreeze the top N layers of the base, or 'all'.")
    learning_rate: float = Field(1e-5, gt=0.0, description="A very small learning rate for this stage.")
    epochs: int = Field(5, gt=0, description="Epochs of this stage, after the frozen stage's.")

    @field_validator("layers")
    @classmethod
    def _positive_layers(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"must be 'all' or a positive number of layers; got {value!r}")
        return value


class TensorBoardSpec(Section):
    """``[train.tensorboard]``: TensorBoard logs in the run folder (``tensorboard = true`` for the defaults)."""

    histogram_freq: int = Field(
        1, ge=0, description="Write weight histograms every N epochs (0: none), as in the lesson's callback."
    )


class EarlyStoppingSpec(Section):
    """``[train.early_stopping]``: stop when the monitored value stops improving (Keras EarlyStopping)."""

    monitor: str = Field("val_loss", description="History key to watch, e.g. 'val_loss'.")
    patience: int = Field(10, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0.0, description="Smallest change that counts as improvement.")
    mode: Literal["auto", "min", "max"] = Field("auto", description="Whether lower or higher is better.")
    restore_best_weights: bool = Field(False, description="Evaluate the best epoch's weights, not the last.")
    start_from_epoch: int = Field(0, ge=0, description="Epochs to wait before watching at all.")


class TrainSpec(Section):
    """``[train]``: compile and fit settings."""

    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec, description="Optimizer and its arguments.")
    loss: LossSpec = Field(default_factory=LossSpec, description="Keras loss and its arguments.")
    metrics: tuple[str, ...] = Field((), description="Extra Keras metrics to report each epoch.")
    epochs: int = Field(10, gt=0, description="Maximum number of epochs.")
    batch_size: int = Field(32, gt=0, description="Rows per gradient step.")
    seed: int = Field(0, ge=0, description="Seed of keras.utils.set_random_seed (weights, dropout, shuffling).")
    shuffle: bool = Field(True, description="Shuffle the training rows every epoch.")
    backend: Literal["auto", "jax", "tensorflow", "torch"] = Field(
        "auto", description="Keras backend; 'auto': JAX for dense models, TensorFlow for convolutions."
    )
    steps_per_execution: int | Literal["auto"] = Field(
        "auto",
        description="Batches Keras runs per call into the backend; 'auto': a whole epoch for in-memory data "
        "on JAX and TensorFlow, else 1. Per-epoch metrics and early stopping are the same either way.",
    )
    early_stopping: EarlyStoppingSpec | None = Field(None, description="Early stopping; off when left out.")
    fine_tune: FineTuneSpec | None = Field(None, description="A second stage that unfreezes [model.base].")
    tensorboard: TensorBoardSpec | None = Field(
        None, description="TensorBoard logs in the run folder (`dlw tensorboard RUN`); true for the defaults."
    )
    distribution: Literal["none", "data_parallel"] | None = Field(
        None, description="'data_parallel': split each batch across every visible device (JAX or TensorFlow; "
        "batch_size a multiple of the device count); left out or 'none': one device.",
    )
    class_weight: Literal["balanced"] | dict[str, float] | None = Field(
        None, description="Weigh each class in the training loss (classification): 'balanced' (rows / (classes "
        "· the class's rows), from the training rows) or a table { label = weight } (classes left out weigh 1).",
    )

    @field_validator("optimizer", "loss", mode="before")
    @classmethod
    def _name_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("tensorboard", mode="before")
    @classmethod
    def _switch_shorthand(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    @field_validator("class_weight", mode="before")
    @classmethod
    def _balanced_or_table(cls, value: Any) -> Any:
        example = "Write class_weight = 'balanced', or a table such as { Chinstrap = 2.0 }."
        if value is None or value == "balanced":
            return value
        if isinstance(value, str):
            close = suggestion(value, ["balanced"], show_options=0)
            raise spec_problem("must be 'balanced' or a table of weights per class", value, f"{close} {example}".strip())
        if not isinstance(value, dict) or not value:
            raise spec_problem("must be 'balanced' or a table of weights per class", value, example)
        for label, weight in value.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < float("inf"):
                raise spec_problem(f"the weight of class {label!r} must be a positive number", weight, example)
        return value

    @field_validator("steps_per_execution", mode="before")
    @classmethod
    def _positive_or_auto(cls, value: Any) -> Any:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise ValueError(f"must be a positive whole number of batches or 'auto'; got {value!r}")


BASELINE_REFERENCE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")
"""``module:Class``: a dotted module name, a colon, a class name."""


def _baseline_reference(value: str) -> str:
    if not BASELINE_REFERENCE.match(value):
        built_in = (
            "Built-in baselines (majority_class, mean, logistic_regression, tf_idf_logistic_regression, ...) need "
            "no entry: each runs by itself whenever it suits the task and data; list only your own classes here. "
            if value.isidentifier() else ""
        )
        raise spec_problem(
            "must be 'module:Class', a Python module and a baseline class in it", value,
            f"{built_in}Write e.g. 'my_baselines:MedianBaseline' (my_baselines.py next to the spec file, or importable).",
        )
    return check_users_own_code(value)


BaselineReference = Annotated[str, AfterValidator(_baseline_reference)]
"""One ``evaluate.baselines`` entry, checked for its form only; the class is imported when the run starts."""


class EvaluateSpec(Section):
    """``[evaluate]``: the headline metric, the test set's name and extra baselines."""

    metric: Literal["auto", "rmse", "mae", "r2", "accuracy", "balanced_accuracy", "f1_macro"] = Field(
        "auto", description="Headline metric of the results table; 'auto': rmse or accuracy."
    )
    persistence: str | None = Field(
        None, description="Column whose current value is the 'tomorrow = today' forecast (regression)."
    )
    test_set: str | None = Field(None, description="Name of the test set in the results table.")
    baselines: tuple[BaselineReference, ...] | None = Field(
        None,
        description="Your own baselines as 'module:Class' (a class with fit(train) and predict(part), like the "
        "built-in ones), run and recorded beside them. This imports and runs your code.",
    )
    # None when left out, so the resolved spec (and its fingerprint) of a spec without it is as before.

    @field_validator("baselines")
    @classmethod
    def _each_once(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        repeated = sorted({reference for reference in value or () if value.count(reference) > 1})
        if repeated:
            raise spec_problem("names a baseline twice", repeated[0], "Give each 'module:Class' once.")
        return value


class ParameterRange(Section):
    """A numeric range to search, e.g. ``{ low = 1e-4, high = 1e-2, log = true }``.

    Whole-number bounds (and step) give whole-number values (``units``, ``filters``);
    otherwise values are floats.
    """

    low: float | int = Field(description="Smallest value.")
    high: float | int = Field(description="Largest value.")
    log: bool = Field(False, description="Sample on a logarithmic scale (learning rates).")
    step: float | int | None = Field(None, gt=0, description="Only values low + k·step.")

    @model_validator(mode="after")
    def _ordered(self) -> ParameterRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be below low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0; got {self.low}")
        if self.log and self.step is not None:
            raise ValueError("give either log = true or a step, not both")
        return self

    @property
    def integer(self) -> bool:
        """Whether the range holds whole numbers only (int bounds and step)."""
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high, self.step or 1))


class TuneSpec(Section):
    """``[tune]``: a hyperparameter search with Optuna, trials scored on validation only."""

    parameters: dict[str, list[Any] | ParameterRange] = Field(
        min_length=1,
        description="Spec paths to vary, each a list of choices or a { low, high } range, e.g. "
        "\"model.layers[0].units\" = [10, 50, 100].",
    )
    sampler: Literal["grid", "random", "tpe"] = Field(
        "tpe", description="How trials are chosen: every combination, at random, or Optuna's TPE."
    )
    n_trials: int | None = Field(
        None, gt=0, description="Trials in the study (all workers together); default: the grid's size, else 20."
    )
    objective: str = Field(
        "val_loss",
        description="What a trial is scored by, on validation: 'val_loss', an evaluation metric "
        "('rmse', 'accuracy', ...) or another 'val_' value Keras reports.",
    )
    direction: Literal["auto", "minimize", "maximize"] = Field(
        "auto", description="'auto': maximize accuracy-like metrics, minimize losses and errors."
    )
    seed: int = Field(0, ge=0, description="Seed of the sampler: the same trials in the same order.")
    pruning: bool = Field(True, description="Stop hopeless trials early (median of earlier trials per epoch).")
    study: str | None = Field(None, max_length=120, description="Study name; default: the spec's name.")

    @field_validator("parameters")
    @classmethod
    def _choices_not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, choices in value.items():
            if isinstance(choices, list) and not choices:
                raise ValueError(f"{path!r} has no choices; give at least one value")
        return value

    @model_validator(mode="after")
    def _grid_needs_choices(self) -> TuneSpec:
        if self.sampler == "grid":
            ranges = [path for path, choices in self.parameters.items() if not isinstance(choices, list)]
            if ranges:
                raise ValueError(
                    f"the grid sampler needs a list of choices for every parameter; {ranges[0]!r} is a range: "
                    "give its values as a list, or use sampler = 'tpe' or 'random'"
                )
        return self


class Spec(Section):
    """A whole dlworkflow spec: the ten steps of the workshop in one document."""

    name: str = Field(min_length=1, max_length=120, description="Model name in the results table.")
    description: str = Field("", max_length=2000, description="Model description in the results table.")
    data: DataSpec
    split: SplitSpec = Field(default_factory=SplitSpec)
    model: ModelSpec
    train: TrainSpec = Field(default_factory=TrainSpec)
    evaluate: EvaluateSpec = Field(default_factory=EvaluateSpec)
    tune: TuneSpec | None = Field(None, description="A hyperparameter search (dlw tune); ignored by dlw run.")
    slurm: SlurmSpec | None = Field(None, description="Defaults for --executor slurm (partition, time, gpus, ...).")

    _source: str = PrivateAttr("<spec>")
    _window_needs_ordered_split = model_validator(mode="after")(check_window_split)

    @model_validator(mode="after")
    def _cross_section_checks(self) -> Spec:
        stopping = self.train.early_stopping
        if stopping is not None and stopping.monitor.startswith("val_") and self.split.validation == 0:
            raise ValueError(
                f"train.early_stopping.monitor is {stopping.monitor!r} but split.validation is 0, "
                "so there is no validation set to watch: set split.validation (e.g. 0.15) "
                "or monitor a training value such as 'loss'"
            )
        if self.train.class_weight is not None and self.data.task == "regression":
            raise ValueError(
                "train.class_weight weighs classes, but data.task is 'regression': remove train.class_weight"
            )
        if self.train.fine_tune is not None and self.model.base is None:
            raise ValueError(
                "train.fine_tune needs a pretrained base to unfreeze: add [model.base] or remove [train.fine_tune]"
            )
        return self

    @property
    def source(self) -> str:
        """The file (or ``<spec>``/``<api>``) this spec came from; used in error messages."""
        return self._source

    def with_source(self, source: str) -> Spec:
        """Return this spec labelled with the file it came from.

        Args:
            source: A path or label shown in error messages.

        Returns:
            The same spec object, labelled.
        """
        self._source = source
        return self

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled in, as plain JSON-compatible data.

        Returns:
            A dict that validates back into an equal spec.

        Example:
            >>> Spec.model_validate(spec.resolved()) == spec  # doctest: +SKIP
            True
        """
        return self.model_dump(mode="json", exclude_none=True)

    def fingerprint(self) -> str:
        """A sha256 hash of the resolved spec, stable across key order and formatting.

        Returns:
            64 hexadecimal characters.
        """
        canonical = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
