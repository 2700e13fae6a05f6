"""Who is acting, through which channel, from where and for what purpose.

Every service takes ``actor`` first; the audit trail records it. Build one from a request
with ``actor_from_request`` or for a command/task with ``Actor.system``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from django.conf import settings
from django.http import HttpRequest

from careline.platform.models import AuditChannel, Purpose, User

_SYSTEM_CHANNELS = frozenset({AuditChannel.CLI, AuditChannel.TASK})


@dataclass(frozen=True)
class Actor:
    user: User | None
    channel: str
    purpose: str = Purpose.TREATMENT
    remote_addr: str | None = None
    user_agent: str = ""
    label: str = ""

    @classmethod
    def system(cls, label: str, *, channel: str = AuditChannel.CLI) -> Actor:
        return cls(user=None, channel=channel, purpose=Purpose.SYSTEM, label=label)

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.label or "system"

    @property
    def is_system(self) -> bool:
        """A command or task run on the server (not an anonymous request)."""
        return self.user is None and self.channel in _SYSTEM_CHANNELS

    def has_permission(self, name: str) -> bool:
        """System actors hold every permission; a request without a signed-in user none."""
        if self.user is None:
            return self.is_system
        return self.user.has_careline_permission(name)

    def for_purpose(self, purpose: str) -> Actor:
        return replace(self, purpose=purpose)


def actor_from_request(request: HttpRequest, *, channel: str = AuditChannel.UI) -> Actor:
    # ``force_login`` and some signals hand over a request that never went through the
    # authentication middleware, without ``user``.
    request_user = getattr(request, "user", None)
    user = request_user if isinstance(request_user, User) else None
    return Actor(
        user=user,
        channel=channel,
        remote_addr=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: ``REMOTE_ADDR``, unless that is a trusted proxy
    (``CARELINE_TRUSTED_PROXIES``); then the nearest address in ``X-Forwarded-For`` that is
    not one. A client can write anything into the header, so only the hops our own proxies
    appended are believed, read from the right."""
    remote = str(request.META.get("REMOTE_ADDR") or "") or None
    trusted: list[str] = settings.CARELINE_TRUSTED_PROXIES
    if remote is None or remote not in trusted:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    for hop in reversed([hop.strip() for hop in forwarded if hop.strip()]):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return remote  # a malformed hop: keep the address we know
    return remote
