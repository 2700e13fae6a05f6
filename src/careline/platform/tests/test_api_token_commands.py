"""``careline create_api_token`` / ``revoke_api_token``: the secret is shown once, never stored."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from time_machine import TimeMachineFixture

from careline.platform.models import ApiToken, AuditAction, AuditChannel, AuditEvent, User
from careline.platform.permissions import Role
from careline.platform.services import authenticate_token, hash_token

pytestmark = pytest.mark.django_db


def create_token(username: str, name: str = "EHR feed") -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_api_token", "--user", username, "--name", name, stdout=out)
    announcement, secret = out.getvalue().splitlines()
    return announcement, secret


def test_create_prints_the_secret_once_and_stores_only_its_hash(
    make_user: Callable[..., User],
) -> None:
    user = make_user(Role.INTEGRATION, username="ehr-bridge")

    announcement, secret = create_token("ehr-bridge")

    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert announcement == (
        f"Token 'EHR feed' for ehr-bridge (prefix {token.prefix}), valid until "
        f"{token.expires_at:%Y-%m-%d %H:%M} UTC. Copy the secret now; it is not shown again:"
    )
    assert secret.startswith(f"cl_{token.prefix}_")
    assert token.key_hash == hash_token(secret)
    assert authenticate_token(secret) == user
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM platform_apitoken")
        stored = [str(value) for row in cursor.fetchall() for value in row]
    assert not [value for value in stored if secret in value or secret[-20:] in value]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, resource_type="ApiToken")
    assert (event.actor_label, event.channel, event.resource_id) == (
        "careline create_api_token",
        AuditChannel.CLI,
        str(token.public_id),
    )
    assert secret not in str(event.details)


def test_create_refuses_unknown_or_inactive_users(make_user: Callable[..., User]) -> None:
    make_user(Role.INTEGRATION, username="retired", is_active=False)

    with pytest.raises(CommandError, match=r"^No active user named 'nobody'\.$"):
        create_token("nobody")
    with pytest.raises(CommandError, match=r"^No active user named 'retired'\.$"):
        create_token("retired")
    assert ApiToken.objects.count() == 0


def test_revoke_stops_the_token(make_user: Callable[..., User]) -> None:
    make_user(Role.INTEGRATION, username="ehr-bridge")
    _, secret = create_token("ehr-bridge")
    token = ApiToken.objects.get()
    out = io.StringIO()

    call_command("revoke_api_token", token.prefix, stdout=out)

    assert out.getvalue() == f"Revoked token 'EHR feed' of ehr-bridge ({token.prefix}).\n"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate_token(secret) is None
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, resource_type="ApiToken")
    assert event.details["change"] == "revoked"


def test_revoke_accepts_the_printed_prefix_form(
    make_user: Callable[..., User], time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC), tick=False)
    make_user(Role.INTEGRATION, username="ehr-bridge")
    _, secret = create_token("ehr-bridge")
    token = ApiToken.objects.get()
    out = io.StringIO()

    call_command("revoke_api_token", f"cl_{token.prefix}", stdout=out)

    assert out.getvalue() == f"Revoked token 'EHR feed' of ehr-bridge ({token.prefix}).\n"
    token.refresh_from_db()
    assert token.revoked_at == dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    assert authenticate_token(secret) is None


def test_revoke_refuses_unknown_or_already_revoked_prefixes(
    make_user: Callable[..., User],
) -> None:
    make_user(Role.INTEGRATION, username="ehr-bridge")
    create_token("ehr-bridge")
    token = ApiToken.objects.get()
    call_command("revoke_api_token", token.prefix, stdout=io.StringIO())
    revoked_at = ApiToken.objects.get().revoked_at

    with pytest.raises(CommandError, match=r"^No active API token has the prefix 'deadbeef'\.$"):
        call_command("revoke_api_token", "deadbeef")
    with pytest.raises(CommandError, match="No active API token"):
        call_command("revoke_api_token", token.prefix)
    assert ApiToken.objects.get().revoked_at == revoked_at
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == 1
