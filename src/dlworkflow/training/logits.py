"""Train a classifier that ends in softmax or sigmoid on its logits, keeping the spec's model.

A cross-entropy computed from probabilities loses its gradient when they saturate at 0 or 1
(the lesson's unscaled penguins, body mass in grams, reach that in the first step): Keras
clips them before the logarithm. TensorFlow's backend quietly reads the logits behind the
softmax instead; JAX and PyTorch do not. On those backends :func:`logits_training_model`
gives a second Functional model over the *same layers* (the same variables) that outputs the
last layer's logits. It is compiled with the spec's loss and ``from_logits=True``, and its
metrics see the probabilities (the activation applied to the logits), so the history holds
the same names and meanings as on TensorFlow. ``fit`` trains it; the spec's model, whose
weights are the ones trained, is what is saved, evaluated, predicted and summarised.

Keras is imported inside the functions, so importing this module does not fix the backend.

Example:
    >>> training = logits_training_model(model, spec, dataset)  # doctest: +SKIP
    >>> training.fit(x, y); model.predict(x)[0].sum()  # doctest: +SKIP
    1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec


def logits_training_model(
    model: keras.Model, spec: Spec, dataset: Dataset, *, learning_rate: float | None = None
) -> keras.Model | None:
    """The compiled model to train on logits in place of ``model``, or None when ``model`` trains as it is.

    Args:
        model: The spec's model, built (:func:`~dlworkflow.models.build_model`).
        spec: Its spec (loss, optimizer, metrics).
        dataset: The data (task and target encoding, for the loss).
        learning_rate: As for :func:`~dlworkflow.training.trainer.compile_model` (the fine-tune stage).

    Returns:
        A model sharing ``model``'s layers that outputs the last layer's logits, compiled with
        the spec's loss (``from_logits=True``), optimizer and metrics (computed on the
        probabilities); None when :func:`~dlworkflow.training.backend.trains_on_logits` is
        false for the backend in use, or the model's last layer has no logits to give.

    Example:
        >>> logits_training_model(penguins_model, spec, dataset).output.shape  # on JAX  # doctest: +SKIP
        (None, 3)
    """
    import keras

    from dlworkflow.training.backend import trains_on_logits
    from dlworkflow.training.trainer import compile_model

    if not trains_on_logits(spec, keras.backend.backend()):
        return None
    training = _logits_model(model)
    if training is None:
        return None
    compile_model(training, spec, dataset, learning_rate=learning_rate, from_logits=True)
    return training


def _logits_model(model: Any) -> Any:
    """A Functional model over ``model``'s layers that ends before its last activation, or None."""
    import keras

    from dlworkflow.training.backend import PROBABILITY_ACTIVATIONS

    if len(getattr(model, "outputs", None) or ()) != 1 or len(model.inputs) != 1 or not model.layers:
        return None
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if getattr(activation, "__name__", None) not in PROBABILITY_ACTIVATIONS or last.output is not model.outputs[0]:
        return None
    if isinstance(last, keras.layers.Activation):
        logits = last.input
    else:
        logits = _without_activation_class()(last)(last.input)
    return _training_model_class()(model.inputs[0], logits, activation, name=f"{model.name}_logits")


_CLASSES: dict[str, type] = {}
"""The two Keras classes below, made on first use (Keras is not imported with this module)."""


def _without_activation_class() -> type:
    if "without_activation" not in _CLASSES:
        import keras

        class WithoutActivation(keras.layers.Layer):
            """Calls a layer without its activation: the wrapped layer's own variables, its logits out."""

            def __init__(self, layer: Any) -> None:
                super().__init__(name=f"{layer.name}_logits", dtype=layer.dtype_policy)
                self.layer = layer

            def call(self, inputs: Any) -> Any:
                activation = self.layer.activation
                self.layer.activation = None  # Dense, EinsumDense: the activation is their last step
                try:
                    return self.layer.call(inputs)
                finally:
                    self.layer.activation = activation

            def compute_output_shape(self, input_shape: Any) -> Any:
                return self.layer.compute_output_shape(input_shape)

        _CLASSES["without_activation"] = WithoutActivation
    return _CLASSES["without_activation"]


def _training_model_class() -> type:
    if "training_model" not in _CLASSES:
        import keras

        class LogitsTrainingModel(keras.Model):
            """Outputs logits; its compiled metrics see the activation's probabilities."""

            def __init__(self, inputs: Any, outputs: Any, activation: Any, **kwargs: Any) -> None:
                super().__init__(inputs=inputs, outputs=outputs, **kwargs)
                self.output_activation = activation

            def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
                return super().compute_metrics(x, y, self.output_activation(y_pred), sample_weight)

        _CLASSES["training_model"] = LogitsTrainingModel
    return _CLASSES["training_model"]
