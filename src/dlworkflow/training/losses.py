"""Turn ``[train.loss]`` into what ``model.compile(loss=...)`` takes, with spec-aware errors.

``loss = "mse"`` (a lower-case Keras name, no arguments) is passed to Keras as it is. A class
name (``"SparseCategoricalCrossentropy"``) or any loss with arguments (``{ type =
"sparse_categorical_crossentropy", from_logits = true }``) becomes an instance of the Keras
loss class, as the lesson writes ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``.
``auto`` picks ``mse`` or the cross-entropy that matches the target's encoding (and takes
arguments too). The loss is checked against the data's target encoding before training.

Keras is imported inside the functions, so importing this module does not fix the backend.

Example:
    >>> make_loss(spec, dataset)  # loss = { type = "SparseCategoricalCrossentropy", from_logits = true }  # doctest: +SKIP
    <SparseCategoricalCrossentropy name=sparse_categorical_crossentropy ...>
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError, suggestion
from dlworkflow.models.arguments import argument_error

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec

AUTO_LOSSES = {
    "regression": "mse",
    "onehot": "categorical_crossentropy",
    "integer": "sparse_categorical_crossentropy",
}
"""What ``loss = "auto"`` means, by task (regression) or target encoding (classification)."""

ONEHOT_LOSSES = frozenset({"categorical_crossentropy", "categorical_focal_crossentropy"})
"""Canonical (snake_case) names of the losses that need one-hot targets."""

INTEGER_LOSSES = frozenset({"sparse_categorical_crossentropy"})
"""Canonical (snake_case) names of the losses that need integer class targets."""


def resolve_loss(spec: Spec, dataset: Dataset) -> str:
    """The Keras loss name a spec trains with (``train.loss.type``, or what ``auto`` stands for).

    Args:
        spec: The validated spec.
        dataset: The data (its task and target encoding decide ``auto``).

    Returns:
        A Keras loss name or class name, e.g. ``'mse'`` or ``'SparseCategoricalCrossentropy'``.

    Example:
        >>> from types import SimpleNamespace as Fake
        >>> spec = Fake(train=Fake(loss=Fake(type="auto")))
        >>> resolve_loss(spec, Fake(task="regression")), resolve_loss(
        ...     spec, Fake(task="classification", target_encoding="integer"))
        ('mse', 'sparse_categorical_crossentropy')
    """
    if spec.train.loss.type != "auto":
        return spec.train.loss.type
    if dataset.task == "regression":
        return AUTO_LOSSES["regression"]
    return AUTO_LOSSES[dataset.target_encoding or "onehot"]


def _snake_case(name: str) -> str:
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def loss_classes(keras: Any) -> dict[str, type]:
    """Keras' loss classes by their snake_case name (``sparse_categorical_crossentropy`` → class).

    Args:
        keras: The imported ``keras`` module.

    Returns:
        ``{snake_name: class}`` for every public ``keras.losses.Loss`` subclass.

    Example:
        >>> loss_classes(keras)["kl_divergence"].__name__  # doctest: +SKIP
        'KLDivergence'
    """
    classes = {}
    for name in dir(keras.losses):
        value = getattr(keras.losses, name)
        is_loss_class = isinstance(value, type) and issubclass(value, keras.losses.Loss)
        if name[:1].isupper() and is_loss_class and value is not keras.losses.Loss:
            classes[_snake_case(name)] = value
    return classes


def _function_name(keras: Any, name: str) -> str | None:
    """The canonical name of a lower-case Keras loss (``mse`` → ``mean_squared_error``), or None."""
    try:
        function = keras.losses.get(name)
    except (TypeError, ValueError):
        return None
    return getattr(function, "__name__", name) if function is not None else None


def canonical_loss_name(keras: Any, name: str) -> str | None:
    """The snake_case name of a loss given by alias, function or class name; None when unknown.

    Args:
        keras: The imported ``keras`` module.
        name: E.g. ``'mse'``, ``'sparse_categorical_crossentropy'``, ``'SparseCategoricalCrossentropy'``.

    Returns:
        E.g. ``'mean_squared_error'`` or ``'sparse_categorical_crossentropy'``.

    Example:
        >>> canonical_loss_name(keras, "SparseCategoricalCrossentropy")  # doctest: +SKIP
        'sparse_categorical_crossentropy'
    """
    if name[:1].isupper():
        cls = getattr(keras.losses, name, None)
        if isinstance(cls, type) and issubclass(cls, keras.losses.Loss) and cls is not keras.losses.Loss:
            return _snake_case(name)
        return None
    return _function_name(keras, name)


def _loss_names(keras: Any) -> list[str]:
    skip = {"get", "serialize", "deserialize", "Loss"}
    return [n for n in dir(keras.losses) if not n.startswith("_") and n not in skip]


def make_loss(spec: Spec, dataset: Dataset, *, from_logits: bool = False) -> Any:
    """Build the loss of ``[train.loss]`` for ``model.compile``.

    A lower-case name without arguments is returned as it is (Keras looks it up); a class
    name, or any loss with arguments, becomes an instance of its Keras class (snake_case
    names map to their class: ``sparse_categorical_crossentropy`` →
    ``SparseCategoricalCrossentropy``). ``auto`` is resolved first (:func:`resolve_loss`).
    Classification losses are checked against ``data.target_encoding``.

    With ``from_logits=True`` the loss is the same Keras class with ``from_logits=True``
    added to the spec's arguments: the loss of a model trained on the logits behind its
    softmax or sigmoid (:mod:`dlworkflow.training.logits`).

    Args:
        spec: The validated spec.
        dataset: The data (task and target encoding).
        from_logits: Build the loss for logits instead of probabilities.

    Returns:
        A loss name or a ``keras.losses.Loss`` instance.

    Raises:
        SpecError: at ``train.loss.type`` for an unknown loss or one that does not fit the
            target encoding; at ``train.loss.<argument>`` for an argument the class does not
            take (with the closest valid one) or a value it rejects.

    Example:
        >>> make_loss(spec, dataset)  # loss = "mse"  # doctest: +SKIP
        'mse'
    """
    import keras

    source = spec.source
    name = resolve_loss(spec, dataset)
    arguments = spec.train.loss.arguments
    canonical = canonical_loss_name(keras, name)
    if canonical is None:
        raise SpecError.single(
            source, "train.loss.type", "unknown Keras loss", got=name,
            hint=(suggestion(name, _loss_names(keras), show_options=0) + " Or leave train.loss = 'auto'.").strip(),
        )
    _check_encoding(name, canonical, spec, dataset)
    if from_logits:
        arguments = {**arguments, "from_logits": True}
    if name[:1].islower() and not arguments:
        return name
    loss_class = loss_classes(keras).get(canonical)
    if loss_class is None:
        raise SpecError.single(
            source, "train.loss.type", f"the Keras loss {name!r} has no class to take arguments",
            got=name, hint="Remove the arguments, or use a keras.losses class name (e.g. 'MeanSquaredError').",
        )
    try:
        return loss_class(**arguments)
    except (TypeError, ValueError) as err:
        raise argument_error(
            source, "train.loss", f"keras.losses.{loss_class.__name__}", loss_class, keras.losses.Loss, arguments, err,
        ) from err


CLASSIFICATION_LOSSES = ONEHOT_LOSSES | INTEGER_LOSSES | frozenset({
    "binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
})
"""Canonical names of the losses that compare class probabilities or labels, not numbers."""


def _check_encoding(name: str, canonical: str, spec: Spec, dataset: Dataset) -> None:
    source = spec.source
    if dataset.task == "regression" and canonical in CLASSIFICATION_LOSSES:
        raise SpecError.single(
            source, "train.loss.type", f"{name!r} is a classification loss but the target is a regression target "
            f"({dataset.target!r} holds numbers)",
            hint="Use 'mse' (or 'auto', which picks it), 'mae' or 'huber' for a numeric target.",
        )
    if dataset.task != "classification":
        return
    if canonical in ONEHOT_LOSSES and dataset.target_encoding == "integer":
        raise SpecError.single(
            source, "train.loss.type", f"{name!r} needs one-hot targets but data.target_encoding is 'integer'",
            hint="Use 'sparse_categorical_crossentropy', set data.target_encoding = 'onehot', or use 'auto'.",
        )
    if canonical in INTEGER_LOSSES and dataset.target_encoding == "onehot":
        raise SpecError.single(
            source, "train.loss.type", f"{name!r} needs integer targets but data.target_encoding is 'onehot'",
            hint="Use 'categorical_crossentropy', set data.target_encoding = 'integer', or use 'auto'.",
        )
