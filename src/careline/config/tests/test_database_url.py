"""``DATABASE_URL`` → ``DATABASES``: PostgreSQL's prepared-statement threshold."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from careline.config.database import database_from_url

URL = "postgres://careline:secret@db.example:6432/careline"


def test_a_postgres_url_gives_its_parts_and_prepares_after_five_executions() -> None:
    database = database_from_url(URL)

    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        "careline",
        "careline",
        "secret",
    )
    assert (database["HOST"], database["PORT"]) == ("db.example", "6432")
    assert database["OPTIONS"] == {"prepare_threshold": 5}


@pytest.mark.parametrize(("query", "expected"), [("=", None), ("=none", None), ("=0", 0)])
def test_prepare_threshold_can_be_set_or_turned_off(query: str, expected: int | None) -> None:
    database = database_from_url(f"{URL}?sslmode=require&prepare_threshold{query}")

    assert database["OPTIONS"] == {"sslmode": "require", "prepare_threshold": expected}


def test_a_prepare_threshold_that_is_not_a_number_is_refused_with_the_reason() -> None:
    with pytest.raises(ImproperlyConfigured, match="prepare_threshold must be a whole number"):
        database_from_url(f"{URL}?prepare_threshold=often")
