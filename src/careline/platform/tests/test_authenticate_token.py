"""``authenticate_token``: one query per request; revocation, expiry, deactivation take effect
on the next request; ``last_used_at`` is written at most every five minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.platform.actors import Actor
from careline.platform.models import ApiToken, User
from careline.platform.permissions import Role
from careline.platform.services import IssuedToken, authenticate_token, issue_api_token

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.INTEGRATION, first_name="Ada", last_name="Byron")


@pytest.fixture
def issued(user: User) -> IssuedToken:
    with time_machine.travel(NOW, tick=False):
        return issue_api_token(actor=Actor.system("test"), user=user, name="lab feed")


def test_returns_the_whole_user_in_one_query(user: User, issued: IssuedToken) -> None:
    with time_machine.travel(NOW, tick=False):
        authenticate_token(issued.secret)  # the first use writes last_used_at
        with CaptureQueriesContext(connection) as queries:
            found = authenticate_token(issued.secret)
            # Nothing deferred: reading any field later costs no query.
            assert found is not None
            fields = (found.pk, found.username, found.role, found.is_active, str(found))
            assert (found.date_joined, found.practitioner_id) == (
                user.date_joined,
                user.practitioner_id,
            )

    assert len(queries) == 1
    assert fields == (user.pk, user.username, Role.INTEGRATION, True, "Ada Byron")


def test_unknown_secret_is_refused(issued: IssuedToken) -> None:
    assert authenticate_token(issued.secret + "x") is None


def test_revoked_token_stops_working_on_the_next_request(issued: IssuedToken) -> None:
    with time_machine.travel(NOW, tick=False):
        assert authenticate_token(issued.secret) is not None
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=NOW)

        assert authenticate_token(issued.secret) is None


def test_deactivated_user_stops_working_on_the_next_request(
    user: User, issued: IssuedToken
) -> None:
    with time_machine.travel(NOW, tick=False):
        assert authenticate_token(issued.secret) is not None
        User.objects.filter(pk=user.pk).update(is_active=False)

        assert authenticate_token(issued.secret) is None


def test_token_expires_at_its_expiry_instant(issued: IssuedToken) -> None:
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=NOW + dt.timedelta(hours=1))

    with time_machine.travel(NOW + dt.timedelta(minutes=59, seconds=59), tick=False):
        assert authenticate_token(issued.secret) is not None
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert authenticate_token(issued.secret) is None


def test_last_used_at_is_written_at_most_every_five_minutes(issued: IssuedToken) -> None:
    def last_used() -> dt.datetime | None:
        return ApiToken.objects.get(pk=issued.token.pk).last_used_at

    with time_machine.travel(NOW, tick=False):
        authenticate_token(issued.secret)
    first = last_used()
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        authenticate_token(issued.secret)
    unchanged = last_used()
    with time_machine.travel(NOW + dt.timedelta(minutes=5, seconds=1), tick=False):
        authenticate_token(issued.secret)

    assert (first, unchanged, last_used()) == (
        NOW,
        NOW,
        NOW + dt.timedelta(minutes=5, seconds=1),
    )
