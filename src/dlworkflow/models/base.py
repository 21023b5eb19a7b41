"""The pretrained base of a transfer-learning model: ``[model.base]`` → a ``keras.applications`` network.

The base is built without its classification top (``include_top=False``) for the model's
input shape, with the spec's ``pooling``, and its weights come from one of three places:
``weights = "imagenet"`` (Keras downloads them once into its cache), a local weights file
(a path relative to the spec file's folder, then to the data home), or nowhere (random
weights). ``trainable = false`` freezes it. The builder then calls it as the Keras
transfer-learning guide does, ``base(inputs, training=False)``.

BatchNormalization stays in inference mode, also when the base is trainable or unfrozen for
fine-tuning. In Keras 3 ``training=False`` at model construction alone does not ensure
that: ``fit`` calls the outer model with ``training=True`` and that value reaches the
nested base (keras-team/keras#20285). What Keras 3 does honour is a frozen
BatchNormalization layer, which always runs in inference mode; so the base's
BatchNormalization layers are kept frozen (their moving statistics and scale/offset stay as
loaded) whenever the rest of the base is trainable, as the Keras fine-tuning examples do.

Keras is imported inside the functions, so importing this module does not fix the backend.

Example:
    >>> base = build_base(spec, (160, 160, 3))  # doctest: +SKIP
    >>> base.name, base.trainable, base.count_params()  # doctest: +SKIP
    ('DenseNet121', False, 7037504)
"""

from __future__ import annotations

import urllib.error
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError
from dlworkflow.models.arguments import keras_message
from dlworkflow.spec.keras_names import APPLICATION_TYPES

if TYPE_CHECKING:
    import keras

    from dlworkflow.spec.schema import FineTuneSpec, Spec

IMAGENET = "imagenet"
"""The ``model.base.weights`` value that asks Keras to download the ImageNet weights."""


def is_base(layer: Any) -> bool:
    """Whether a layer of a model is a pretrained base built from ``[model.base]``.

    A base is a nested Keras model named after its ``keras.applications`` class
    (:func:`build_base` names it so), e.g. ``DenseNet121``.

    Args:
        layer: A layer of a built model.

    Returns:
        True for the base.

    Example:
        >>> [layer.name for layer in model.layers if is_base(layer)]  # doctest: +SKIP
        ['DenseNet121']
    """
    return hasattr(layer, "layers") and hasattr(layer, "inputs") and str(getattr(layer, "name", "")) in APPLICATION_TYPES


def find_base(model: Any) -> Any | None:
    """The pretrained base inside a model, or None when it has none.

    Args:
        model: A model built by :func:`dlworkflow.models.build_model`.

    Returns:
        The base (a nested Keras model), or None.

    Example:
        >>> find_base(model).name  # doctest: +SKIP
        'DenseNet121'
    """
    return next((layer for layer in getattr(model, "layers", ()) if is_base(layer)), None)


def weights_candidates(weights: str, *, source: str) -> list[Path]:
    """Every place a ``model.base.weights`` file is looked for, in order.

    An absolute path is used as is; a relative one is looked for in the spec file's folder
    (the working directory when there is no spec file), then in the data home — the same
    places as ``data.path`` (:func:`dlworkflow.data.home.candidates`).

    Args:
        weights: ``model.base.weights`` as written in the spec (not ``"imagenet"``).
        source: The spec file, or a label such as ``<api>``.

    Returns:
        The candidate paths.

    Example:
        >>> [str(p) for p in weights_candidates("/w/densenet.weights.h5", source="<api>")]
        ['/w/densenet.weights.h5']
    """
    from dlworkflow.data.home import candidates

    return candidates(weights, source=source)


def locate_weights(weights: str, *, source: str) -> Path:
    """Find the local weights file ``model.base.weights`` names.

    Args:
        weights: ``model.base.weights`` as written in the spec.
        source: The spec file, for the search and for error messages.

    Returns:
        The first existing candidate of :func:`weights_candidates`.

    Raises:
        SpecError: at ``model.base.weights`` when the file exists nowhere, naming every place
            looked and the fix.

    Example:
        >>> locate_weights("densenet121.weights.h5", source="examples/transfer.toml")  # doctest: +SKIP
        PosixPath('/srv/lesson-data/densenet121.weights.h5')
    """
    from dlworkflow.data.home import DATA_HOME_VARIABLE, spec_folder_text

    places = weights_candidates(weights, source=source)
    for place in places:
        if place.is_file():
            return place
    looked = ", ".join(repr(str(place)) for place in places)
    where = spec_folder_text(source) + (", then from the data home" if len(places) > 1 else "")
    raise SpecError.single(
        source, "model.base.weights", "weights file not found", got=weights,
        hint=f"Use 'imagenet' (downloaded by Keras), leave weights out for random weights, or give the path of "
        f"a weights file: a relative path is read from {where} ({DATA_HOME_VARIABLE}). Looked in {looked}.",
    )


def build_base(spec: Spec, input_shape: tuple[int, ...], *, applications: Any = None) -> keras.Model:
    """Build the ``keras.applications`` network of ``[model.base]``, without its top.

    Calls ``getattr(keras.applications, application)(include_top=False, weights=...,
    input_shape=input_shape, pooling=pooling, name=application)``: ``weights="imagenet"``
    when the spec says so, else ``None`` followed by ``base.load_weights(path)`` for a local
    weights file. Then ``base.trainable`` is set from the spec.

    Args:
        spec: The validated spec; ``spec.model.base`` must be set.
        input_shape: Shape of one input image, e.g. ``(160, 160, 3)``.
        applications: Where the network classes are looked up; ``keras.applications`` when
            None (tests pass a fake).

    Returns:
        The base network, named after its class (e.g. ``DenseNet121``).

    Raises:
        SpecError: at ``model.base.weights`` when the ImageNet weights cannot be downloaded
            (no network) or the weights file is missing or does not fit the network; at
            ``model.base`` when Keras rejects the input shape (e.g. too small).

    Example:
        >>> base = build_base(spec, (160, 160, 3))  # doctest: +SKIP
        >>> base.output.shape  # pooling = "max"  # doctest: +SKIP
        (None, 1024)
    """
    base_spec = spec.model.base
    if base_spec is None:
        raise ValueError("build_base needs a spec with [model.base]")
    if applications is None:
        import keras

        applications = keras.applications
    source = spec.source
    application = base_spec.application
    weights_file = None
    if base_spec.weights is not None and base_spec.weights != IMAGENET:
        weights_file = locate_weights(base_spec.weights, source=source)
    network = getattr(applications, application)
    try:
        base = network(
            include_top=False,
            weights=IMAGENET if base_spec.weights == IMAGENET else None,
            input_shape=tuple(input_shape),
            pooling=base_spec.pooling,
            name=application,
        )
    except (TypeError, ValueError) as err:
        raise SpecError.single(
            source, "model.base", f"keras.applications.{application} cannot be built for input shape "
            f"{tuple(input_shape)!r}: {keras_message(err)}",
            hint="Check model.input_shape (or data.image_size): these networks need images of 3 channels "
            "and at least 32×32 pixels (75×75 for some).",
        ) from err
    except Exception as err:  # keras.utils.get_file raises a plain Exception when a download fails
        if not _is_download_failure(err):
            raise
        raise SpecError.single(
            source, "model.base.weights",
            f"the ImageNet weights of {application} could not be downloaded ({err})",
            got=base_spec.weights,
            hint="Keras needs network access once to download them (they are then cached in ~/.keras/models); "
            f"or download the weights file on a machine with network access, e.g. "
            f"keras.applications.{application}(include_top=False).save_weights('{application.lower()}.weights.h5'), "
            "copy it here and set model.base.weights to its path.",
        ) from err
    if weights_file is not None:
        _load_weights(base, weights_file, spec)
    base.trainable = base_spec.trainable
    if base_spec.trainable:
        freeze_batch_normalization(base)
    return base


def freeze_batch_normalization(base: Any) -> int:
    """Freeze every BatchNormalization layer inside a base, so it runs in inference mode.

    A frozen BatchNormalization layer in Keras 3 uses its moving mean and variance, and
    does not update them, even when the model is trained (``fit`` calls it with
    ``training=True``).

    Args:
        base: The pretrained base (or any model).

    Returns:
        The number of BatchNormalization layers frozen.

    Example:
        >>> freeze_batch_normalization(find_base(model))  # doctest: +SKIP
        120
    """
    count = 0
    for layer in _all_layers(base):
        if any(klass.__name__ == "BatchNormalization" for klass in type(layer).__mro__):
            layer.trainable = False
            count += 1
    return count


def _all_layers(model: Any) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", ()):
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_all_layers(layer))
    return found


def _is_download_failure(err: BaseException) -> bool:
    network_errors = (urllib.error.URLError, ConnectionError, TimeoutError)
    chain = [err, err.__cause__, err.__context__]
    if any(isinstance(item, network_errors) for item in chain):
        return True
    return type(err) is Exception and "URL fetch failure" in str(err)


def _load_weights(base: Any, path: Path, spec: Spec) -> None:
    # Keras warns once per layer it cannot match before it gives up with an error: those
    # warnings are held back when the error follows (it says the same), shown otherwise.
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            base.load_weights(str(path))
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    except (ValueError, OSError, KeyError, TypeError) as err:
        application = spec.model.base.application if spec.model.base else "the base"
        raise SpecError.single(
            spec.source, "model.base.weights",
            f"cannot load the weights file {str(path)!r} into {application}: {keras_message(err)[:600]}",
            hint=f"Use a file saved from keras.applications.{application}(include_top=False, "
            "input_shape=<the same shape>) with save_weights('….weights.h5') (or Keras' own notop .h5 file).",
        ) from err


def unfreeze_base(model: Any, fine_tune: FineTuneSpec) -> int:
    """Unfreeze a model's pretrained base for fine-tuning, all of it or its top layers.

    ``layers = "all"`` makes every layer of the base trainable; ``layers = N`` only the last
    N layers of ``base.layers`` (layers without weights count too, as in the Keras
    transfer-learning guide's ``fine_tune_at``). BatchNormalization layers stay frozen, so
    they stay in inference mode (see :func:`freeze_batch_normalization`). The model must be
    compiled again afterwards for the change to take effect.

    Args:
        model: A model with a pretrained base (see :func:`find_base`).
        fine_tune: ``[train.fine_tune]``.

    Returns:
        The model's trainable parameter count after unfreezing (for the record).

    Raises:
        ValueError: when the model has no pretrained base.

    Example:
        >>> unfreeze_base(model, spec.train.fine_tune)  # doctest: +SKIP
        7047232
    """
    base = find_base(model)
    if base is None:
        raise ValueError(f"the model {model.name!r} has no pretrained base to unfreeze")
    base.trainable = True
    if fine_tune.layers != "all" and fine_tune.layers < len(base.layers):
        for layer in base.layers[: len(base.layers) - fine_tune.layers]:
            layer.trainable = False
    freeze_batch_normalization(base)
    return trainable_parameter_count(model)


def trainable_parameter_count(model: Any) -> int:
    """Parameters of a model the optimizer updates (as ``model.summary()`` counts them).

    Args:
        model: A built Keras model.

    Returns:
        The count.

    Example:
        >>> trainable_parameter_count(model)  # doctest: +SKIP
        53808
    """
    total = 0
    for weight in model.trainable_weights:
        count = 1
        for dimension in weight.shape:
            count *= int(dimension)
        total += count
    return total
