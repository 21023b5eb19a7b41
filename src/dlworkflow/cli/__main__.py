"""``python -m dlworkflow.cli``: the ``dlw`` command."""

from dlworkflow.cli import main

if __name__ == "__main__":
    main()
