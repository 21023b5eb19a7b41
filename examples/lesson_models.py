"""Model builders for specs whose architecture is itself tuned (``model.builder = "lesson_models:..."``).

A spec path can change a layer's setting but not add layers; the number of layers is a
hyperparameter of a builder function instead, as in the lesson's KerasTuner example.
dlworkflow finds this file because it sits beside the spec.
"""

import keras


def cifar_cnn(input_shape, output_units, n_layers=1, dropout_rate=0.5, kernel_size=3, activation="relu"):
    """The lesson's ``create_nn_with_hp(dropout_rate, n_layers)``: ``n_layers`` convolution blocks and a Dropout layer.

    Layer for layer the lesson's function: ``n_layers`` × (Conv2D(50, 3×3) + MaxPooling2D(2×2)),
    Dropout, Flatten, Dense(50, relu), Dense(10 logits), named ``cifar_model``. Two arguments go
    beyond it, with the lesson's values as defaults: ``kernel_size`` and ``activation``, for the
    lesson's optional challenge (a grid over 'relu'/'tanh' and kernel sizes 3 and 4); and the
    input shape and class count come from the data instead of ``train_images`` and ``10``.

    Args:
        input_shape: The image shape, e.g. ``(32, 32, 3)`` (dlworkflow passes it).
        output_units: The number of classes (dlworkflow passes it); the output gives logits.
        n_layers: Convolution + max-pooling blocks (the lesson tries 1 and 2).
        dropout_rate: The Dropout layer's rate (the lesson tries 0.2, 0.5, 0.8).
        kernel_size: The convolutions' kernel size.
        activation: The convolutions' activation.

    Returns:
        The uncompiled model.
    """
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(n_layers):
        x = keras.layers.Conv2D(50, (kernel_size, kernel_size), activation=activation)(x)
        x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Dropout(dropout_rate)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(50, activation="relu")(x)
    outputs = keras.layers.Dense(output_units)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="cifar_model")
