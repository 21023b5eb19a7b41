from os import system  # noqa: F401
