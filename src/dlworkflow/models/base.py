"""The base of a transfer-learning model: ``[model.base]`` → a ``keras.applications`` network.

The base is built without its classification top (``include_top=False``) for the model's
input shape, with the spec's ``pooling`` and any further keys of ``[model.base]`` passed on as
keyword arguments (``alpha = 0.35`` for MobileNetV2). Its weights come from one of three places:
``weights = "imagenet"`` (Keras downloads them once into its cache), a local weights file
(a path relative to the spec file's folder, then to the data home), or nowhere: ``weights``
left out or ``"none"`` gives random weights, and such a base is *not pretrained* — the parameter
report says ``random weights (not pretrained)`` and the run carries a warning
(:func:`base_warning`), since a frozen random base transfers nothing. ``trainable = false``
freezes it. The builder then calls it as the Keras transfer-learning guide does,
``base(inputs, training=False)``.

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

import inspect
import urllib.error
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError, suggestion
from dlworkflow.models.arguments import keras_message
from dlworkflow.spec.keras_names import APPLICATION_TYPES

if TYPE_CHECKING:
    import keras

    from dlworkflow.spec.schema import FineTuneSpec, Spec

IMAGENET = "imagenet"
"""The ``model.base.weights`` value that asks Keras to download the ImageNet weights."""

SET_BY_THE_BASE = ("include_top", "weights", "input_shape", "input_tensor", "pooling", "name", "classes",
                   "classifier_activation")
"""Keyword arguments of an application that ``[model.base]`` sets itself (or that only a top uses)."""

PRETRAINED_ATTRIBUTE = "dlw_pretrained"
"""The attribute :func:`build_base` sets on a base: True when its weights were loaded, False when random."""


def base_warning(spec: Spec) -> str | None:
    """The warning of a run whose ``[model.base]`` starts from random weights, or None.

    Args:
        spec: A validated spec.

    Returns:
        One line naming the spec, the application and what to do; None without a base or with
        ImageNet or file weights.

    Example:
        >>> from dlworkflow.spec import validate_spec
        >>> spec = validate_spec({"name": "m", "data": {"path": "images"}, "model": {"input_shape": [32, 32, 3],
        ...     "base": {"application": "MobileNetV2", "alpha": 0.35}, "layers": [{"type": "Dense", "units": 2}]}},
        ...     source="m.toml")
        >>> print(base_warning(spec))
        m.toml: model.base: MobileNetV2 has random weights (not pretrained; model.base.weights is left out) and is frozen, so it transfers nothing. Set weights = "imagenet" or a weights file, or trainable = true to train it from scratch.
    """
    base = spec.model.base
    if base is None or base.pretrained:
        return None
    given = "left out" if base.weights is None else f"{base.weights!r}"
    if base.trainable:
        return (f"{spec.source}: model.base: {base.application} starts from random weights (not pretrained; "
                f"model.base.weights is {given}) and is trained from scratch with the head. "
                'Set weights = "imagenet" or a weights file to transfer what it learnt elsewhere.')
    return (f"{spec.source}: model.base: {base.application} has random weights (not pretrained; "
            f"model.base.weights is {given}) and is frozen, so it transfers nothing. "
            'Set weights = "imagenet" or a weights file, or trainable = true to train it from scratch.')


def base_kind(layer: Any) -> str:
    """How the parameter report names a base: ``pretrained base`` or ``base, random weights (not pretrained)``.

    Args:
        layer: A base (see :func:`is_base`).

    Returns:
        The words; ``base`` alone for a base that :func:`build_base` did not build (read from a file).

    Example:
        >>> base_kind(find_base(model))  # doctest: +SKIP
        'base, random weights (not pretrained)'
    """
    pretrained = getattr(layer, PRETRAINED_ATTRIBUTE, None)
    if pretrained is None:
        return "base"
    return "pretrained base" if pretrained else "base, random weights (not pretrained)"


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
    input_shape=input_shape, pooling=pooling, name=application, **further)``: ``weights="imagenet"``
    when the spec says so, else ``None`` followed by ``base.load_weights(path)`` for a local
    weights file (random weights when ``weights`` is left out or ``"none"``); ``further`` are
    the other keys of ``[model.base]`` (``BaseSpec.arguments``). Then ``base.trainable`` is set
    from the spec.

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
            ``model.base.<key>`` for a further argument the application does not take or
            rejects (``alpha = "big"``); at ``model.base`` when Keras rejects the input shape
            (e.g. too small).

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
    if base_spec.pretrained and base_spec.weights != IMAGENET:
        weights_file = locate_weights(base_spec.weights, source=source)
    network = getattr(applications, application)
    further = check_arguments(network, base_spec.arguments, application=application, source=source)
    try:
        base = network(
            include_top=False,
            weights=IMAGENET if base_spec.weights == IMAGENET else None,
            input_shape=tuple(input_shape),
            pooling=base_spec.pooling,
            name=application,
            **further,
        )
    except (TypeError, ValueError) as err:
        if further:
            where = f"model.base.{next(iter(further))}" if len(further) == 1 else "model.base"
            raise SpecError.single(
                source, where, f"keras.applications.{application} cannot be built with "
                f"{', '.join(f'{key}={value!r}' for key, value in further.items())} for input shape "
                f"{tuple(input_shape)!r}: {keras_message(err)}",
                hint=f"Give values keras.applications.{application} accepts (see its documentation), "
                "or leave the argument out for its default.",
            ) from err
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
    setattr(base, PRETRAINED_ATTRIBUTE, base_spec.pretrained)
    base.trainable = base_spec.trainable
    if base_spec.trainable:
        freeze_batch_normalization(base)
    return base


def check_arguments(network: Any, arguments: dict[str, Any], *, application: str, source: str) -> dict[str, Any]:
    """Check the further keys of ``[model.base]`` against the application's keyword arguments.

    A key the application does not take, or one ``[model.base]`` sets itself, is refused; a
    value of another type than the argument's default (a string for ``alpha = 1.0``) too.
    Values Keras itself rejects are caught when the base is built.

    Args:
        network: The application (e.g. ``keras.applications.MobileNetV2``).
        arguments: ``BaseSpec.arguments``.
        application: Its name, for messages.
        source: The spec file, for messages.

    Returns:
        The arguments, to pass on.

    Raises:
        SpecError: at ``model.base.<key>``, naming the application, what it takes and the fix.

    Example:
        >>> import keras  # doctest: +SKIP
        >>> check_arguments(keras.applications.MobileNetV2, {"alpha": 0.35}, application="MobileNetV2",
        ...                 source="m.toml")  # doctest: +SKIP
        {'alpha': 0.35}
    """
    if not arguments:
        return {}
    try:
        parameters = inspect.signature(network).parameters
    except (TypeError, ValueError):  # no signature to read: Keras will say
        return dict(arguments)
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return dict(arguments)
    takes = [name for name in parameters if name not in SET_BY_THE_BASE]
    for key, value in arguments.items():
        if key in SET_BY_THE_BASE:
            raise SpecError.single(
                source, f"model.base.{key}", f"is set by [model.base] itself for keras.applications.{application}",
                got=value, hint=f"Remove it. Further arguments {application} takes: {', '.join(takes) or 'none'}.",
            )
        if key not in parameters:
            raise SpecError.single(
                source, f"model.base.{key}", f"keras.applications.{application} takes no argument {key!r}",
                got=value, hint=(suggestion(key, takes) or f"{application} takes no further arguments.")
                + " [model.base]'s own keys are application, weights, trainable and pooling.",
            )
        default = parameters[key].default
        if not _same_kind(value, default):
            raise SpecError.single(
                source, f"model.base.{key}",
                f"keras.applications.{application} expects {key} to be a {_kind(default)} (default {default!r})",
                got=value, hint=f"Write e.g. {key} = {_toml(default)}, or leave it out for the default.",
            )
    return dict(arguments)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__ if value is not None else "value"


def _same_kind(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty or default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, str):
        return isinstance(value, str)
    return True


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


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
