import sys  # noqa: F401


def build(input_shape):
    return 42
