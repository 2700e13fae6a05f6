"""``JoinedRowLookup``: the same instances ``select_related(...).defer(...).first()`` gives,
in one query built once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careline.platform.models import ApiToken, User
from careline.platform.permissions import Role
from careline.platform.prepared import JoinedRowLookup

pytestmark = pytest.mark.django_db

CREATED = dt.datetime(2026, 3, 2, 9, 0, 30, 123456, tzinfo=dt.UTC)
TOKEN_WITH_USER = JoinedRowLookup(
    ApiToken, by="key_hash", related=("user",), deferred=("name", "user__password")
)


def make_token(user: User, key_hash: str) -> ApiToken:
    return ApiToken.objects.create(
        user=user, name="feed", prefix="abcd", key_hash=key_hash, created_at=CREATED
    )


def test_gives_what_the_orm_gives_in_one_query(make_user: Callable[..., User]) -> None:
    user = make_user(Role.INTEGRATION, first_name="Ada", last_name="Byron")
    make_token(user, "a" * 64)
    expected = (
        ApiToken.objects.select_related("user")
        .defer("name", "user__password")
        .get(key_hash="a" * 64)
    )

    with CaptureQueriesContext(connection) as queries:
        token = TOKEN_WITH_USER.get("a" * 64)
        assert token is not None
        values = (token.pk, token.prefix, token.created_at, token.revoked_at, token.user_id)
        user_values = (token.user.pk, token.user.username, token.user.date_joined, str(token.user))

    assert len(queries) == 1
    assert values == (expected.pk, "abcd", CREATED, None, user.pk)
    assert user_values == (user.pk, user.username, user.date_joined, "Ada Byron")
    assert token.get_deferred_fields() == expected.get_deferred_fields() == {"name"}
    assert token.user.get_deferred_fields() == {"password"}
    assert token.name == "feed"  # a deferred field still loads on demand
    assert not token._state.adding


def test_an_unknown_value_is_none(make_user: Callable[..., User]) -> None:
    make_token(make_user(), "a" * 64)

    assert TOKEN_WITH_USER.get("b" * 64) is None


def test_a_null_foreign_key_is_none_without_a_query(make_user: Callable[..., User]) -> None:
    user = make_user()
    lookup = JoinedRowLookup(User, by="username", related=("practitioner",))

    found = lookup.get(user.username)

    assert found is not None
    with CaptureQueriesContext(connection) as queries:
        assert found.practitioner is None
    assert len(queries) == 0


def test_refuses_a_relation_that_is_not_a_foreign_key() -> None:
    with pytest.raises(TypeError, match=r"User\.locations is not a resolved foreign key"):
        JoinedRowLookup(User, by="username", related=("locations",)).get("someone")


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_on_postgresql_the_lookup_is_prepared_once_per_connection(
    postgres_only: None, make_user: Callable[..., User]
) -> None:
    make_token(make_user(Role.INTEGRATION), "c" * 64)

    found = [TOKEN_WITH_USER.get("c" * 64) for _ in range(3)]

    assert [token.key_hash for token in found if token] == ["c" * 64] * 3
    prepared = [sql for sql in _prepared_statements() if '"platform_apitoken"' in sql]
    assert len(prepared) == 1
    assert prepared[0].endswith('WHERE t0."key_hash" = $1')


def test_without_a_prepare_threshold_nothing_is_prepared(
    postgres_only: None, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``?prepare_threshold=`` (for a transaction-pooling proxy): client-side binding."""
    make_token(make_user(Role.INTEGRATION), "d" * 64)
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)

    token = TOKEN_WITH_USER.get("d" * 64)

    assert token is not None and token.key_hash == "d" * 64
    assert not [sql for sql in _prepared_statements() if '"platform_apitoken"' in sql]
