"""Tests of the deterministic synthetic FHIR R4 generator (no Django, no database)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import zipcodes
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st

from careline.directory.hours import parse_hours
from careline.interop.generator import (
    CONSENT_PURPOSE_SYSTEM,
    DEMO_MRN_SYSTEM,
    REFERENCE_DATE,
    generate_bundles,
    write_bundles,
)

Bundle = dict[str, Any]
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"

EXPECTED_COUNTS_5_42 = {
    "AllergyIntolerance": 1,
    "CarePlan": 3,
    "Condition": 23,
    "Consent": 18,
    "Coverage": 6,
    "Encounter": 97,
    "Immunization": 44,
    "Location": 6,
    "MedicationRequest": 20,
    "Observation": 510,
    "Organization": 6,
    "Patient": 5,
    "Practitioner": 5,
    "PractitionerRole": 5,
    "Procedure": 31,
    "RelatedPerson": 4,
}


@pytest.fixture(scope="module")
def bundles() -> list[tuple[str, Bundle]]:
    return list(generate_bundles(patients=5, seed=42))


def resources(bundle: Bundle, resource_type: str | None = None) -> list[dict[str, Any]]:
    found = [entry["resource"] for entry in bundle["entry"]]
    return [r for r in found if resource_type is None or r["resourceType"] == resource_type]


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar value) pair of a JSON tree."""
    if isinstance(node, dict):
        for child_key, value in node.items():
            yield from walk(value, child_key)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value, key)
    else:
        yield key, node


def npi_is_valid(npi: str) -> bool:
    """Independent Luhn check over the 80840 prefix (CMS NPI check-digit algorithm)."""
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return len(npi) == 10 and total % 10 == 0


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    first = write_bundles(out_dir=tmp_path / "a", patients=5, seed=42)
    second = write_bundles(out_dir=tmp_path / "b", patients=5, seed=42)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_different_seed_gives_different_content() -> None:
    one = json.dumps(list(generate_bundles(patients=3, seed=1)))
    other = json.dumps(list(generate_bundles(patients=3, seed=2)))
    assert one != other


def test_write_bundles_names_and_compact_utf8_json(tmp_path: Path) -> None:
    paths = write_bundles(out_dir=tmp_path / "new" / "dir", patients=3, seed=42)
    names = [p.name for p in paths]
    assert names == [
        "directory.json",
        "patient-00001.json",
        "patient-00002.json",
        "patient-00003.json",
    ]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert text == json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def test_no_patients_still_gives_a_directory() -> None:
    assert [name for name, _ in generate_bundles(patients=0, seed=3)] == ["directory.json"]


# --- counts and shape -----------------------------------------------------------------------


def test_resource_counts_are_stable(bundles: list[tuple[str, Bundle]]) -> None:
    counts = Counter(r["resourceType"] for _, bundle in bundles for r in resources(bundle))
    assert dict(counts) == EXPECTED_COUNTS_5_42


def test_directory_scales_with_patients() -> None:
    def practitioners(patients: int) -> int:
        _, directory = next(generate_bundles(patients=patients, seed=9))
        return len(resources(directory, "Practitioner"))

    assert practitioners(0) == 5
    assert practitioners(400) == 50
    assert practitioners(5000) == 200


def test_bundles_are_transactions_with_put_entries(bundles: list[tuple[str, Bundle]]) -> None:
    for _, bundle in bundles:
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "transaction"
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
            url = f"{resource['resourceType']}/{resource['id']}"
            assert entry["request"] == {"method": "PUT", "url": url}


def test_every_resource_and_bundle_validates_against_r4b(bundles: list[tuple[str, Bundle]]) -> None:
    bundle_model = get_fhir_model_class("Bundle")
    for _, bundle in bundles:
        bundle_model.model_validate(bundle)
        for resource in resources(bundle):
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_references_resolve(bundles: list[tuple[str, Bundle]]) -> None:
    directory = {f"{r['resourceType']}/{r['id']}" for r in resources(bundles[0][1])}
    for _, bundle in bundles:
        local = {entry["fullUrl"] for entry in bundle["entry"]}
        references = [v for k, v in walk(bundle["entry"]) if k == "reference"]
        assert references
        for reference in references:
            if reference.startswith("urn:uuid:"):
                assert reference in local
            else:
                assert reference in directory


def test_ids_are_unique(bundles: list[tuple[str, Bundle]]) -> None:
    ids = [r["id"] for _, bundle in bundles for r in resources(bundle)]
    assert len(ids) == len(set(ids))


# --- directory ------------------------------------------------------------------------------


def test_npis_have_valid_check_digits(bundles: list[tuple[str, Bundle]]) -> None:
    assert npi_is_valid("1234567893")  # the CMS worked example
    assert not npi_is_valid("1234567890")
    directory = bundles[0][1]
    npis = [
        identifier["value"]
        for resource in resources(directory)
        for identifier in resource.get("identifier", [])
        if identifier["system"] == NPI_SYSTEM
    ]
    assert len(npis) == len(resources(directory, "Practitioner")) + len(
        resources(directory, "Organization")
    )
    assert len(set(npis)) == len(npis)
    assert all(npi_is_valid(npi) for npi in npis)


def test_locations_are_real_places(bundles: list[tuple[str, Bundle]]) -> None:
    for location in resources(bundles[0][1], "Location"):
        record = zipcodes.matching(location["address"]["postalCode"])[0]
        assert location["address"]["city"] == record["city"]
        assert location["address"]["state"] == record["state"]
        assert location["position"] == {
            "longitude": float(record["long"]),
            "latitude": float(record["lat"]),
        }
        assert parse_hours(location["hoursOfOperation"])  # the one shape the directory reads
        assert location["managingOrganization"]["reference"].startswith("urn:uuid:")


def test_practitioner_roles_link_practitioner_organization_location(
    bundles: list[tuple[str, Bundle]],
) -> None:
    for role in resources(bundles[0][1], "PractitionerRole"):
        assert {"practitioner", "organization", "location", "specialty"} <= role.keys()
        systems = {c["system"] for c in role["specialty"][0]["coding"]}
        assert systems == {"http://nucc.org/provider-taxonomy", "http://snomed.info/sct"}


# --- patients -------------------------------------------------------------------------------


def test_patient_addresses_use_real_zip_codes(bundles: list[tuple[str, Bundle]]) -> None:
    for _, bundle in bundles[1:]:
        for resource in resources(bundle, "Patient") + resources(bundle, "RelatedPerson"):
            for address in resource.get("address", []):
                record = zipcodes.matching(address["postalCode"])[0]
                assert (address["city"], address["state"]) == (record["city"], record["state"])
        geo = resources(bundle, "Patient")[0]["address"][0]["extension"][0]
        assert geo["url"] == "http://hl7.org/fhir/StructureDefinition/geolocation"
        assert [e["url"] for e in geo["extension"]] == ["latitude", "longitude"]


def test_dates_fall_within_the_patients_life(bundles: list[tuple[str, Bundle]]) -> None:
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}")
    for _, bundle in bundles[1:]:
        patient = resources(bundle, "Patient")[0]
        birth = patient["birthDate"]
        last = patient.get("deceasedDateTime", REFERENCE_DATE.isoformat())[:10]
        for resource in resources(bundle):
            if resource["resourceType"] in ("RelatedPerson", "Coverage"):
                continue  # a parent's birth date, a policy that predates the child
            for key, value in walk(resource):
                if isinstance(value, str) and stamp.match(value) and key != "birthDate":
                    assert birth <= value[:10] <= last, (resource["resourceType"], key, value)


def test_each_patient_has_one_preferred_language(bundles: list[tuple[str, Bundle]]) -> None:
    for _, bundle in bundles[1:]:
        patient = resources(bundle, "Patient")[0]
        preferred = [c for c in patient["communication"] if c.get("preferred")]
        assert len(preferred) == 1
        assert preferred[0]["language"]["coding"][0]["system"] == "urn:ietf:bcp:47"


def test_identifiers_and_age_rules_over_a_larger_run() -> None:
    mrns: list[str] = []
    for _, bundle in list(generate_bundles(patients=60, seed=7))[1:]:
        patient = resources(bundle, "Patient")[0]
        born = date.fromisoformat(patient["birthDate"])
        age = (REFERENCE_DATE - born).days // 365
        systems = [i["system"] for i in patient["identifier"]]
        mrns += [i["value"] for i in patient["identifier"] if i["system"] == DEMO_MRN_SYSTEM]
        telecom = {t["system"] for t in patient.get("telecom", [])}
        if age < 17:
            assert SSN_SYSTEM not in systems
            assert "email" not in telecom
        for ssn in (i["value"] for i in patient["identifier"] if i["system"] == SSN_SYSTEM):
            assert re.fullmatch(r"999-\d{2}-\d{4}", ssn)
        payers = [c["payor"][0]["display"] for c in resources(bundle, "Coverage")]
        if age >= 67 and "deceasedDateTime" not in patient and payers:
            assert "Medicare Part B" in payers
    assert len(mrns) == 60 == len(set(mrns))
    assert all(re.fullmatch(r"MRN\d{7}", mrn) for mrn in mrns)


def test_consents_use_the_careline_purpose_system(bundles: list[tuple[str, Bundle]]) -> None:
    for _, bundle in bundles[1:]:
        consents = resources(bundle, "Consent")
        purposes = [c["provision"]["purpose"][0] for c in consents]
        assert all(p["system"] == CONSENT_PURPOSE_SYSTEM for p in purposes)
        assert "hipaa-notice" in {p["code"] for p in purposes}


# --- property: phones and MRNs over random seeds ---------------------------------------------


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_phones_parse_as_us_numbers_and_one_mrn_per_patient(seed: int) -> None:
    found = list(generate_bundles(patients=3, seed=seed))
    phones = [
        telecom["value"]
        for _, bundle in found
        for resource in resources(bundle)
        for telecom in resource.get("telecom", [])
        if telecom["system"] == "phone"
    ]
    assert phones
    for phone in phones:
        parsed = phonenumbers.parse(phone, "US")
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) == "US"
    for _, bundle in found[1:]:
        (patient,) = resources(bundle, "Patient")
        mrns = [i for i in patient["identifier"] if i["system"] == DEMO_MRN_SYSTEM]
        assert len(mrns) == 1
