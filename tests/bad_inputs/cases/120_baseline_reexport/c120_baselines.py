from collections import Counter  # noqa: F401
