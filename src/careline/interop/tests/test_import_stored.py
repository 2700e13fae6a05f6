"""What an import finds stored of a unit: one query for its Patient, clinical and directory
rows; unchanged directory rows are then not read again when the unit is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from careline.interop.fhir.context import Entry
from careline.interop.fhir.stored import find_stored
from careline.interop.tests.test_import_support import (
    SOURCE,
    bundle,
    condition,
    counts,
    patient,
    run_import,
    write_json,
)

pytestmark = pytest.mark.django_db

ORGANIZATION = {"resourceType": "Organization", "id": "org1", "name": "North Clinic"}


def test_one_query_finds_the_stored_patient_facts_and_directory_rows(
    tmp_path: Path, django_assert_num_queries: Any
) -> None:
    resources = [ORGANIZATION, patient("p1"), condition("c1")]
    run_import(write_json(tmp_path, "b.json", bundle(*resources)))
    entries = [Entry(resource) for resource in [*resources, condition("c2")]]

    with django_assert_num_queries(1):
        stored = find_stored(entries, SOURCE)

    assert stored.known_hash("Patient", "p1") is not None
    assert stored.known_hash("Condition", "c1") is not None
    assert stored.known_hash("Condition", "c2") is None
    assert stored.known_hash("Organization", "org1") is None  # always validated and mapped
    assert sorted(stored.rows) == ["Condition", "Organization"]
    assert list(stored.rows["Organization"]) == ["org1"]
    assert stored.covers("Organization", {"org1"})
    assert stored.covers("Condition", {"c1", "c2"})


def test_a_changed_directory_row_found_stored_is_updated_in_place(tmp_path: Path) -> None:
    first = run_import(write_json(tmp_path, "a.json", bundle(ORGANIZATION)))
    renamed = {**ORGANIZATION, "name": "North Health"}

    again = run_import(write_json(tmp_path, "b.json", bundle(ORGANIZATION)))
    changed = run_import(write_json(tmp_path, "c.json", bundle(renamed)))

    assert counts(first, "Organization") == (1, 0, 0, 0, 0)
    assert counts(again, "Organization") == (0, 0, 1, 0, 0)
    assert counts(changed, "Organization") == (0, 1, 0, 0, 0)
