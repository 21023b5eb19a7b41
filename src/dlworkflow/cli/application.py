"""The ``dlw`` application: the Typer app, its consoles, the options several commands share, and ``main``.

Commands live in modules beside this one (:mod:`dlworkflow.cli.commands` and one module per
newer command family); each decorates its functions with ``@app.command()`` on the one
:data:`app` defined here, and :mod:`dlworkflow.cli` imports them all.

Example:
    >>> from typer.testing import CliRunner
    >>> from dlworkflow.cli import app
    >>> CliRunner().invoke(app, ["--help"]).exit_code
    0
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from dlworkflow.errors import WorkflowError
from dlworkflow.plain_text import PlainConsole
from dlworkflow.reporting.run_text import styled

# Every string these print is plain text (no markup, control characters escaped): user text
# (names, comments, labels, paths, messages) can neither crash a command nor steer the terminal.
out = PlainConsole()
err = PlainConsole(stderr=True)


def reset_consoles() -> None:
    """Set :data:`out` and :data:`err` up again for this process's terminal and environment.

    A console reads the terminal (colours, width) and variables such as ``NO_COLOR`` and
    ``COLUMNS`` when it is created. A warm worker (:mod:`dlworkflow.warm.server`) imports this
    module before any command; each fork calls this once it has taken the command's streams
    and environment, so the same objects (imported by every command module) serve its terminal.

    Example:
        >>> reset_consoles(); out.file is not None
        True
    """
    out.__init__()  # the objects stay: every command module holds them
    err.__init__(stderr=True)


class Commands(TyperGroup):
    """The ``dlw`` commands, where a :class:`~dlworkflow.errors.WorkflowError` becomes an exit code, once.

    Whatever command raises it, the error's text goes to standard error after ``error:``
    and the process exits with the error's ``exit_code`` (2 spec, 3 data, 4 training,
    5 registry; see :mod:`dlworkflow.errors`); no traceback. Any other exception is a bug
    and propagates.

    Example:
        >>> from typer.testing import CliRunner
        >>> from dlworkflow.errors import RegistryError
        >>> demo = typer.Typer(cls=Commands)
        >>> @demo.command()
        ... def show(run_id: str) -> None:
        ...     raise RegistryError.single("registry.db", "", "no run with id or prefix", got=run_id)
        >>> @demo.command()
        ... def runs() -> None:
        ...     print("no runs yet")
        >>> result = CliRunner().invoke(demo, ["show", "nope"])
        >>> result.exit_code, result.output
        (5, "error: registry.db: no run with id or prefix; got 'nope'.\\n")
    """

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list with each command's first sentence in full, wrapped, never cut to ``...``."""
        commands = [(name, command) for name in self.list_commands(ctx)
                    if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if commands:
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit=10_000)) for name, command in commands])

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WorkflowError as error:
            err.print(styled(("error:", "bold red"), f" {error}"), soft_wrap=True)
            raise typer.Exit(code=error.exit_code) from None


app = typer.Typer(
    name="dlw",
    cls=Commands,
    help="dlworkflow: the deep-learning workflow of the workshop, from a spec file to a results table.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[default: …]" is text, not markup
)

SPEC_ARGUMENT = typer.Argument(..., help="The TOML spec file.", show_default=False)
SET_OPTION = typer.Option(
    [], "--set", metavar="PATH=VALUE", help="Override a spec value, e.g. train.epochs=5 or model.layers[0].units=50."
)
REGISTRY_OPTION = typer.Option(
    None, "--registry", envvar="DLW_REGISTRY", help="SQLAlchemy URL of the results registry [default: ./.dlw/registry.db]."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def main() -> None:
    """Entry point of the ``dlw`` console script."""
    import warnings

    from dlworkflow.registry.network_filesystem import NetworkFilesystemWarning
    from dlworkflow.workflow_warning import WorkflowWarning

    warnings.simplefilter("ignore", WorkflowWarning)  # the commands print a run's notes themselves
    warnings.filterwarnings("always", category=NetworkFilesystemWarning)  # said once per file by the library
    app()

