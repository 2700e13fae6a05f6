"""What each resource becomes in the registry and the clinical mirror."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from careline.clinical.models import Encounter, MedicationRequest, Observation
from careline.directory.models import Location, Organization, Practitioner
from careline.identity.models import SourceLink
from careline.interop.tests.test_import_support import (
    SOURCE,
    bundle,
    condition,
    counts,
    encounter,
    observation,
    patient,
    run_import,
    write_json,
)
from careline.patients.models import (
    CareTeamMember,
    CommunicationPreference,
    Consent,
    ContactPoint,
    Coverage,
    Patient,
    PatientIdentifier,
    RelatedPerson,
    SocialNeed,
    TimelineEvent,
)
from careline.platform.models import AuditEvent

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SSN = {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456"}
NPI = "http://hl7.org/fhir/sid/us-npi"


def _import(tmp_path: Path, *resources: dict[str, Any], name: str = "b.json", **kw: Any) -> Any:
    return run_import(write_json(tmp_path, name, bundle(*resources)), **kw)


def _full_patient() -> dict[str, Any]:
    return patient(
        "p1",
        identifier=[patient("p1")["identifier"][0], SSN, {"system": "urn:oid:dl", "value": "S123"}],
        name=[
            {"use": "usual", "given": ["Pepe"]},
            {"use": "official", "family": "Núñez", "given": ["José", "Luis"], "prefix": ["Sr."]},
        ],
        deceasedDateTime="2024-01-02",
        maritalStatus={
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "W"}
            ]
        },
        communication=[
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]},
                "preferred": True,
            },
        ],
        extension=[
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
                "valueBoolean": True,
            },
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
                "extension": [{"url": "text", "valueString": "Hispanic or Latino"}],
            },
        ],
        telecom=[
            {"system": "phone", "value": "(617) 555-0142", "use": "mobile", "rank": 1},
            {"system": "email", "value": "  Jose.Nunez@Example.ORG ", "use": "home"},
            {"system": "phone", "value": "call the front desk", "use": "work"},
        ],
        address=[
            {"use": "work", "line": ["1 Work Way"], "city": "Elsewhere"},
            {
                "use": "home",
                "line": ["12 Harbor St", "Apt 3"],
                "city": "Boston",
                "state": "MA",
                "postalCode": "02118",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/geolocation",
                        "extension": [
                            {"url": "latitude", "valueDecimal": 42.33},
                            {"url": "longitude", "valueDecimal": -71.07},
                        ],
                    }
                ],
            },
        ],
        generalPractitioner=[{"reference": "Practitioner/dr1"}],
        managingOrganization={"reference": "Organization/org1"},
    )


def _directory() -> list[dict[str, Any]]:
    return [
        {"resourceType": "Organization", "id": "org1", "name": "Harbor Health"},
        {
            "resourceType": "Location",
            "id": "loc1",
            "name": "Harbor Clinic",
            "managingOrganization": {"reference": "Organization/org1"},
            "position": {"latitude": 42.3, "longitude": -71.0},
        },
        {
            "resourceType": "Practitioner",
            "id": "dr1",
            "identifier": [{"system": NPI, "value": "1234567893"}],
            "name": [{"family": "Okafor", "given": ["Ada"], "prefix": ["Dr."]}],
            "communication": [{"coding": [{"system": "urn:ietf:bcp:47", "code": "yo"}]}],
        },
    ]


def test_patient_fields(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient(), *_directory())

    row = Patient.objects.get()
    assert (row.prefix, row.given_names, row.family_name, row.search_name) == (
        "Sr.",
        "José Luis",
        "Núñez",
        "nunez jose luis",
    )
    assert (row.birth_date, row.sex, row.mrn) == (dt.date(1951, 3, 14), "male", "MRN-p1")
    assert (row.is_deceased, row.deceased_at) == (True, dt.datetime(2024, 1, 2, tzinfo=UTC))
    assert (row.marital_status, row.language, row.interpreter_needed) == ("Widowed", "es-MX", True)
    assert (row.ethnicity, row.race) == ("Hispanic or Latino", "")
    assert (row.address_line, row.city, row.state, row.postal_code) == (
        "12 Harbor St, Apt 3",
        "Boston",
        "MA",
        "02118",
    )
    assert (row.latitude, row.longitude) == (42.33, -71.07)
    assert row.source_system == SOURCE


def test_ssn_is_encrypted_not_an_identifier(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())

    assert Patient.objects.get().ssn == "999-12-3456"
    assert sorted(PatientIdentifier.objects.values_list("system", "value", "type_code")) == [
        ("urn:mrn:hospital", "MRN-p1", "MR"),
        ("urn:oid:dl", "S123", ""),
    ]


def test_contact_points_are_normalised(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())

    assert sorted(ContactPoint.objects.values_list("system", "value", "use", "rank")) == [
        ("email", "jose.nunez@example.org", "home", 2),
        ("phone", "+16175550142", "mobile", 1),
        ("phone", "call the front desk", "work", 3),
    ]


def test_primary_care_and_location(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient(), *_directory())

    row = Patient.objects.get()
    assert row.primary_care_practitioner == Practitioner.objects.get(npi="1234567893")
    assert row.primary_location == Location.objects.get(name="Harbor Clinic")
    member = CareTeamMember.objects.get()
    assert (member.practitioner, member.role) == (
        row.primary_care_practitioner,
        "Primary care provider",
    )
    practitioner = Practitioner.objects.get()
    assert (practitioner.display_name, practitioner.languages) == ("Dr. Ada Okafor", ["yo"])
    assert Location.objects.get().organization == Organization.objects.get()


def test_language_preference_is_created_then_only_filled_when_blank(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())
    preference = CommunicationPreference.objects.get()
    assert preference.language == "es-MX"

    preference.language = "pt"  # staff changed it
    preference.save()
    changed = _full_patient()
    changed["gender"] = "other"
    _import(tmp_path, changed, name="again.json")

    assert CommunicationPreference.objects.get().language == "pt"
    assert Patient.objects.get().sex == "other"


def test_registration_event_once(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())
    changed = _full_patient()
    changed["birthDate"] = "1951-03-15"
    result = _import(tmp_path, changed, name="again.json")

    assert counts(result, "Patient") == (0, 1, 0, 0, 0)
    assert list(TimelineEvent.objects.values_list("kind", "source_key")) == [
        ("registration", "Patient/p1")
    ]


def test_changed_patient_syncs_identifiers_and_contacts(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())
    changed = _full_patient()
    changed["telecom"] = [{"system": "phone", "value": "617.555.0199", "use": "home"}]
    changed["identifier"] = changed["identifier"][:2]  # the driver's license is gone

    _import(tmp_path, changed, name="again.json")

    assert list(ContactPoint.objects.values_list("value", "use")) == [("+16175550199", "home")]
    assert list(PatientIdentifier.objects.values_list("value", flat=True)) == ["MRN-p1"]


def test_staff_contact_points_are_left_alone(tmp_path: Path) -> None:
    _import(tmp_path, _full_patient())
    row = Patient.objects.get()
    ContactPoint.objects.create(
        patient=row, system="phone", value="+16175550000", received_at=row.received_at
    )
    changed = _full_patient()
    changed["telecom"] = []

    _import(tmp_path, changed, name="again.json")

    assert list(ContactPoint.objects.values_list("value", "source_system")) == [
        ("+16175550000", "careline")
    ]


def test_related_person(tmp_path: Path) -> None:
    related = {
        "resourceType": "RelatedPerson",
        "id": "rp1",
        "patient": {"reference": "Patient/p1"},
        "name": [{"given": ["Mary"], "family": "Jones"}],
        "relationship": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "DAU",
                        "display": "daughter",
                    }
                ]
            },
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C"}]},
            {"text": "Primary caregiver"},
        ],
        "telecom": [
            {"system": "phone", "value": "617-555-0101"},
            {"system": "email", "value": "M@X.ORG"},
        ],
    }
    _import(tmp_path, patient("p1"), related)

    row = RelatedPerson.objects.get()
    assert (row.name, row.relationship, row.relationship_code) == ("Mary Jones", "daughter", "DAU")
    assert (row.is_caregiver, row.is_emergency_contact) == (True, True)
    assert (row.phone, row.email) == ("+16175550101", "m@x.org")


def test_coverage_resource(tmp_path: Path) -> None:
    coverage = {
        "resourceType": "Coverage",
        "id": "cov1",
        "status": "active",
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": "Organization/ins1"}],
        "subscriberId": "XKM123456",
        "relationship": {"coding": [{"code": "self"}]},
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "class": [
            {"type": {"coding": [{"code": "group"}]}, "value": "G-77"},
            {
                "type": {"coding": [{"code": "plan"}]},
                "value": "BC-PPO",
                "name": "Blue Care Elect PPO",
            },
        ],
    }
    insurer = {"resourceType": "Organization", "id": "ins1", "name": "Blue Cross"}
    _import(tmp_path, patient("p1"), insurer, coverage)

    row = Coverage.objects.get()
    assert (row.payer, row.plan, row.group, row.member_id, row.relationship) == (
        "Blue Cross",
        "Blue Care Elect PPO (BC-PPO)",
        "G-77",
        "XKM123456",
        "self",
    )
    assert (row.start_date, row.end_date, row.status) == (
        dt.date(2024, 1, 1),
        dt.date(2024, 12, 31),
        "active",
    )


def _consent(resource_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": resource_id,
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "Patient/p1"},
        "dateTime": "2024-05-01T10:00:00Z",
        **fields,
    }


def test_consents(tmp_path: Path) -> None:
    careline_system = "https://careline.health/fhir/CodeSystem/consent-purpose"
    sms = _consent("k1", provision={"purpose": [{"system": careline_system, "code": "sms"}]})
    denied = _consent(
        "k2",
        provision={"type": "deny", "purpose": [{"system": careline_system, "code": "marketing"}]},
    )
    loinc = _consent("k3")
    notice = _consent(
        "k4", category=[{"coding": [{"system": "http://loinc.org", "code": "64292-6"}]}]
    )
    unknown = _consent("k5", status="inactive", category=[{"text": "something"}])

    _import(tmp_path, patient("p1"), sms, denied, loinc, notice, unknown)

    assert sorted(Consent.objects.values_list("source_id", "purpose", "status")) == [
        ("k1", "sms", "active"),
        ("k2", "marketing", "rejected"),
        ("k3", "treatment", "active"),
        ("k4", "hipaa-notice", "active"),
        ("k5", "other", "inactive"),
    ]
    assert Consent.objects.get(source_id="k1").decided_at == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_social_needs_from_screening_answers(tmp_path: Path) -> None:
    _import(
        tmp_path,
        patient("p1"),
        observation("o1", "93030-5", "LA33-6"),  # transportation: yes
        observation("o2", "88124-3", "LA19952-3"),  # food: at risk
        observation("o3", "71802-3", "LA30190-5"),  # housing: has housing
    )

    assert sorted(SocialNeed.objects.values_list("category", "is_active")) == [
        ("food", True),
        ("transportation", True),
    ]
    assert Observation.objects.count() == 3


def test_latest_screening_answer_wins(tmp_path: Path) -> None:
    _import(tmp_path, patient("p1"), observation("o1", "93030-5", "LA33-6", day="2024-03-01"))
    _import(tmp_path, observation("o2", "93030-5", "LA32-8", day="2024-06-01"), name="later.json")
    _import(tmp_path, observation("o0", "93030-5", "LA33-6", day="2023-01-01"), name="older.json")

    need = SocialNeed.objects.get()
    assert (need.category, need.is_active) == ("transportation", False)
    assert need.identified_at == dt.datetime(2024, 6, 1, tzinfo=UTC)


def test_encounter_and_its_timeline_event(tmp_path: Path) -> None:
    visit = encounter(
        "e1",
        participant=[{"individual": {"reference": "Practitioner/dr1"}}],
        location=[{"location": {"reference": "Location/loc1"}}],
        serviceProvider={"reference": "Organization/org1"},
        reasonCode=[{"text": "Knee pain"}],
    )
    _import(tmp_path, patient("p1"), *_directory(), visit)

    row = Encounter.objects.get()
    assert (row.encounter_class, row.code, row.display, row.reason) == (
        "AMB",
        "185349003",
        "Check up",
        "Knee pain",
    )
    assert row.effective_at == dt.datetime(2024, 2, 1, 14, tzinfo=UTC)
    assert (row.practitioner, row.location, row.service_provider) == (
        Practitioner.objects.get(),
        Location.objects.get(),
        Organization.objects.get(),
    )
    event = TimelineEvent.objects.get(kind="encounter")
    assert (event.title, event.occurred_at, event.source_key) == (
        "Check up",
        row.effective_at,
        "Encounter/e1",
    )

    visit["period"]["start"] = "2024-02-02T09:00:00Z"
    result = _import(tmp_path, visit, name="again.json")

    assert counts(result, "Encounter") == (0, 1, 0, 0, 0)
    assert TimelineEvent.objects.get(kind="encounter").occurred_at == dt.datetime(
        2024, 2, 2, 9, tzinfo=UTC
    )


def test_fact_fields(tmp_path: Path) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {
                    "coding": [
                        {
                            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "860975",
                            "display": "metformin 500 MG",
                        }
                    ]
                },
            }
        ],
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/e1"},
        "authoredOn": "2024-02-01",
        "requester": {"reference": "Practitioner/dr1"},
        "dosageInstruction": [{"text": "1 tablet twice daily"}],
    }
    _import(tmp_path, patient("p1"), *_directory(), request, condition("c1"))

    row = MedicationRequest.objects.get()
    assert (row.code, row.display, row.status, row.intent, row.dosage, row.requester) == (
        "860975",
        "metformin 500 MG",
        "active",
        "order",
        "1 tablet twice daily",
        "Ada Okafor",
    )
    assert (row.effective_at, row.encounter_source_id) == (
        dt.datetime(2024, 2, 1, tzinfo=UTC),
        "e1",
    )


def test_conditional_patient_reference(tmp_path: Path) -> None:
    _import(tmp_path, patient("p1"))
    fact = condition("c1", subject="Patient?identifier=urn:mrn:hospital|MRN-p1")

    result = _import(tmp_path, fact, name="later.json")

    assert counts(result, "Condition") == (1, 0, 0, 0, 0)


def test_bundle_meta_source_names_the_source_unless_one_is_given(tmp_path: Path) -> None:
    path = write_json(tmp_path, "b.json", bundle(patient("p1"), source="urn:epic:north"))

    run_import(path, source=None)
    run_import(path, source="urn:override")

    assert sorted(SourceLink.objects.values_list("source_system", flat=True)) == [
        "urn:epic:north",
        "urn:override",
    ]


def test_audit_events_per_patient_and_run(tmp_path: Path) -> None:
    _import(
        tmp_path,
        patient("p1"),
        patient("p2", identifier=[]),
        condition("c1"),
        encounter("e1"),
        condition("c2", subject="Patient/p2"),
        *_directory(),
    )

    events = AuditEvent.objects.order_by("sequence")
    assert [(e.resource_type, e.action, e.details) for e in events] == [
        ("Patient", "import", {"source_system": SOURCE, "created": 3, "updated": 0}),
        ("Patient", "import", {"source_system": SOURCE, "created": 2, "updated": 0}),
        (
            "ImportRun",
            "import",
            {
                "source_system": SOURCE,
                "counts": {
                    t: {"created": n, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": 0}
                    for t, n in [
                        ("Condition", 2),
                        ("Encounter", 1),
                        ("Location", 1),
                        ("Organization", 1),
                        ("Patient", 2),
                        ("Practitioner", 1),
                    ]
                },
                "rejections": 0,
                "cleaned_values": 0,
            },
        ),
    ]
    patients = {link.source_id: link.patient.public_id for link in SourceLink.objects.all()}
    assert [e.patient_id for e in events[:2]] == [patients["p1"], patients["p2"]]

    _import(tmp_path, patient("p1"), name="unchanged.json")
    assert AuditEvent.objects.count() == 4  # only the run


def test_a_location_without_a_position_is_placed_at_its_zip(tmp_path: Path) -> None:
    _import(
        tmp_path,
        {
            "resourceType": "Location",
            "id": "quincy",
            "name": "Quincy Clinic",
            "address": {"city": "Quincy", "state": "MA", "postalCode": "02169-1234"},
        },
        {"resourceType": "Location", "id": "nowhere", "name": "Mobile Unit"},
        {
            "resourceType": "Location",
            "id": "unknown",
            "name": "Annex",
            "address": {"postalCode": "99999"},
        },
    )

    rows = Location.objects.order_by("name").values_list("name", "latitude", "longitude")
    assert list(rows) == [
        ("Annex", None, None),
        ("Mobile Unit", None, None),
        ("Quincy Clinic", 42.2491, -70.9978),
    ]
