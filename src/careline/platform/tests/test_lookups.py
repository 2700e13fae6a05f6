"""``__any_of``: the same rows as ``__in``, with the list sent as one array on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careline.platform.models import ApiToken, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(make_user: Callable[..., User]) -> list[User]:
    return [make_user(username=f"lookup{n}") for n in range(4)]


def test_any_of_matches_the_same_rows_as_in(users: list[User]) -> None:
    wanted = [users[0].pk, users[2].pk, 10_000_000]
    by_any = set(User.objects.filter(pk__any_of=wanted).values_list("username", flat=True))
    by_in = set(User.objects.filter(pk__in=wanted).values_list("username", flat=True))
    assert by_any == by_in == {"lookup0", "lookup2"}
    names = ["lookup1", "lookup3", "nobody"]
    assert sorted(User.objects.filter(username__any_of=names).values_list("pk", flat=True)) == [
        users[1].pk,
        users[3].pk,
    ]


def test_any_of_on_a_relation_takes_keys(users: list[User]) -> None:
    now = timezone.now()
    ApiToken.objects.create(user=users[1], name="a", prefix="p1", key_hash="1" * 64, created_at=now)
    ApiToken.objects.create(user=users[3], name="b", prefix="p3", key_hash="3" * 64, created_at=now)
    found = ApiToken.objects.filter(user_id__any_of=[users[3].pk, users[0].pk])
    assert list(found.values_list("name", flat=True)) == ["b"]


def test_an_empty_list_matches_nothing(users: list[User]) -> None:
    assert list(User.objects.filter(pk__any_of=[])) == []
    assert User.objects.filter(pk__any_of=[]).count() == 0


def test_postgresql_gets_one_array_parameter_whatever_the_length(users: list[User]) -> None:
    with CaptureQueriesContext(connection) as queries:
        list(User.objects.filter(pk__any_of=[user.pk for user in users]))
        list(User.objects.filter(pk__any_of=[users[0].pk]))
    first, second = (query["sql"] for query in queries.captured_queries)
    if connection.vendor == "postgresql":
        assert "= ANY(" in first
        assert " IN (" not in first
    else:
        assert " IN (" in first
        assert first.count(",") > second.count(",")
