"""Turn the ``[model]`` section of a spec into a Keras model.

A list of ``[[model.layers]]`` entries becomes a Functional model, exactly as the lesson
writes it: ``keras.Input(shape=..., name="input")`` followed by each layer called on the
previous one; with ``[model.base]`` a pretrained ``keras.applications`` network comes first
and the layers are its head (:mod:`dlworkflow.models.base`). The input shape is
``model.input_shape`` or the data's, so a spec that gives it builds without data. Instead of
layers a spec may name a ``module:function`` builder that returns a model. Either way a Keras error is re-raised as a :class:`~dlworkflow.errors.SpecError`
that names the spec file, the layer (``model.layers[2].units``) and the fix, and the model's
output is checked against the data (number of classes, one regression output).

Keras is imported inside the functions, so importing this module does not fix the Keras
backend; call :func:`dlworkflow.training.activate_backend` first.

Example:
    >>> model = build_model(spec, dataset)  # doctest: +SKIP
    >>> model.name, model.count_params()  # doctest: +SKIP
    ('weather', 14101)
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.errors import SpecError, suggestion
from dlworkflow.models.arguments import argument_error, keras_message
from dlworkflow.models.layer_size import check_layer_size
from dlworkflow.models.text_branch import join, join_index, split_inputs
from dlworkflow.user_code import call_user_code, import_user_attribute

if TYPE_CHECKING:
    import keras

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.data.text_encoding import SequenceLayout
    from dlworkflow.spec.schema import LayerSpec, Spec

INPUT_NAME = "input"
"""Name of the model's input layer (as in the lesson)."""

BUILDER_INPUTS = ("input_shape", "output_units")
"""Keyword arguments a ``module:function`` builder receives from the data, when it accepts them."""

_SHAPE_ARGUMENTS = ("input_shape", "input_dim", "batch_input_shape", "batch_shape")
_PROBABILITY_LOSSES = frozenset(
    {
        "auto",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
    }
)


def model_name(spec: Spec) -> str:
    """The Keras name of a spec's model: ``model.name``, else the spec name, made valid.

    Characters Keras does not allow in a name become ``_``.

    Args:
        spec: The validated spec.

    Returns:
        A valid Keras model name.

    Example:
        >>> model_name(spec)  # spec.name == "weather 10-5-1"  # doctest: +SKIP
        'weather_10-5-1'
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.model.name or spec.name).strip("_")
    if not name:
        return "model"
    return name if name[0].isalnum() or name[0] == "." else f"model_{name}"


def snake_case(class_name: str) -> str:
    """Keras' default layer name for a class name (``BatchNormalization`` → ``batch_normalization``).

    Args:
        class_name: A layer class name.

    Returns:
        The snake_case name.

    Example:
        >>> snake_case("BatchNormalization"), snake_case("Conv2D")
        ('batch_normalization', 'conv2d')
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def build_model(spec: Spec, dataset: Dataset | None) -> keras.Model:
    """Build the Keras model a spec describes, for a dataset's input and output sizes.

    With ``model.layers`` the model is ``keras.Input(shape=input_shape, name="input")``
    followed by each layer, built with the Functional API. The input shape is
    ``model.input_shape`` when the spec gives it (it must then equal the data's), else the
    data's. With ``[model.base]`` the pretrained network comes first, called as
    ``base(inputs, training=False)`` (see :mod:`dlworkflow.models.base`), and the layers
    are the head on top of it. Layers without a ``name`` are named like Keras names them in
    a fresh session (``dense``, ``dense_1``…), so names do not depend on what was built
    before in the same process. With ``model.builder = "module:function"`` the function is
    imported (the spec file's folder is searched first) and called with the arguments it
    accepts among ``input_shape``, ``output_units`` and ``model.builder_args``. When the
    data's text column in ``sequence`` mode sits beside other inputs, the model has two branches
    joined at the layer list's ``Concatenate`` entry (:mod:`dlworkflow.models.text_branch`).

    With data, the model's output is then checked: one unit (or a flat output) for
    regression, ``dataset.output_units`` units for classification. Without data
    (``dataset=None``, e.g. ``dlw summary`` of a spec that gives ``model.input_shape``)
    the model is built from ``model.input_shape`` alone and nothing is checked against data.

    Args:
        spec: The validated spec.
        dataset: The prepared data (input shape and number of classes), or None to build
            from ``model.input_shape`` alone.

    Returns:
        The model, not compiled.

    Raises:
        SpecError: naming the spec path of a bad layer argument, a layer whose weights
            would not fit in memory (counted before Keras allocates them), a layer that cannot take
            its input, a builder that cannot be imported or called, an output that does
            not fit the data, a ``model.input_shape`` that differs from the data's, or a
            missing input shape (no data and no ``model.input_shape``).

    Example:
        >>> spec = validate_spec({"name": "penguins", "data": {"dataset": "penguins",
        ...     "target": "species"}, "model": {"layers": [
        ...     {"type": "Dense", "units": 10, "activation": "relu"},
        ...     {"type": "Dense", "units": 3, "activation": "softmax"}]}})  # doctest: +SKIP
        >>> build_model(spec, dataset).count_params()  # doctest: +SKIP
        83
    """
    input_shape = model_input_shape(spec, dataset)
    if spec.model.builder is not None:
        model = _call_builder(spec, dataset, input_shape)
    else:
        from dlworkflow.data.text_encoding import (  # here: importing the models imports no pandas
            embedding_input_dim,
            sequence_layout,
        )

        preprocessing = None if dataset is None else dataset.preprocessing
        model = _build_from_layers(spec, input_shape, embedding_input_dim(preprocessing), sequence_layout(preprocessing))
    if dataset is not None:
        check_output(model, spec, dataset)
    return model


def model_input_shape(spec: Spec, dataset: Dataset | None) -> tuple[int, ...]:
    """The shape of one input the model is built for: ``model.input_shape``, else the data's.

    Args:
        spec: The validated spec.
        dataset: The prepared data, or None.

    Returns:
        The shape without the batch dimension, e.g. ``(64, 64, 3)``.

    Raises:
        SpecError: at ``model.input_shape`` when it differs from the data's shape, or when
            there is neither data nor ``model.input_shape``.

    Example:
        >>> model_input_shape(spec, None)  # spec.model.input_shape == (64, 64, 3)  # doctest: +SKIP
        (64, 64, 3)
    """
    declared = spec.model.input_shape
    if dataset is None:
        if declared is None:
            raise SpecError.single(
                spec.source, "model.input_shape",
                "is needed to build the model without data (the input shape cannot be known)",
                hint="Set model.input_shape, e.g. [64, 64, 3] for 64×64 colour images, or build the model "
                "with its data.",
            )
        return tuple(int(n) for n in declared)
    actual = tuple(int(n) for n in dataset.input_shape)
    if declared is not None and tuple(declared) != actual:
        hint = f"Set model.input_shape = {list(actual)!r} or leave it out (it is taken from the data)"
        if len(declared) == 3 and len(actual) == 3:
            hint += f", or resize the images with data.image_size = {list(declared[:2])!r}"
        raise SpecError.single(
            spec.source, "model.input_shape", f"differs from the shape of the data's inputs {actual!r}",
            got=list(declared), hint=hint + ".",
        )
    return actual


def _build_from_layers(
    spec: Spec, input_shape: tuple[int, ...], vocabulary: int | None = None, layout: SequenceLayout | None = None
) -> keras.Model:
    import keras

    source = spec.source
    joined_at = join_index(spec.model.layers, layout, input_shape, source=source)
    inputs = keras.Input(shape=input_shape, name=INPUT_NAME)
    used_names = {INPUT_NAME} | {
        str(layer.arguments["name"]) for layer in spec.model.layers if "name" in layer.arguments
    }
    outputs, others = inputs, None
    if layout is not None:  # a text sequence beside other inputs: two branches, joined at Concatenate
        outputs, others = split_inputs(keras, inputs, layout, lambda name: _unique_name(name, used_names))
    if spec.model.base is not None:
        from dlworkflow.models.base import build_base

        base = build_base(spec, input_shape)
        used_names.add(str(base.name))
        # training=False: the base's BatchNormalization stays in inference mode, also when fine-tuning.
        outputs = base(inputs, training=False)
    weights = 0
    for index, layer_spec in enumerate(spec.model.layers):
        arguments = _embedding_arguments(layer_spec, index, source, vocabulary)
        layer = _make_layer(keras, layer_spec, index, source, used_names, arguments)
        weights += check_layer_size(layer_spec.type, arguments, tuple(outputs.shape),
                                    path=f"model.layers[{index}]", source=source, total_before=weights)
        try:
            outputs = layer(outputs) if index != joined_at else join(layer, outputs, others, index=index, source=source)
        except SpecError:
            raise
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as err:  # Keras on a bad argument
            raise SpecError.single(
                source,
                f"model.layers[{index}]",
                f"keras.layers.{layer_spec.type} cannot take the output of the previous layer "
                f"(shape {_shape_text(outputs.shape)}): {keras_message(err)}",
                hint=_call_hint(layer_spec, err),
            ) from err
    try:
        return keras.Model(inputs=inputs, outputs=outputs, name=model_name(spec))
    except ValueError as err:
        raise SpecError.single(
            source, "model.layers", f"Keras cannot assemble the model: {keras_message(err)}",
            hint="Give every layer a different name (or leave name out).",
        ) from err


def _embedding_arguments(layer_spec: LayerSpec, index: int, source: str, vocabulary: int | None) -> dict[str, Any]:
    """A layer's arguments; an Embedding's ``input_dim`` left out or ``"vocabulary"`` is the text's token ids."""
    arguments = layer_spec.arguments
    if layer_spec.type != "Embedding":
        return arguments
    given = arguments.get("input_dim", "vocabulary")
    if given != "vocabulary":
        if vocabulary is not None and isinstance(given, int) and given < vocabulary:
            raise SpecError.single(
                source, f"model.layers[{index}].input_dim", f"is smaller than the text's {vocabulary:,} token ids "
                "(the vocabulary + padding + unknown)", got=given,
                hint=f"Leave input_dim out (it is taken from the data), set it to {vocabulary}, or lower "
                "data.text.max_tokens.",
            )
        return arguments
    if vocabulary is None:
        raise SpecError.single(
            source, f"model.layers[{index}].input_dim", "needs the vocabulary size of a text column in "
            "data.text.mode = 'sequence', and the data has none", got=arguments.get("input_dim", "(left out)"),
            hint="Set data.text.mode = 'sequence' for a text column (its token ids feed the Embedding), or set "
            "input_dim to a whole number.",
        )
    return {**arguments, "input_dim": vocabulary}


def _make_layer(
    keras: Any, layer_spec: LayerSpec, index: int, source: str, used_names: set[str], arguments: dict[str, Any]
) -> Any:
    path = f"model.layers[{index}]"
    layer_class = getattr(keras.layers, layer_spec.type)
    for shape_argument in _SHAPE_ARGUMENTS:
        if shape_argument in arguments and not (shape_argument == "input_dim" and layer_spec.type == "Embedding"):
            raise SpecError.single(
                source, f"{path}.{shape_argument}",
                "is not needed: the input shape comes from the data (keras.Input(shape=...))",
                got=arguments[shape_argument],
                hint=f"Remove {shape_argument} from the layer; to fix the shape without data, set model.input_shape.",
            )
    if "name" not in arguments:
        arguments["name"] = _unique_name(snake_case(layer_spec.type), used_names)
    try:
        return layer_class(**arguments)
    except (TypeError, ValueError) as err:
        raise argument_error(
            source, path, f"keras.layers.{layer_spec.type}", layer_class, keras.layers.Layer, arguments, err,
            choices={"activation": _activation_names(keras)}, implicit=("name",),
        ) from err


def _unique_name(base: str, used_names: set[str]) -> str:
    name, number = base, 0
    while name in used_names:
        number += 1
        name = f"{base}_{number}"
    used_names.add(name)
    return name


def _activation_names(keras: Any) -> tuple[str, ...]:
    skip = {"get", "serialize", "deserialize"}
    return tuple(n for n in dir(keras.activations) if not n.startswith("_") and n not in skip)


def _call_hint(layer_spec: LayerSpec, err: Exception) -> str:
    if "ndim" in str(err):
        if layer_spec.is_convolutional:
            return (
                "Convolution and pooling layers need inputs with spatial dimensions and channels; "
                "add a Reshape layer before this one, e.g. { type = \"Reshape\", target_shape = [28, 28, 1] }."
            )
        return "Add a Flatten or Reshape layer before this one so the shapes fit."
    return "Check this layer's arguments and the layers before it."


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def spec_directory(source: str) -> Path:
    """The folder of the spec file (searched first for builder modules); the cwd for ``<spec>``.

    Args:
        source: ``spec.source``.

    Returns:
        An absolute folder path.

    Example:
        >>> spec_directory("<spec>") == Path.cwd()
        True
    """
    if not source or source.startswith("<"):
        return Path.cwd()
    return Path(source).resolve().parent


def _call_builder(spec: Spec, dataset: Dataset | None, input_shape: tuple[int, ...]) -> keras.Model:
    import keras

    source, reference = spec.source, spec.model.builder or ""
    function = import_user_attribute(reference, spec_directory(source), source=source, spec_path="model.builder")
    keyword_arguments = _builder_arguments(spec, dataset, input_shape, function)
    model = call_user_code(
        function, describe=f"the builder {reference}", source=source, spec_path="model.builder",
        hint="Fix the builder function or model.builder_args; it must return a keras.Model. Nothing was recorded.",
        **keyword_arguments,
    )
    if not isinstance(model, keras.Model):
        raise SpecError.single(
            source, "model.builder", f"{reference} must return a keras.Model",
            got=type(model).__name__, hint="Return keras.Model(inputs, outputs) (or a keras.Sequential).",
        )
    return model


def _builder_arguments(
    spec: Spec, dataset: Dataset | None, input_shape: tuple[int, ...], function: Any
) -> dict[str, Any]:
    source, reference = spec.source, spec.model.builder
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {**spec.model.builder_args}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    names = [n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    from_data: dict[str, Any] = {"input_shape": tuple(input_shape)}
    if dataset is not None:
        from_data["output_units"] = dataset.output_units
    arguments = {key: value for key, value in from_data.items() if takes_any or key in names}
    for key, value in spec.model.builder_args.items():
        if not takes_any and key not in names:
            raise SpecError.single(
                source, f"model.builder_args.{key}", f"{reference} has no parameter {key!r}",
                hint=suggestion(key, names) or f"Its parameters are: {', '.join(names) or 'none'}.",
            )
        arguments[key] = value
    missing = [
        n for n in names
        if parameters[n].default is inspect.Parameter.empty and n not in arguments
    ]
    if dataset is None and "output_units" in missing:
        raise SpecError.single(
            source, "model.builder", f"{reference} needs output_units, which only the data can give",
            hint="Build this model with its data (output_units is the number of classes, or 1), or give "
            "output_units a default value in the builder function.",
        )
    if missing:
        raise SpecError.single(
            source, "model.builder_args", f"{reference} needs the argument(s) {', '.join(map(repr, missing))}",
            hint=f"Add them to [model.builder_args]; only {' and '.join(BUILDER_INPUTS)} come from the data.",
        )
    return arguments


def _output_shape(model: Any, input_shape: tuple[int, ...], source: str) -> tuple[int | None, ...]:
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) != 1:
            raise SpecError.single(
                source, "model.builder", "the model must have exactly one output",
                got=len(outputs), hint="Return a model with a single output tensor.",
            )
        return tuple(outputs[0].shape)
    # A subclassed model has no symbolic output: call it once on a zero row (this builds it).
    sample = np.zeros((1, *input_shape), dtype=np.float32)
    try:
        result = model(sample)
    except (TypeError, ValueError) as err:
        raise SpecError.single(
            source,
            "model.builder",
            f"the model cannot take input of shape {_shape_text((None, *input_shape))}: {keras_message(err)}",
            hint="Check the builder's input shape.",
        ) from err
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # the user's model code may raise anything: one clear error
        raise SpecError.single(
            source, "model.builder", f"the model raised {type(err).__name__} when called on one row: {err}",
            hint="Fix the model's call() method.",
        ) from err
    return (None, *tuple(np.shape(result))[1:])


def check_output(model: keras.Model, spec: Spec, dataset: Dataset) -> None:
    """Check that a model's output fits the data's target.

    Regression needs output shape ``(None, 1)`` or ``(None,)``; classification needs
    ``(None, dataset.output_units)`` (one unit per class, for one-hot and integer targets alike).

    Args:
        model: The built model.
        spec: The spec it was built from (for the error's location).
        dataset: The data it will be trained on.

    Raises:
        SpecError: at the last layer's ``units`` (or ``model.builder``), saying what was
            expected and what the model has.

    Example:
        >>> check_output(model, spec, dataset)  # doctest: +SKIP
        Traceback (most recent call last):
        ...
        dlworkflow.errors.SpecError: x.toml: model.layers[1].units: the data has 3 classes; the last layer
        has 2 units. Set model.layers[1].units = 3 (with activation = 'softmax').
    """
    source = spec.source
    shape = _output_shape(model, model_input_shape(spec, dataset), source)
    if spec.model.layers:
        last = len(spec.model.layers) - 1
        layer_path = f"model.layers[{last}]"
        path = f"{layer_path}.units" if "units" in spec.model.layers[last].arguments else layer_path
    else:
        path = "model.builder"
    flat = shape[1:]
    if dataset.task == "regression":
        if flat in ((), (1,)):
            return
        if len(flat) == 1:
            what = f"the target is one number per row (regression); the last layer has {flat[0]} units"
        else:
            what = f"the target is one number per row (regression); the model's output has shape {_shape_text(shape)}"
        raise SpecError.single(
            source, path, what,
            hint="Make the last layer Dense with units = 1 and no activation "
            "(add a Flatten layer before it if needed).",
        )
    classes = dataset.output_units
    if flat == (classes,):
        return
    if len(flat) == 1:
        what = f"the data has {classes} classes; the last layer has {flat[0]} units"
        fix = f"Set {path} = {classes}" if path.endswith(".units") else f"End with a Dense layer of {classes} units"
        hint = f"{fix} (with activation = 'softmax')."
    else:
        what = (
            f"the data has {classes} classes, so the output must have shape (None, {classes}); "
            f"got {_shape_text(shape)}"
        )
        hint = f"Add a Flatten layer before a last Dense layer of {classes} units (activation = 'softmax')."
    raise SpecError.single(source, path, what, hint=hint)


def output_activation_note(model: keras.Model, spec: Spec, dataset: Dataset) -> str | None:
    """A note when a classifier's outputs are not probabilities but the loss expects them.

    Keras' cross-entropy losses expect probabilities unless ``from_logits=True``; a last
    layer without softmax then trains poorly. With ``from_logits = true`` in ``[train.loss]``
    (the lesson's CIFAR loss) there is nothing to say. This is a note, not an error: the model is
    valid and :func:`dlworkflow.training.predict` still turns its outputs into probabilities.

    Args:
        model: The built model.
        spec: Its spec (for the loss and the layer's path).
        dataset: The data (only classification gets a note).

    Returns:
        The note, or None when there is nothing to say.

    Example:
        >>> output_activation_note(model, spec, dataset)  # doctest: +SKIP
        "x.toml: model.layers[1].activation: the last layer (dense_1) has activation 'linear' ..."
    """
    if dataset.task != "classification" or spec.train.loss.type not in _PROBABILITY_LOSSES or not model.layers:
        return None
    if spec.train.loss.arguments.get("from_logits"):
        return None
    last = model.layers[-1]
    if type(last).__name__ == "Softmax":
        return None
    activation = getattr(last, "activation", None)
    activation_name = getattr(activation, "__name__", None) if activation is not None else None
    if activation_name == "softmax":
        return None
    loss = spec.train.loss.type
    if loss == "auto":
        loss = "categorical_crossentropy" if dataset.target_encoding == "onehot" else "sparse_categorical_crossentropy"
    location = f"model.layers[{len(spec.model.layers) - 1}].activation" if spec.model.layers else "model.builder"
    return (
        f"{spec.source}: {location}: the last layer ({last.name}) has activation "
        f"{activation_name or 'linear'!r}, so its outputs are not probabilities, but the loss {loss!r} "
        "expects probabilities. Add activation = 'softmax' to the last layer."
    )
