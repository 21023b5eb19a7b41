import sys  # noqa: F401


def build(input_shape):
    raise RuntimeError("no GPU on this machine")
