"""The remedies a diagnosis proposes, in the workshop's words, made specific by :class:`RunSettings`.

Each function returns one remedy as text, naming the spec key and value to change where the
settings tell them (or None when the remedy does not apply: the run already does it).
:func:`~dlworkflow.evaluation.diagnosis.diagnose` lists them in the workshop's order:
fewer parameters, Dropout, BatchNormalization, early stopping, more data, augmentation,
lower learning rate; scaling the inputs or the target and more epochs, which the workshop
does not list, come where they fit best.

Example:
    >>> scale_inputs(RunSettings(scaling="none"))
    "scale the inputs: [data] scaling = 'standardize' (the features are unscaled now)"
"""

from __future__ import annotations

from dlworkflow.evaluation.data_scales import DataScales
from dlworkflow.evaluation.run_settings import RunSettings

DEFAULT_LEARNING_RATES: dict[str, float] = {"sgd": 0.01}
"""Keras' default learning rate per optimizer where it is not 0.001 (used when the spec sets none)."""


def present(remedies: tuple[str | None, ...]) -> tuple[str, ...]:
    """The remedies that apply, in order: those given as None or empty are left out.

    Args:
        remedies: Remedy texts, None where one does not apply.

    Returns:
        The texts.

    Example:
        >>> present(("Dropout: ...", None, "more data: ..."))
        ('Dropout: ...', 'more data: ...')
    """
    return tuple(remedy for remedy in remedies if remedy)


def _has_layer(settings: RunSettings, layer_type: str) -> bool | None:
    return None if settings.layer_types is None else layer_type in settings.layer_types


def fewer_parameters(settings: RunSettings) -> str:
    """Overfitting: fewer units (or filters) or layers, with the sizes to try and the parameter count.

    Example:
        >>> fewer_parameters(RunSettings(hidden_units=(100, 50)))
        'fewer parameters: fewer units in [[model.layers]] (units 100, 50 now: try 50, 25 or less) or fewer layers'
    """
    size = ""
    if settings.parameters is not None:
        rows = f" for {settings.training_rows:,} training rows" if settings.training_rows is not None else ""
        size = f"; the model has {settings.parameters:,} trainable parameters{rows}"
    filters = " or filters" if settings.layer_types and any(t.startswith("Conv") for t in settings.layer_types) else ""
    if settings.hidden_units:
        now = ", ".join(str(units) for units in settings.hidden_units)
        halved = ", ".join(str(max(1, units // 2)) for units in settings.hidden_units)
        return (f"fewer parameters: fewer units{filters} in [[model.layers]] (units {now} now: try {halved} or less) "
                f"or fewer layers{size}")
    return f"fewer parameters: fewer units{filters} or layers in [[model.layers]]{size}"


def more_parameters(settings: RunSettings) -> str:
    """Underfitting: more units or layers, naming the hidden units now.

    Example:
        >>> more_parameters(RunSettings(hidden_units=(8,)))[:57]
        'more parameters: more units or layers in [[model.layers]]'
    """
    now = ", ".join(str(units) for units in settings.hidden_units)
    units = f" (units {now} now)" if now else ""
    return f"more parameters: more units or layers in [[model.layers]]{units}, so the model can learn the function"


def dropout(settings: RunSettings) -> str:
    """Overfitting: raise the rate of the Dropout layers there are, else add one.

    Example:
        >>> dropout(RunSettings(dropout_rates=(0.2,)))
        'Dropout: raise the rate of the Dropout layer(s) (rate 0.2 now)'
    """
    if settings.dropout_rates:
        rates = ", ".join(f"{rate:g}" for rate in settings.dropout_rates)
        return f"Dropout: raise the rate of the Dropout layer(s) (rate {rates} now)"
    return ('Dropout: add { type = "Dropout", rate = 0.2 } after a hidden layer in [[model.layers]] '
            "(active in training only)")


def less_dropout(settings: RunSettings) -> str | None:
    """Underfitting: lower the rate of the Dropout layers; None when the model has none.

    Example:
        >>> less_dropout(RunSettings()) is None
        True
    """
    if not settings.dropout_rates:
        return None
    rates = ", ".join(f"{rate:g}" for rate in settings.dropout_rates)
    return f"less Dropout: lower the rate of the Dropout layer(s) (rate {rates} now) or remove them"


def batch_normalization(settings: RunSettings, why: str) -> str | None:
    """Add a BatchNormalization layer first, saying ``why`` it helps; None when the model has one.

    Example:
        >>> batch_normalization(RunSettings(layer_types=("BatchNormalization", "Dense")), "it regularises") is None
        True
    """
    if _has_layer(settings, "BatchNormalization"):
        return None
    return f'BatchNormalization: add {{ type = "BatchNormalization" }} as the first of [[model.layers]] ({why})'


def early_stopping(settings: RunSettings, best_epoch: int | None) -> str | None:
    """Early stopping with the best epoch's weights; None when the run already used both.

    Args:
        settings: How the run was set up.
        best_epoch: The epoch of the lowest validation loss, named when given.

    Example:
        >>> early_stopping(RunSettings(early_stopping=True, restore_best_weights=True), 42) is None
        True
    """
    lowest = f" — validation loss was lowest at epoch {best_epoch}" if best_epoch is not None else ""
    if settings.early_stopping and settings.restore_best_weights:
        return None
    if settings.early_stopping:
        return (f"early stopping: [train.early_stopping] restore_best_weights = true, so the best epoch's weights are "
                f"evaluated, not the last{lowest}")
    return ("early stopping: [train.early_stopping] monitor = 'val_loss', patience = 10, "
            f"restore_best_weights = true{lowest}")


def more_data(settings: RunSettings) -> str:
    """More training rows (or images), with the count now.

    Example:
        >>> more_data(RunSettings(images=True))
        'more data: more training images'
    """
    if settings.images:
        return "more data: more training images"
    rows = f" than the {settings.training_rows:,} now" if settings.training_rows is not None else ""
    return (f"more data: more training rows{rows}, e.g. a longer period ([data] rows); with fewer features "
            "([data] select) the same rows go further")


def augmentation(settings: RunSettings) -> str | None:
    """For images without Random… layers: add augmentation layers first; else None.

    Example:
        >>> augmentation(RunSettings(images=False)) is None
        True
    """
    if not settings.images or (settings.layer_types and any(t.startswith("Random") for t in settings.layer_types)):
        return None
    return ('augmentation: add { type = "RandomFlip", mode = "horizontal" }, RandomRotation and RandomZoom layers '
            "first in [[model.layers]] (active in training only)")


def lower_learning_rate(settings: RunSettings, when: str) -> str:
    """A tenth of the learning rate now (the optimizer's default when the spec sets none), ``when`` it applies.

    Example:
        >>> lower_learning_rate(RunSettings(learning_rate=0.01), "if the loss curves are jagged")
        'lower learning rate: [train.optimizer] learning_rate = 0.001 (now 0.01), if the loss curves are jagged'
    """
    if settings.learning_rate is not None:
        now = f"now {settings.learning_rate:g}"
        rate = settings.learning_rate
    else:
        rate = DEFAULT_LEARNING_RATES.get((settings.optimizer or "adam").lower(), 0.001)
        now = f"now the default, {rate:g} for {settings.optimizer or 'adam'}"
    suffix = f", {when}" if when else ""
    return f"lower learning rate: [train.optimizer] learning_rate = {rate / 10:g} ({now}){suffix}"


def scale_inputs(settings: RunSettings, scales: DataScales | None = None) -> str | None:
    """Scale the inputs when they are unscaled (``data.scaling = "none"``); else None.

    Not in the workshop's list, but its first step: unscaled features stall or derail training.
    Never for a table without numeric inputs (``scales.numeric_inputs`` false: text and
    categories only, whose token ids, one-hot and TF-IDF columns are not scaled).

    Example:
        >>> scale_inputs(RunSettings(scaling="none", images=True))
        "scale the inputs: [data] scaling = 'pixels' (the features are unscaled now)"
    """
    if settings.scaling != "none" or (scales is not None and scales.numeric_inputs is False):
        return None
    value = "pixels" if settings.images else "standardize"
    return f"scale the inputs: [data] scaling = '{value}' (the features are unscaled now)"


def scale_target(scales: DataScales | None) -> str | None:
    """Scale a regression target whose spread is far from 1 and is unscaled; else None.

    Not in the workshop's list: its targets (sunshine hours) are near unit scale. A target of
    spread 77 leaves the output layer a long way to go, and the squared error's gradients large.

    Example:
        >>> scale_target(DataScales(target_spread=77.0, target_mean=152.0))  # doctest: +ELLIPSIS
        "scale the target: [data] target_scaling = 'standardize' (the training target's standard deviation is 77, ..."
    """
    if scales is None or not scales.target_far_from_unit:
        return None
    return (f"scale the target: [data] target_scaling = 'standardize' (the training target's standard deviation is "
            f"{scales.target_spread:.3g}, mean {scales.target_mean:.3g}; predictions and metrics stay in its units)")


def more_patience(settings: RunSettings, last_epoch: int) -> str:
    """Early stopping with more patience, for a run it stopped while the loss still fell overall.

    Args:
        settings: How the run was set up (``patience``).
        last_epoch: The epoch early stopping ended the run at.

    Example:
        >>> more_patience(RunSettings(epochs=20, early_stopping=True, patience=2), 12)
        'more patience: [train.early_stopping] patience = 5 (now 2); it stopped the run at epoch 12 of 20'
    """
    patience = settings.patience or 0
    epochs = f" of {settings.epochs}" if settings.epochs else ""
    return (f"more patience: [train.early_stopping] patience = {max(5, 2 * patience)} (now {patience}); "
            f"it stopped the run at epoch {last_epoch}{epochs}")


def more_epochs(settings: RunSettings, last_epoch: int) -> str:
    """Twice the epochs, with early stopping when the run had none.

    Args:
        settings: How the run was set up.
        last_epoch: The run's last epoch (stands for the epochs asked for when unknown).

    Example:
        >>> more_epochs(RunSettings(epochs=30, early_stopping=True), 30)
        'more epochs: [train] epochs = 60 (now 30)'
    """
    epochs = settings.epochs or last_epoch
    stop = "" if settings.early_stopping else (
        " with [train.early_stopping] monitor = 'val_loss', patience = 10, restore_best_weights = true, so training "
        "stops by itself when validation loss stops improving"
    )
    return f"more epochs: [train] epochs = {2 * epochs} (now {epochs}){stop}"
