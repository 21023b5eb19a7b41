"""How ``dlw ui`` serves: registry, address, port, whether writes are allowed, the access token.

The page binds ``127.0.0.1`` unless told otherwise. Another address makes it reachable from
the network, so it then requires a token: one is made at start (printed in the address to
open) unless one is given.

Example:
    >>> ServerSettings().url
    'http://127.0.0.1:8765/'
    >>> ServerSettings(host="0.0.0.0").token is not None
    True
"""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
"""The address ``dlw ui`` binds by default: this machine only."""

DEFAULT_PORT = 8765
"""The port ``dlw ui`` listens on by default."""

LOOPBACK_NAMES = ("localhost",)
"""Host names that mean this machine only (besides the loopback addresses 127.0.0.0/8 and ::1)."""


def is_loopback(host: str) -> bool:
    """Whether an address to bind reaches this machine only.

    Args:
        host: An IP address or host name.

    Returns:
        True for 127.0.0.0/8, ::1 and ``localhost``.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerSettings:
    """What ``dlw ui`` serves and how.

    Attributes:
        registry: The registry's SQLAlchemy URL (None: ``DLW_REGISTRY`` or ``./.dlw/registry.db``).
        host: The address to bind; a non-loopback one requires :attr:`token`.
        port: The port.
        read_only: Refuse every write (comments).
        token: The access token; made at start for a non-loopback host when not given.

    Example:
        >>> ServerSettings(read_only=True).read_only
        True
    """

    registry: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    read_only: bool = False
    token: str | None = None

    def __post_init__(self) -> None:
        if self.token is None and not is_loopback(self.host):
            object.__setattr__(self, "token", secrets.token_urlsafe(24))

    @property
    def url(self) -> str:
        """The address to open in a browser (with the token when one is required).

        Example:
            >>> ServerSettings(port=9000).url
            'http://127.0.0.1:9000/'
        """
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    def replace(self, **changes: object) -> ServerSettings:
        """A copy with some settings changed.

        Example:
            >>> ServerSettings().replace(port=9001).port
            9001
        """
        return dataclasses.replace(self, **changes)
