"""The results page as a Starlette application, and serving it with uvicorn (``dlw ui``).

:func:`create_app` wires the routes (:mod:`dlworkflow.ui.routes`), the registry reader, the
templates (the package's one Jinja2 environment, with this package's templates first) and the
security layer (:mod:`dlworkflow.ui.security`): on a loopback address only requests naming it as
their host are answered (no DNS rebinding), on any other address the access token is required.

Example:
    >>> from starlette.testclient import TestClient
    >>> app = create_app(ServerSettings(registry="sqlite:///results/registry.db"))  # doctest: +SKIP
    >>> TestClient(app, base_url="http://127.0.0.1:8765").get("/api/runs").json()  # doctest: +SKIP
    {'leaderboards': [], 'running': []}
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from dlworkflow.errors import RegistryError
from dlworkflow.reporting.notebook_html import template_environment
from dlworkflow.ui.queries import ResultsReader
from dlworkflow.ui.routes import EXCEPTION_HANDLERS, ROUTES
from dlworkflow.ui.security import AccessGuard, CsrfToken
from dlworkflow.ui.settings import ServerSettings, is_loopback

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
"""The ``Host`` headers a page on a loopback address answers."""


def page_templates() -> Any:
    """The package's one Jinja2 environment, reading this package's templates before the report's.

    Example:
        >>> page_templates().get_template("base.html.j2").name
        'base.html.j2'
    """
    import jinja2

    base = template_environment()
    return base.overlay(loader=jinja2.ChoiceLoader([jinja2.PackageLoader("dlworkflow.ui", "templates"), base.loader]))


def create_app(settings: ServerSettings, reader: ResultsReader | None = None) -> Starlette:
    """The results page's application.

    Args:
        settings: The registry, address, read-only flag and token.
        reader: The registry reader (default: one opened on ``settings.registry``, closed on shutdown).

    Returns:
        The Starlette application.

    Raises:
        RegistryError: When the registry cannot be opened.

    Example:
        >>> app = create_app(ServerSettings(read_only=True))  # doctest: +SKIP
    """
    reader = reader or ResultsReader(settings.registry)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        reader.close()

    middleware = [Middleware(AccessGuard, token=settings.token)]
    if is_loopback(settings.host):
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    app = Starlette(routes=ROUTES, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.settings = settings
    app.state.reader = reader
    app.state.csrf = CsrfToken()
    app.state.templates = page_templates()
    return app


def check_port_free(settings: ServerSettings) -> None:
    """Refuse, before anything starts, an address that cannot be bound (the port is taken).

    Raises:
        RegistryError: naming the address and what to do.

    Example:
        >>> check_port_free(ServerSettings(port=8765))  # doctest: +SKIP
    """
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host.strip("[]"), settings.port))
        except OSError as err:
            raise RegistryError.single(
                "dlw ui", "--port", f"cannot listen on {settings.host}:{settings.port} ({err.strerror})",
                got=settings.port, hint="Another program uses this port: choose another with --port, "
                "e.g. --port 8766 (or stop the other `dlw ui`).",
            ) from err


def serve(settings: ServerSettings) -> None:
    """Serve the page until Ctrl-C (uvicorn, one process).

    Args:
        settings: What and where to serve.

    Raises:
        RegistryError: When the registry cannot be opened or the port is taken.

    Example:
        >>> serve(ServerSettings(port=8765))  # doctest: +SKIP
    """
    import uvicorn

    check_port_free(settings)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host.strip("[]"), port=settings.port, log_level="warning",
                server_header=False, proxy_headers=False)
