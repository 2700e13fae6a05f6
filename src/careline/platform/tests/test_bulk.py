"""The source-keyed bulk upsert engine (platform/bulk.py), on a concrete ``SourcedModel``.

The model is the directory's Organization, named by string (platform imports no app).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps

from careline.platform import bulk
from careline.platform.bulk import (
    SourceRow,
    find_stored_rows,
    insert_rows,
    insert_rows_returning,
    select_by_source,
    upsert_sourced_rows,
)
from careline.platform.models import SourcedModel

pytestmark = pytest.mark.django_db
SOURCE = "urn:test:bulk"
FIRST = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)


def _organization() -> Any:
    """The model class (typed loosely: the stubs cannot know its fields by name)."""
    model = apps.get_model("directory", "Organization")
    assert issubclass(model, SourcedModel)
    return model


def _row(source_id: str, name: str, digest: str = "h1", **extra: Any) -> SourceRow:
    raw = {"resourceType": "Organization", "id": source_id, "name": name}
    return SourceRow(source_id, digest, raw, {"name": name, **extra})


def _upsert(*rows: SourceRow, received_at: datetime = FIRST, **options: Any) -> Any:
    model = _organization()
    return upsert_sourced_rows(
        kinds={"Organization": model},
        source_system=SOURCE,
        received_at=received_at,
        rows={"Organization": list(rows)},
        **options,
    )["Organization"]


def _stored() -> list[tuple[Any, ...]]:
    return list(
        _organization()
        ._default_manager.order_by("source_id")
        .values_list("source_id", "name", "content_hash", "received_at")
    )


def test_new_rows_are_inserted_with_their_ids() -> None:
    outcome = _upsert(_row("o1", "North Clinic"), _row("o2", "South Clinic"), want_ids=True)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (["o1", "o2"], [], [])
    assert _stored() == [
        ("o1", "North Clinic", "h1", FIRST),
        ("o2", "South Clinic", "h1", FIRST),
    ]
    by_source = dict(_organization()._default_manager.values_list("source_id", "id"))
    assert outcome.ids == by_source


def test_one_new_row_takes_the_plain_insert() -> None:
    outcome = _upsert(_row("o1", "North Clinic", kind="clinic"), want_ids=True)

    assert outcome.created == ["o1"]
    stored = _organization()._default_manager.values_list("name", "kind", "raw")
    assert list(stored) == [("North Clinic", "clinic", _row("o1", "North Clinic").raw)]


def test_unchanged_rows_are_not_written_changed_ones_are() -> None:
    _upsert(_row("o1", "North Clinic"), _row("o2", "South Clinic"))

    outcome = _upsert(
        _row("o1", "North Clinic"), _row("o2", "South Health", digest="h2"), received_at=LATER
    )

    assert (outcome.created, outcome.updated, outcome.unchanged) == ([], ["o2"], ["o1"])
    assert _stored() == [
        ("o1", "North Clinic", "h1", FIRST),
        ("o2", "South Health", "h2", LATER),
    ]


def test_a_source_id_twice_in_one_call_keeps_the_last() -> None:
    outcome = _upsert(_row("o1", "First"), _row("o1", "Second", digest="h2"))

    assert (outcome.created, outcome.updated) == (["o1"], ["o1"])
    assert _stored() == [("o1", "Second", "h2", FIRST)]


def test_rows_already_read_are_not_read_again(django_assert_num_queries: Any) -> None:
    _upsert(_row("o1", "North Clinic"))
    stored = find_stored_rows({"Organization": _organization()}, SOURCE, {"Organization": {"o1"}})
    assert list(stored["Organization"]) == ["o1"]

    with django_assert_num_queries(0):
        outcome = _upsert(_row("o1", "North Clinic"), stored=stored)

    assert outcome.unchanged == ["o1"]


def test_new_rows_answer_their_ids_from_the_insert_itself(
    django_assert_num_queries: Any,
) -> None:
    stored = find_stored_rows({"Organization": _organization()}, SOURCE, {"Organization": {"o1"}})

    with django_assert_num_queries(1):  # the INSERT … RETURNING, no SELECT of the ids
        outcome = _upsert(
            _row("o1", "North Clinic"), _row("o2", "South Clinic"), stored=stored, want_ids=True
        )

    by_source = dict(_organization()._default_manager.values_list("source_id", "id"))
    assert sorted(by_source) == ["o1", "o2"]
    assert outcome.ids == by_source


def test_inserts_returning_ids_go_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "RETURNING_BATCH", 2)
    rows = [_row(f"o{number}", f"Clinic {number}") for number in range(1, 6)]

    outcome = _upsert(*rows, want_ids=True)

    by_source = dict(_organization()._default_manager.values_list("source_id", "id"))
    assert sorted(by_source) == ["o1", "o2", "o3", "o4", "o5"]
    assert outcome.ids == by_source


def test_insert_rows_returning_answers_each_rows_key() -> None:
    rows = [
        {
            "source_system": SOURCE,
            "source_id": source_id,
            "received_at": FIRST,
            "content_hash": "h1",
            "raw": {},
            "name": name,
        }
        for source_id, name in (("o1", "North"), ("o2", "South"))
    ]

    ids = insert_rows_returning(_organization(), rows, key="name")

    stored = dict(_organization()._default_manager.values_list("name", "id"))
    assert ids == stored
    assert sorted(ids) == ["North", "South"]


def test_the_pre_serialised_raw_is_stored_as_given() -> None:
    raw_json = json.dumps({"resourceType": "Organization", "id": "o1", "name": "Given"})
    rows = [
        {
            "source_system": SOURCE,
            "source_id": source_id,
            "received_at": FIRST,
            "content_hash": "h1",
            "raw": {"ignored": True},
            "raw_json": raw_json,
            "name": "Given",
        }
        for source_id in ("o1", "o2")
    ]

    ids = insert_rows(_organization(), rows, want_ids=True)

    assert sorted(ids) == ["o1", "o2"]
    stored = _organization()._default_manager.values_list("raw", flat=True)
    assert list(stored) == [json.loads(raw_json)] * 2


def test_lookups_see_only_their_source() -> None:
    _upsert(_row("o1", "North Clinic"))
    upsert_sourced_rows(
        kinds={"Organization": _organization()},
        source_system="urn:other",
        received_at=FIRST,
        rows={"Organization": [_row("o1", "Elsewhere")]},
    )

    found = select_by_source(_organization(), SOURCE, ["o1", "o9"], ("source_id", "name"))

    assert found == [("o1", "North Clinic")]


def test_ignore_conflicts_leaves_the_rows_already_there() -> None:
    def rows(name: str) -> list[dict[str, Any]]:
        return [
            {
                "source_system": SOURCE,
                "source_id": source_id,
                "received_at": FIRST,
                "content_hash": "h1",
                "raw": {},
                "name": name,
            }
            for source_id in ("o1", "o2")
        ]

    insert_rows(_organization(), rows("First")[:1])

    insert_rows(_organization(), rows("Second"), ignore_conflicts=True)

    assert [(s, n) for s, n, _, _ in _stored()] == [("o1", "First"), ("o2", "Second")]
