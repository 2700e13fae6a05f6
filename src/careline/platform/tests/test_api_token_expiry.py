"""API tokens expire: a default lifetime (``CARELINE_API_TOKEN_LIFETIME_DAYS``), ``--expires``
on ``create_api_token``; an expired (or revoked) token answers 401 and the attempt is audited
against the token and its user."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from careline.platform.actors import Actor
from careline.platform.models import ApiToken, AuditEvent, User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user(Role.INTEGRATION, username="ehr-bridge")


def create_token(*arguments: str) -> list[str]:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "create_api_token", "--user", "ehr-bridge", "--name", "feed", *arguments, stdout=out
        )
    return out.getvalue().splitlines()


def test_a_token_lives_ninety_days_by_default(user: User) -> None:
    with time_machine.travel(NOW, tick=False):
        issued = issue_api_token(actor=Actor.system("test"), user=user, name="feed")

    assert issued.token.expires_at == NOW + dt.timedelta(days=90)


def test_the_default_lifetime_is_a_setting(user: User, settings) -> None:
    settings.CARELINE_API_TOKEN_LIFETIME_DAYS = 30
    with time_machine.travel(NOW, tick=False):
        issued = issue_api_token(actor=Actor.system("test"), user=user, name="feed")

    assert issued.token.expires_at == NOW + dt.timedelta(days=30)


def test_the_command_prints_when_the_token_expires(user: User) -> None:
    announcement, _secret = create_token()

    token = ApiToken.objects.get()
    assert token.expires_at == dt.datetime(2026, 5, 31, 9, 30, tzinfo=dt.UTC)
    assert announcement == (
        f"Token 'feed' for ehr-bridge (prefix {token.prefix}), valid until "
        "2026-05-31 09:30 UTC. Copy the secret now; it is not shown again:"
    )


@pytest.mark.parametrize(
    ("expires", "expires_at"),
    [
        ("7", dt.datetime(2026, 3, 9, 9, 30, tzinfo=dt.UTC)),
        ("365", dt.datetime(2027, 3, 2, 9, 30, tzinfo=dt.UTC)),
        # A date: the token works through that day (UTC).
        ("2026-04-15", dt.datetime(2026, 4, 16, 0, 0, tzinfo=dt.UTC)),
        ("2026-03-02", dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)),
    ],
)
def test_expires_takes_days_or_a_date(user: User, expires: str, expires_at: dt.datetime) -> None:
    create_token("--expires", expires)

    assert ApiToken.objects.get().expires_at == expires_at


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("0", "--expires must be a number of days (1 or more) or a date (YYYY-MM-DD), not '0'."),
        ("-3", "--expires must be a number of days (1 or more) or a date (YYYY-MM-DD), not '-3'."),
        (
            "soon",
            "--expires must be a number of days (1 or more) or a date (YYYY-MM-DD), not 'soon'.",
        ),
        ("2026-03-01", "--expires 2026-03-01 is in the past."),
    ],
)
def test_expires_refuses_what_is_not_a_future_lifetime(
    user: User, expires: str, message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        create_token("--expires", expires)

    assert str(refused.value) == message
    assert not ApiToken.objects.exists()


def test_an_expired_token_answers_401_and_the_attempt_is_audited(user: User) -> None:
    _announcement, secret = create_token("--expires", "7")
    token = ApiToken.objects.get()
    client = Client(headers={"Authorization": f"Bearer {secret}"}, REMOTE_ADDR="10.1.2.3")
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=-1), tick=False):
        assert client.get("/api/patients/search").status_code == 405  # still authenticated
    before = AuditEvent.objects.order_by("-sequence").first()
    assert before is not None

    with time_machine.travel(NOW + dt.timedelta(days=7), tick=False):
        response = client.post(
            "/api/patients/search", {"q": "jones"}, content_type="application/json"
        )

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "The token is unknown, revoked or expired.",
            "details": None,
        }
    }
    events = list(AuditEvent.objects.filter(sequence__gt=before.sequence))
    assert [
        (e.action, e.outcome, e.resource_type, e.resource_id, e.actor_id, e.channel, e.details)
        for e in events
    ] == [
        (
            "login_failed",
            "denied",
            "ApiToken",
            str(token.public_id),
            user.pk,
            "api",
            {"reason": "expired"},
        )
    ]
    assert events[0].remote_addr == "10.1.2.3"


def test_a_revoked_token_is_audited_too(user: User) -> None:
    _announcement, secret = create_token()
    ApiToken.objects.update(revoked_at=NOW)
    client = Client(headers={"Authorization": f"Bearer {secret}"})

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        response = client.post(
            "/api/patients/search", {"q": "jones"}, content_type="application/json"
        )

    assert response.status_code == 401
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None
    assert (event.action, event.resource_type, event.details) == (
        "login_failed",
        "ApiToken",
        {"reason": "revoked"},
    )


def test_tokens_issued_before_expiry_existed_get_the_default_lifetime(user: User) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("careline.platform.migrations.0004_api_tokens_without_expiry_expire")
    with time_machine.travel(NOW, tick=False):
        issued = issue_api_token(actor=Actor.system("test"), user=user, name="old feed")
        ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=None)
        kept = issue_api_token(
            actor=Actor.system("test"), user=user, name="new", expires_at=NOW + dt.timedelta(days=3)
        )

    with time_machine.travel(NOW + dt.timedelta(days=400), tick=False):
        migration.give_tokens_a_lifetime(apps, None)

    assert dict(ApiToken.objects.values_list("name", "expires_at")) == {
        "old feed": NOW + dt.timedelta(days=490),
        "new": kept.token.expires_at,
    }
