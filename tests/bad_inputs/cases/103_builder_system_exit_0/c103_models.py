import sys  # noqa: F401


def build(input_shape):
    sys.exit(0)
