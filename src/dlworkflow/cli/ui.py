"""``dlw ui``: serve the results table as a local web page (see :mod:`dlworkflow.ui`).

Example:
    $ dlw ui
    results page: http://127.0.0.1:8765/ (Ctrl-C stops it)
"""

from __future__ import annotations

import typer

from dlworkflow.cli.application import REGISTRY_OPTION, app, err, out


@app.command()
def ui(
    registry: str | None = REGISTRY_OPTION,
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="The port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="The address to bind; any but loopback requires the access token printed at start."),
    read_only: bool = typer.Option(False, "--read-only", help="Refuse every write (no comments from the page)."),
) -> None:
    """The results table as a local web page: leaderboards, run reports, comparisons, studies, live curves."""
    from dlworkflow.ui.app import serve
    from dlworkflow.ui.settings import ServerSettings, is_loopback

    settings = ServerSettings(registry=registry, host=host, port=port, read_only=read_only)
    out.print(f"results page: {settings.url} (Ctrl-C stops it)", soft_wrap=True)
    if not is_loopback(host):
        err.print(f"note: {host} is reachable from other machines; the page answers only with the token "
                  "in the address above. Share it only with the people who may see these results.", soft_wrap=True)
    serve(settings)
