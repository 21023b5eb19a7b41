"""A stand-in for a Keras model, for callbacks fed epoch logs by hand (shared by the callback tests)."""

from __future__ import annotations


class FakeModel:
    """What EarlyStopping and the project's callbacks touch of a model: ``stop_training`` and the weights."""

    def __init__(self):
        self.stop_training = False
        self.metrics = []
        self.weights = [0.0]

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        self.weights = list(weights)
