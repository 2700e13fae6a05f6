"""Platform test fixtures: signed-in staff with a TOTP authenticator, the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.test import Client

from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """allauth keeps rate limits and used TOTP codes in the cache; every test starts clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def add_totp() -> Callable[[User], str]:
    """Give a user a TOTP authenticator through allauth's API; returns the secret."""

    def add(user: User) -> str:
        secret: str = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret

    return add


@pytest.fixture
def sign_in(
    client: Client, make_user: Callable[..., User], add_totp: Callable[[User], str]
) -> Callable[..., User]:
    """A staff member of ``role`` with MFA set up, signed in on ``client``."""

    def sign_in(role: str = Role.COMPLIANCE, **fields: Any) -> User:
        user = make_user(role, **fields)
        add_totp(user)
        client.force_login(user)
        mark_session_passed_mfa(client, user)
        return user

    return sign_in


def mark_session_passed_mfa(client: Client, user: User) -> None:
    """What allauth records in the session after a sign-in that used TOTP."""
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [
        {"method": "password", "at": 0.0, "username": user.username},
        {"method": "mfa", "at": 0.0, "id": 1, "type": "totp"},
    ]
    session.save()


class AuditTrail:
    """The audit entries written since ``mark()`` (sign-in writes one of its own)."""

    def __init__(self) -> None:
        self.mark()

    def mark(self) -> None:
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
        self._after = last or 0

    def new_events(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(sequence__gt=self._after).order_by("sequence"))


@pytest.fixture
def audit_trail(db: None) -> AuditTrail:
    return AuditTrail()
