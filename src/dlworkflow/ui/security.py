"""What keeps the results page safe to serve: the access token, CSRF tokens, the browser's rules.

- **Access token.** When :class:`~dlworkflow.ui.settings.ServerSettings` holds a token (any
  non-loopback address), every request must carry it: ``?token=...`` once (the page then keeps
  it in an HttpOnly, SameSite=Strict cookie), the cookie, or ``Authorization: Bearer ...``.
  Without it the answer is 401.
- **CSRF.** A write (a comment) is a POST whose form carries the server's CSRF token, which
  only a page this server rendered holds; a POST from another site's page (its ``Origin``
  differs) is refused as well.
- **Browser rules.** Every answer forbids framing by other sites, MIME sniffing and any
  script or style not served by this server (``Content-Security-Policy``); user text is
  escaped by the templates' autoescaping.

Example:
    >>> tokens = CsrfToken()
    >>> tokens.valid(tokens.value), tokens.valid("forged")
    (True, False)
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

TOKEN_COOKIE = "dlw_ui_token"
"""The cookie that keeps the access token after the first visit with ``?token=``."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
"""Scripts only from this server's package files; the report's inline styles and embedded PNGs allowed."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make the browser send "Origin: null" with a form
    "Cache-Control": "no-store",
}
"""Headers on every answer."""


class CsrfToken:
    """The server's CSRF token: made at start, put in every form, checked on every POST.

    Attributes:
        value: The token (URL-safe text).

    Example:
        >>> CsrfToken().valid("")
        False
    """

    def __init__(self) -> None:
        self.value = secrets.token_urlsafe(32)

    def valid(self, submitted: object) -> bool:
        """Whether a submitted token is this server's (compared in constant time)."""
        return isinstance(submitted, str) and secrets.compare_digest(submitted.encode(), self.value.encode())


def same_origin(request: Request) -> bool:
    """Whether a request's ``Origin`` (when the browser sent one) is this server itself.

    Example:
        >>> same_origin(request)  # doctest: +SKIP
        True
    """
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


class AccessGuard(BaseHTTPMiddleware):
    """Require the access token (when there is one) and add :data:`SECURITY_HEADERS` to every answer.

    Args:
        app: The application.
        token: The access token, or None when the page is served on loopback only.

    Example:
        >>> from starlette.middleware import Middleware
        >>> Middleware(AccessGuard, token=None).cls.__name__
        'AccessGuard'
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if self.token is None:
            response = await call_next(request)
        elif self._matches(request.query_params.get("token")):
            # the token travels in the address once; the cookie keeps it, the address drops it
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        elif self._matches(request.cookies.get(TOKEN_COOKIE)) or self._matches(_bearer(request)):
            response = await call_next(request)
        else:
            response = PlainTextResponse(
                "401: this results page needs its access token: open the address `dlw ui` printed "
                "(it ends in ?token=...), or send Authorization: Bearer TOKEN.", status_code=401
            )
        response.headers.update(SECURITY_HEADERS)
        return response

    def _matches(self, submitted: str | None) -> bool:
        return bool(submitted) and self.token is not None and secrets.compare_digest(
            submitted.encode(), self.token.encode()
        )


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
