"""``--bind HOST:PORT`` of ``careline serve`` and ``careline demo``, read once.

The address is checked before any work starts (a typo is refused at once, not after the
demo has loaded), and the URL printed for people is the one the server listens on: the host
and port given, with a wildcard host (``0.0.0.0``, ``::``) shown as this machine's
``127.0.0.1`` — a browser cannot open a wildcard — and an IPv6 host in brackets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_BIND = "127.0.0.1:8000"
_WILDCARDS = {"0.0.0.0", "::", "*"}  # noqa: S104 (recognised, not bound, here)


class BindError(ValueError):
    """The --bind value is not HOST:PORT."""


@dataclass(frozen=True, slots=True)
class Bind:
    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL to open in a browser, ending with a slash."""
        host = "127.0.0.1" if self.host in _WILDCARDS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"


def parse_bind(value: str) -> Bind:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) with a port from 1 to 65535."""
    host, separator, port_text = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise BindError(f"--bind takes HOST:PORT with a port from 1 to 65535, e.g. {DEFAULT_BIND}.")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as error:
            raise BindError("Write an IPv6 host in brackets, e.g. [::1]:8000.") from error
    return Bind(host=host, port=int(port_text))
