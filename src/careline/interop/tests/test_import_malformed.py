"""Bad input is reported, never raised: broken files, invalid resources, broken ndjson lines,
and a database failure in the middle of a bundle (nothing of it stays)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careline.clinical import services as clinical_services
from careline.clinical.models import Condition, Encounter
from careline.identity.models import SourceLink
from careline.interop.fhir.summary import Rejection
from careline.interop.models import ImportRun, ImportStatus
from careline.interop.tests.test_import_support import (
    MRN_TYPE,
    bundle,
    condition,
    counts,
    encounter,
    patient,
    run_import,
    write_json,
    write_ndjson,
)
from careline.patients.models import Patient, TimelineEvent
from careline.platform.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_invalid_json_file_is_rejected_and_the_others_import(tmp_path: Path) -> None:
    broken = tmp_path / "a-broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [')
    good = write_json(tmp_path, "b-good.json", bundle(patient("p1")))

    result = run_import(broken, good)

    assert result.rejections == [
        Rejection(
            str(broken),
            None,
            None,
            None,
            None,
            "is not valid JSON: Expecting value (line 1, column 38)",
        )
    ]
    assert counts(result, "Patient") == (1, 0, 0, 0, 0)
    assert ImportRun.objects.get().status == ImportStatus.COMPLETED_WITH_REJECTIONS


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is not valid JSON: Expecting value (line 1, column 1)"),
        (b'{"a": "\xff"}', "is not UTF-8 text"),
        (b'{"resourceType": "Bundle", "entry": {}}', "Bundle.entry is not a list"),
        (
            b'{"resourceType": "Patient", "id": "x", "x": NaN}',
            "is not valid JSON: NaN is not a JSON number",
        ),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)

    result = run_import(path)

    assert [(r.file, r.reason) for r in result.rejections] == [(str(path), reason)]
    assert result.summary == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[1, 2]", "is not a FHIR resource or Bundle (a JSON list)"),
        (b'{"name": "MANIFEST"}', "is not a FHIR resource or Bundle: it has no resourceType"),
    ],
)
def test_json_that_is_not_fhir_is_skipped_with_its_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    other = tmp_path / "MANIFEST.json"
    other.write_bytes(content)
    good = write_json(tmp_path, "bundle.json", bundle(patient("p1")))

    result = run_import(tmp_path)

    assert [(s.file, s.reason) for s in result.skipped_files] == [(str(other), reason)]
    assert result.rejections == []
    assert counts(result, "Patient") == (1, 0, 0, 0, 0)
    assert ImportRun.objects.get().status == ImportStatus.SUCCEEDED
    assert str(good) not in {s.file for s in result.skipped_files}


def test_invalid_resource_is_rejected_with_its_path_and_entry_others_import(tmp_path: Path) -> None:
    bad = patient("p2", birthDate="not-a-date")
    path = write_json(tmp_path, "bundle.json", bundle(patient("p1"), bad, condition("c1")))

    result = run_import(path)

    assert result.rejections == [
        Rejection(
            str(path),
            1,
            None,
            "Patient",
            "Patient.birthDate",
            "Date value string does not match spec regex: 'not-a-date'",
        )
    ]
    assert counts(result, "Patient") == (1, 0, 0, 0, 1)
    assert counts(result, "Condition") == (1, 0, 0, 0, 0)
    assert list(SourceLink.objects.values_list("source_id", flat=True)) == ["p1"]


def test_reasons_never_echo_names_or_identifiers(tmp_path: Path) -> None:
    bad_name = patient("p1", name=[{"family": "Secret-Family", "given": [42]}])
    bad_identifier = patient("p2", identifier=[{"system": "urn:mrn", "value": 12345678}])
    path = write_json(tmp_path, "bundle.json", bundle(bad_name, bad_identifier))

    result = run_import(path)

    assert [(r.path, r.reason) for r in result.rejections] == [
        ("Patient.name[0].given[0]", "must be a string"),
        ("Patient.identifier[0].value", "must be a string"),
    ]
    stored = json.dumps(ImportRun.objects.get().rejections)
    assert "Secret" not in stored
    assert "12345678" not in stored


def test_unknown_and_unsupported_types_are_skipped(tmp_path: Path) -> None:
    resources = [
        patient("p1"),
        {"resourceType": "Goal", "id": "g1"},
        {"resourceType": "Spaceship", "id": "s1"},
        {"resourceType": 42},
    ]
    path = write_json(tmp_path, "bundle.json", bundle(*resources[:3]))
    path.write_text(path.read_text()[:-2] + ', {"resource": {"resourceType": 42}}]}')

    result = run_import(path)

    assert counts(result, "Goal") == (0, 0, 0, 1, 0)
    assert counts(result, "Spaceship") == (0, 0, 0, 1, 0)
    assert [(r.entry, r.path, r.reason) for r in result.rejections] == [
        (3, "resourceType", "resourceType is missing or is not a resource type name")
    ]


def test_entry_without_resource_is_reported(tmp_path: Path) -> None:
    data = bundle(patient("p1"))
    data["entry"].append({"request": {"method": "DELETE", "url": "Patient/old"}})
    path = write_json(tmp_path, "bundle.json", data)

    result = run_import(path)

    assert [(r.entry, r.reason) for r in result.rejections] == [
        (1, "the bundle entry has no resource")
    ]
    assert counts(result, "Patient") == (1, 0, 0, 0, 0)


def test_broken_ndjson_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write_ndjson(
        tmp_path,
        "Patient.000.ndjson",
        [patient("p1"), patient("p2"), '{"resourceType": "Patient", "id": ', patient("p4")],
    )

    result = run_import(path)

    assert result.rejections == [
        Rejection(str(path), None, 3, None, None, "is not valid JSON: Expecting value (column 34)")
    ]
    assert counts(result, "Patient") == (3, 0, 0, 0, 0)
    assert sorted(SourceLink.objects.values_list("source_id", flat=True)) == ["p1", "p2", "p4"]


def test_ndjson_lines_commit_in_batches(tmp_path: Path) -> None:
    patients = write_ndjson(tmp_path, "Patient.000.ndjson", [patient("p1")])
    lines = [encounter(f"e{n}") for n in range(1, 8)]
    lines[4]["subject"] = {"reference": "Patient/nobody"}
    encounters = write_ndjson(tmp_path, "Encounter.000.ndjson", lines)

    result = run_import(encounters, patients, batch_size=3)

    assert counts(result, "Encounter") == (6, 0, 0, 0, 1)
    assert [(r.line, r.path, r.reason) for r in result.rejections] == [
        (
            5,
            "Encounter.subject",
            "references Patient/nobody, which is neither in this import nor known",
        )
    ]
    assert Encounter.objects.count() == 6


def test_a_failure_while_writing_leaves_nothing_of_the_bundle(tmp_path: Path) -> None:
    """The second bundle's clinical write fails after its patient was written: both go."""
    first = write_json(tmp_path, "a.json", bundle(patient("p1"), condition("c1")))
    second = write_json(
        tmp_path, "b.json", bundle(patient("p2"), condition("c2", subject="Patient/p2"))
    )
    calls = {"n": 0}
    original = clinical_services.upsert_facts

    def failing_second_time(**kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)  # type: ignore[arg-type]

    with mock.patch("careline.interop.fhir.writers.upsert_facts", failing_second_time):
        result = run_import(first, second)

    assert list(SourceLink.objects.values_list("source_id", flat=True)) == ["p1"]
    assert list(Condition.objects.values_list("source_id", flat=True)) == ["c1"]
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(resource_type="Patient").count() == 1
    assert counts(result, "Patient") == (1, 0, 0, 0, 1)
    assert counts(result, "Condition") == (1, 0, 0, 0, 1)
    assert [(r.file, r.reason) for r in result.rejections] == [
        (str(second), "could not be written (RuntimeError); nothing of this bundle was kept")
    ]


def test_a_constraint_violation_rolls_the_bundle_back(tmp_path: Path) -> None:
    """A real database error: the same identifier twice is refused by a unique constraint."""
    path = write_json(tmp_path, "a.json", bundle(patient("p1"), encounter("e1")))
    run_import(path)
    clash = write_json(
        tmp_path, "b.json", bundle(patient("p2"), encounter("e2", subject="Patient/p2"))
    )

    with (
        mock.patch(
            "careline.patients.bulk.registry._unclaimed_identifiers", lambda rows, new: rows
        ),
        mock.patch("careline.identity.services.find_identifier_owners", lambda identifiers: {}),
    ):
        data = json.loads(clash.read_text())
        data["entry"][0]["resource"]["identifier"] = patient("p1")["identifier"]
        clash.write_text(json.dumps(data))
        result = run_import(clash)

    assert sorted(SourceLink.objects.values_list("source_id", flat=True)) == ["p1"]
    assert list(Encounter.objects.values_list("source_id", flat=True)) == ["e1"]
    assert counts(result, "Encounter") == (0, 0, 0, 0, 1)
    assert result.rejections[0].reason == (
        "could not be written (IntegrityError); nothing of this bundle was kept"
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_garbage_files_never_raise(tmp_path: Path, content: bytes) -> None:
    for name in ("garbage.json", "garbage.ndjson"):
        path = tmp_path / name
        path.write_bytes(content)
        result = run_import(path)
        assert all(r.reason for r in result.rejections)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    resource_type=st.sampled_from(["Patient", "Encounter", "Observation", "Coverage", "Consent"]),
    extra=st.dictionaries(
        st.sampled_from(
            ["name", "subject", "code", "period", "telecom", "status", "valueQuantity"]
        ),
        json_values,
        max_size=4,
    ),
)
def test_odd_resources_are_imported_or_rejected_never_raised(
    tmp_path: Path, resource_type: str, extra: dict[str, object]
) -> None:
    resource = {"resourceType": resource_type, "id": "x1", **extra}
    path = write_json(tmp_path, "odd.json", bundle(resource))

    result = run_import(path)

    assert sum(sum(c.values()) for c in result.summary.values()) == 1
    assert all(r.reason and r.resource_type == resource_type for r in result.rejections)


def test_an_overlong_meta_source_rejects_the_bundle(tmp_path: Path) -> None:
    path = write_json(tmp_path, "b.json", bundle(patient("p1"), source="urn:" + "x" * 300))

    result = run_import(path, source=None)

    assert counts(result, "Patient") == (0, 0, 0, 0, 1)
    assert [r.reason for r in result.rejections] == [
        "its meta.source is longer than 200 characters"
    ]
    assert not SourceLink.objects.exists()


def test_a_nul_character_rejects_the_resource_on_every_database(tmp_path: Path) -> None:
    """PostgreSQL cannot store U+0000 in text or jsonb; SQLite could — both refuse it."""
    odd = patient("p2", gender="\x00")
    path = write_json(tmp_path, "b.json", bundle(patient("p1"), odd))

    result = run_import(path)

    assert [(r.entry, r.path, r.reason) for r in result.rejections] == [
        (1, "Patient", "contains a NUL character (\\u0000), which cannot be stored")
    ]
    assert list(SourceLink.objects.values_list("source_id", flat=True)) == ["p1"]
    assert ImportRun.objects.get().rejections[0]["reason"].startswith("contains a NUL")


def test_odd_element_names_are_shown_safely(tmp_path: Path) -> None:
    odd = patient("p1", name=[{"family": "X", "\x00weird": 1}])
    path = write_json(tmp_path, "b.json", bundle(odd))

    result = run_import(path)

    assert [(r.path, r.reason) for r in result.rejections] == [
        ("Patient.name[0].'\\x00weird'", "is not an element of this resource type")
    ]
    assert ImportRun.objects.get().rejections[0]["path"] == "Patient.name[0].'\\x00weird'"


def test_a_reference_to_an_unusable_id_is_not_looked_up(tmp_path: Path) -> None:
    odd = patient("p1")
    odd["id"] = "bad\x00id"
    fact = condition("c1", subject="urn:uuid:patient-one")
    data = bundle(odd, fact)
    data["entry"][0]["fullUrl"] = "urn:uuid:patient-one"  # whose resource has that odd id
    path = write_json(tmp_path, "b.json", data)

    result = run_import(path)

    assert [(r.path, r.reason) for r in result.rejections] == [
        ("Patient.id", "has characters this element does not allow"),
        ("Condition.subject", "has no reference to a Patient"),
    ]


def test_text_longer_than_its_column_rejects_the_resource_never_cut(tmp_path: Path) -> None:
    long_name = patient("p2", name=[{"family": "N" * 201, "given": ["Ann"]}])
    long_identifier = patient(
        "p3", identifier=[{"type": MRN_TYPE, "system": "urn:mrn", "value": "7" * 65}]
    )
    path = write_json(tmp_path, "b.json", bundle(patient("p1"), long_name, long_identifier))

    result = run_import(path)

    assert counts(result, "Patient") == (1, 0, 0, 0, 2)
    assert [(r.entry, r.path, r.reason) for r in result.rejections] == [
        (
            1,
            "Patient",
            "its family name is 201 characters long; Careline stores at most 200 "
            "and does not cut imported text",
        ),
        (
            2,
            "Patient.identifier",
            "its identifier value is 65 characters long; Careline stores at most 64 "
            "and does not cut imported text",
        ),
    ]


def test_a_long_visit_type_is_kept_whole_and_shortened_visibly_on_the_timeline(
    tmp_path: Path,
) -> None:
    kind = "Consultation " * 30  # 390 characters, more than a timeline title holds
    visit = encounter("e1", type=[{"text": kind}])

    result = run_import(write_json(tmp_path, "b.json", bundle(patient("p1"), visit)))

    assert counts(result, "Encounter") == (1, 0, 0, 0, 0)
    title = TimelineEvent.objects.get(kind="encounter").title
    assert (len(title), title[-1]) == (300, "…")
    assert kind.strip() in json.dumps(Encounter.objects.get().raw)
