"""``dlw worker start|stop|status``: warm workers that save each command the import of Keras.

Example:
    $ dlw worker start
    jax worker 81234: ready (stops after 60 idle minutes)
    $ dlw worker stop
"""

from __future__ import annotations

import typer

from dlworkflow.cli.application import app, out

worker_app = typer.Typer(
    name="worker", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    help=("Warm workers: processes with Keras and dlw's libraries already imported, one per backend. While they "
          "run, every dlw command is run by them and starts seconds sooner; DLW_WORKER=off runs a command in its "
          "own process."),
)
app.add_typer(worker_app)

BACKEND_OPTION = typer.Option(
    [], "--backend", help="A Keras backend: jax or tensorflow (repeatable) [default: each installed one].",
    show_default=False,
)


def _backends(chosen: list[str]) -> list[str]:
    from dlworkflow.errors import SpecError
    from dlworkflow.training.backend import is_installed
    from dlworkflow.warm.protocol import BACKENDS

    for backend in chosen:
        if backend not in BACKENDS:
            raise SpecError.single("--backend", "", "must be a backend a worker can hold", got=backend,
                                   hint="Valid options: " + ", ".join(repr(name) for name in BACKENDS) + ".")
        if not is_installed(backend):
            raise SpecError.single("--backend", "", f"the Keras backend {backend!r} is not installed", got=backend)
    return list(chosen) or [backend for backend in BACKENDS if is_installed(backend)]


@worker_app.command()
def start(
    backend: list[str] = BACKEND_OPTION,
    idle_minutes: float = typer.Option(60.0, "--idle-minutes", min=1.0,
                                       help="Minutes without a command after which a worker stops."),
) -> None:
    """Start the workers (one per backend) and wait until they listen; a running one is kept."""
    from dlworkflow.warm.control import start_workers

    for state in start_workers(_backends(backend), idle_minutes):
        out.print(f"{state.backend} worker {state.pid}: ready (stops after {idle_minutes:g} idle minutes; "
                  f"log {state.log})", soft_wrap=True)


@worker_app.command()
def stop(backend: list[str] = BACKEND_OPTION) -> None:
    """Stop the workers: new commands run in their own processes at once; running ones finish first."""
    from dlworkflow.warm.control import stop_workers

    stopped = stop_workers(list(backend) or None)
    out.print(", ".join(f"{state.backend} worker {state.pid} stopped" for state in stopped) or "no worker was running")


@worker_app.command()
def status() -> None:
    """Say which workers run, with their process ids and sockets."""
    from dlworkflow.warm.control import worker_states

    for state in worker_states():
        out.print(f"{state.backend}: " + (f"running, process {state.pid}, socket {state.socket}" if state.running
                                          else "not running"), soft_wrap=True)
