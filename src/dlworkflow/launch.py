"""The ``dlw`` console script: a warm worker runs the command when one does, else this process.

Kept small on purpose: with a worker running (``dlw worker start``) this module, the
protocol and a socket are all a command imports here; the command line itself is imported
only when the command runs in this process (:mod:`dlworkflow.cli`).

Example:
    $ dlw runs          # the worker's fork prints the table, or this process does
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of ``dlw``: hand the command to a warm worker, or run it here."""
    argv = sys.argv[1:]
    if argv[:1] != ["worker"]:
        from dlworkflow.warm.client import delegate

        code = delegate(argv)
        if code is not None:
            sys.exit(code)
    from dlworkflow.cli import main as run_here

    run_here()


if __name__ == "__main__":
    main()
