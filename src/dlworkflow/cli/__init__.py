"""The ``dlw`` command line: parses, calls :mod:`dlworkflow.api`, renders. No logic lives here.

Any :class:`~dlworkflow.errors.WorkflowError` a command raises becomes one message on stderr
and its exit code, in one place (:class:`Commands`). Numbers are printed by the one rule of
:mod:`dlworkflow.formatting`. Keras is never imported by ``dlw --help`` (the API imports it
only to train or build). The application and its shared options are in
:mod:`dlworkflow.cli.application`; each module of this package adds its commands to it.

Example:
    $ dlw run examples/weather.toml --set train.epochs=2
    $ dlw runs
    $ dlw show RUN --json
"""

from dlworkflow.cli import commands  # noqa: F401  (registers the commands on app)
from dlworkflow.cli import ui  # noqa: F401  (dlw ui)
from dlworkflow.cli import explain  # noqa: F401  (dlw explain)
from dlworkflow.cli import worker  # noqa: F401  (dlw worker)
from dlworkflow.cli.application import Commands, app, main

__all__ = ["Commands", "app", "main"]
