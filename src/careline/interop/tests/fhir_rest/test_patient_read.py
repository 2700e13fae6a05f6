"""Patient read: the resource served (built or mirrored), headers, audit, authorization."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from careline.identity.models import MatchRule, SourceLink
from careline.interop.tests.fhir_rest.conftest import FhirCaller
from careline.interop.tests.fhir_rest.helpers import fhir_body, outcome
from careline.patients.access import break_glass
from careline.patients.models import Patient
from careline.platform.actors import Actor
from careline.platform.models import AuditAction, AuditEvent, AuditOutcome
from careline.platform.permissions import Role
from careline.platform.services import revoke_api_token
from careline.testing.factories import ContactPointFactory, PractitionerFactory

pytestmark = pytest.mark.django_db
UPDATED = dt.datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC)
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"


@pytest.fixture
def patient(make_patient: Callable[..., Patient]) -> Patient:
    patient = make_patient(
        given_names="Robert James",
        family_name="Zebrowski",
        mrn="MRN7000001",
        birth_date=dt.date(1951, 3, 14),
        sex="male",
        ssn="123-45-6789",
        address_line="1 Harbor Way",
        city="Boston",
        state="MA",
        postal_code="02118",
    )
    ContactPointFactory.create(patient=patient, system="phone", value="+16175550142")
    patient.identifiers.create(system=SSN_SYSTEM, value="123456789", received_at=UPDATED)
    Patient.objects.filter(pk=patient.pk).update(updated_at=UPDATED)
    patient.refresh_from_db()
    return patient


def test_reads_a_patient_built_from_careline_data(scheduler: FhirCaller, patient: Patient) -> None:
    response = scheduler.get(f"Patient/{patient.public_id}")
    assert response.status_code == 200
    body = fhir_body(response, "Patient")
    version = str(int(UPDATED.timestamp() * 1_000_000))
    assert body == {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": {"versionId": version, "lastUpdated": "2026-05-06T07:08:09.123Z"},
        "active": True,
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "https://careline.health/fhir/sid/mrn",
                "value": "MRN7000001",
            }
        ],
        "name": [{"use": "official", "family": "Zebrowski", "given": ["Robert", "James"]}],
        "telecom": [{"system": "phone", "value": "+16175550142", "rank": 1, "use": "mobile"}],
        "gender": "male",
        "birthDate": "1951-03-14",
        "address": [
            {"line": ["1 Harbor Way"], "city": "Boston", "state": "MA", "postalCode": "02118"}
        ],
    }
    assert response["ETag"] == f'W/"{version}"'
    assert response["Last-Modified"] == "Wed, 06 May 2026 07:08:09 GMT"
    assert "123" + "-45-" not in response.content.decode()
    assert "123456789" not in response.content.decode()


def test_reads_the_mirrored_ehr_resource_with_careline_ids_and_provenance(
    scheduler: FhirCaller, patient: Patient
) -> None:
    practitioner = PractitionerFactory.create(source_system="urn:test:ehr", source_id="pr-1")
    raw: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "ehr-42",
        "meta": {"versionId": "7"},
        "text": {"status": "generated", "div": "<div>SSN 123-45-6789</div>"},
        "identifier": [
            {"system": "urn:test:ehr:mrn", "value": "E-42"},
            {"system": SSN_SYSTEM, "value": "123-45-6789"},
        ],
        "name": [{"family": "Zebrowski", "given": ["Bob"]}],
        "gender": "male",
        "generalPractitioner": [
            {"reference": "Practitioner/pr-1"},
            {"reference": "Organization/unknown-org", "display": "Harbor Group"},
        ],
        "link": [{"other": {"reference": "Patient/ehr-41"}, "type": "seealso"}],
    }
    SourceLink.objects.create(
        patient=patient,
        source_system="urn:test:ehr",
        source_id="ehr-42",
        received_at=UPDATED + dt.timedelta(days=1),
        content_hash="0" * 64,
        raw=raw,
        match_rule=MatchRule.SOURCE_RECORD,
        linked_at=UPDATED,
    )
    body = fhir_body(scheduler.get(f"Patient/{patient.public_id}"), "Patient")
    received = UPDATED + dt.timedelta(days=1)
    assert body == {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": {
            "versionId": str(int(received.timestamp() * 1_000_000)),
            "lastUpdated": "2026-05-07T07:08:09.123Z",
            "source": "urn:test:ehr",
            "tag": [
                {
                    "system": "https://careline.health/fhir/CodeSystem/source-record",
                    "code": "ehr-42",
                    "display": "urn:test:ehr",
                }
            ],
        },
        "identifier": [{"system": "urn:test:ehr:mrn", "value": "E-42"}],
        "name": [{"family": "Zebrowski", "given": ["Bob"]}],
        "gender": "male",
        "generalPractitioner": [
            {"reference": f"Practitioner/{practitioner.public_id}"},
            {"display": "Harbor Group"},
        ],
    }
    assert raw["identifier"][1]["value"] == "123-45-6789"  # the stored row is not touched


def test_read_is_audited_like_the_staff_api(scheduler: FhirCaller, patient: Patient) -> None:
    scheduler.get(f"Patient/{patient.public_id}")
    event = AuditEvent.objects.get(action=AuditAction.READ)
    assert (event.actor_id, event.channel, event.resource_type, event.patient_id) == (
        scheduler.user.pk,
        "api",
        "Patient",
        patient.public_id,
    )
    assert event.is_break_glass is False


def test_same_audit_entry_as_the_staff_api_read(scheduler: FhirCaller, patient: Patient) -> None:
    scheduler.get(f"Patient/{patient.public_id}")
    scheduler.client.get(
        f"/api/patients/{patient.public_id}",
        headers={"Authorization": f"Bearer {scheduler.token}"},
    )
    fhir_event, api_event = AuditEvent.objects.filter(action=AuditAction.READ).order_by("sequence")
    columns = ("action", "resource_type", "resource_id", "patient_id", "channel", "outcome")
    assert [getattr(fhir_event, c) for c in columns] == [getattr(api_event, c) for c in columns]


def test_unknown_id_is_a_404(scheduler: FhirCaller) -> None:
    issue = outcome(scheduler.get("Patient/7f1c6e1e-0000-4000-8000-000000000000"), 404)
    assert issue["code"] == "not-found"
    assert outcome(scheduler.get("Patient/not-a-uuid"), 404)["code"] == "not-found"


def test_no_token_is_a_401(patient: Patient) -> None:
    response = Client().get(f"/fhir/R4/Patient/{patient.public_id}")
    assert outcome(response, 401)["code"] == "login"
    assert response["WWW-Authenticate"] == 'Bearer realm="careline-fhir"'
    assert not AuditEvent.objects.filter(patient_id=patient.public_id).exists()


def test_a_revoked_token_is_a_401(scheduler: FhirCaller, patient: Patient) -> None:
    revoke_api_token(actor=Actor.system("test"), prefix=scheduler.token.split("_")[1])
    outcome(scheduler.get(f"Patient/{patient.public_id}"), 401)
    outcome(scheduler.get("Patient?family=zeb"), 401)
    assert not AuditEvent.objects.filter(action=AuditAction.READ).exists()


def test_a_role_without_patient_access_is_a_403(
    caller_for: Callable[..., FhirCaller], patient: Patient
) -> None:
    marketer = caller_for(Role.MARKETER)
    assert outcome(marketer.get(f"Patient/{patient.public_id}"), 403)["code"] == "forbidden"
    assert outcome(marketer.get("Patient?family=zeb"), 403)["code"] == "forbidden"
    denied = AuditEvent.objects.filter(outcome=AuditOutcome.DENIED, actor=marketer.user)
    assert denied.count() == 2


def test_out_of_scope_needs_break_glass_then_reads_flagged(
    scheduler: FhirCaller, make_patient: Callable[..., Patient], other_location: Any
) -> None:
    outsider = make_patient(family_name="Quennell", primary_location=other_location)
    issue = outcome(scheduler.get(f"Patient/{outsider.public_id}"), 403)
    assert "break-glass" in issue["diagnostics"]
    assert fhir_body(scheduler.get("Patient?family=quennell"), "Bundle")["total"] == 0

    actor = Actor(user=scheduler.user, channel="api")
    break_glass(actor=actor, patient_id=outsider.public_id, reason="Covering for Dr. Lee")
    body = fhir_body(scheduler.get(f"Patient/{outsider.public_id}"), "Patient")
    assert body["id"] == str(outsider.public_id)
    read = AuditEvent.objects.get(action=AuditAction.READ, patient_id=outsider.public_id)
    assert read.is_break_glass is True
    bundle = fhir_body(scheduler.get("Patient?family=quennell"), "Bundle")
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(outsider.public_id)]


def test_integration_role_reads_every_patient(
    caller_for: Callable[..., FhirCaller],
    make_patient: Callable[..., Patient],
    other_location: Any,
) -> None:
    integration = caller_for(Role.INTEGRATION)
    outsider = make_patient(family_name="Quennell", primary_location=other_location)
    assert fhir_body(integration.get(f"Patient/{outsider.public_id}"), "Patient")["id"] == str(
        outsider.public_id
    )
