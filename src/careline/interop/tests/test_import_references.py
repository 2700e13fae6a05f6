"""Reference strings: parsing (property-based) and resolving within a unit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careline.interop.fhir.context import ById, ByIdentifier, Entry, UnitContext
from careline.interop.fhir.references import ReferenceKind, parse_reference

resource_types = st.from_regex(r"[A-Z][a-z]{2,20}", fullmatch=True)
ids = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)
bases = st.from_regex(
    r"https?://[a-z]{1,12}(\.[a-z]{2,5}){1,2}(/[a-z0-9]{1,8}){0,3}", fullmatch=True
)


@given(resource_type=resource_types, resource_id=ids)
def test_relative_reference_round_trips(resource_type: str, resource_id: str) -> None:
    parsed = parse_reference(f"{resource_type}/{resource_id}")
    assert parsed is not None
    assert (parsed.kind, parsed.resource_type, parsed.id, parsed.version) == (
        ReferenceKind.LOCAL,
        resource_type,
        resource_id,
        None,
    )


@given(resource_type=resource_types, resource_id=ids, version=ids)
def test_history_version_is_split_off(resource_type: str, resource_id: str, version: str) -> None:
    parsed = parse_reference(f"{resource_type}/{resource_id}/_history/{version}")
    assert parsed is not None
    assert (parsed.resource_type, parsed.id, parsed.version) == (
        resource_type,
        resource_id,
        version,
    )


@given(base=bases, resource_type=resource_types, resource_id=ids, version=st.none() | ids)
def test_absolute_reference_keeps_base_type_and_id(
    base: str, resource_type: str, resource_id: str, version: str | None
) -> None:
    text = f"{base}/{resource_type}/{resource_id}" + (f"/_history/{version}" if version else "")
    parsed = parse_reference(text)
    assert parsed is not None
    assert (parsed.kind, parsed.base, parsed.resource_type, parsed.id, parsed.version) == (
        ReferenceKind.ABSOLUTE,
        base,
        resource_type,
        resource_id,
        version,
    )


@given(st.uuids())
def test_urn_uuid_is_recognised(value: object) -> None:
    parsed = parse_reference(f"urn:uuid:{value}")
    assert parsed is not None
    assert parsed.kind is ReferenceKind.URN


@given(
    resource_type=resource_types,
    system=st.from_regex(r"https?://[a-z]{1,10}\.org/[a-z\-]{1,10}", fullmatch=True),
    value=st.from_regex(r"[A-Za-z0-9]{1,20}", fullmatch=True),
)
def test_conditional_reference_gives_identifier(
    resource_type: str, system: str, value: str
) -> None:
    parsed = parse_reference(f"{resource_type}?identifier={system}|{value}")
    assert parsed is not None
    assert (
        parsed.kind,
        parsed.resource_type,
        parsed.identifier_system,
        parsed.identifier_value,
    ) == (
        ReferenceKind.CONDITIONAL,
        resource_type,
        system,
        value,
    )


@given(st.one_of(st.text(max_size=300), st.binary(max_size=50), st.integers(), st.none()))
def test_garbage_never_raises(value: object) -> None:
    parsed = parse_reference(value)
    assert parsed is None or parsed.kind in set(ReferenceKind)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "#",
        "Patient",
        "patient/1",
        "Patient/",
        "Patient/a b",
        "http://x/",
        "Patient?name=x",
        "urn:",
    ],
)
def test_not_references(text: str) -> None:
    assert parse_reference(text) is None


def test_contained_reference() -> None:
    parsed = parse_reference("#coverage")
    assert parsed is not None
    assert (parsed.kind, parsed.id) == (ReferenceKind.CONTAINED, "coverage")


def _context() -> UnitContext:
    return UnitContext.of(
        [
            Entry({"resourceType": "Patient", "id": "p1"}, index=0, full_url="urn:uuid:aaa"),
            Entry(
                {"resourceType": "Practitioner", "id": "dr1"},
                index=1,
                full_url="http://ehr.example.org/fhir/Practitioner/dr1",
            ),
        ]
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("urn:uuid:aaa", ById("Patient", "p1")),
        ("Patient/p1", ById("Patient", "p1")),
        ("Patient/p1/_history/3", ById("Patient", "p1")),
        ("https://other.example.org/fhir/Patient/p9", ById("Patient", "p9")),
        ("urn:uuid:not-in-bundle", ById("Patient", "not-in-bundle")),
        ("Patient?identifier=urn:mrn|123", ByIdentifier("Patient", "urn:mrn", "123")),
        ("Patient?identifier=123", ByIdentifier("Patient", None, "123")),
        ("Practitioner/dr1", None),  # wrong type for a patient reference
        ("#contained", None),
        ("nonsense", None),
    ],
)
def test_keys_of_patient_references(reference: str, expected: object) -> None:
    assert _context().key({"reference": reference}, expected="Patient") == expected


def test_absolute_full_url_resolves_to_its_entry() -> None:
    key = _context().key(
        {"reference": "http://ehr.example.org/fhir/Practitioner/dr1"}, expected="Practitioner"
    )
    assert key == ById("Practitioner", "dr1")


def test_logical_reference_by_identifier() -> None:
    element = {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "9999"}}
    assert _context().key(element, expected="Practitioner") == ByIdentifier(
        "Practitioner", "http://hl7.org/fhir/sid/us-npi", "9999"
    )


def test_lookup_finds_contained_and_bundled_resources() -> None:
    container = {"contained": [{"resourceType": "Coverage", "id": "coverage", "status": "active"}]}
    context = _context()
    assert context.lookup({"reference": "#coverage"}, container=container) == {
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
    }
    assert context.lookup({"reference": "urn:uuid:aaa"}, container={}) == {
        "resourceType": "Patient",
        "id": "p1",
    }
    assert context.lookup({"reference": "#missing"}, container=container) is None
