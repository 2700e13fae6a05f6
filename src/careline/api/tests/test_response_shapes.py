"""The exact JSON of every registry and summary answer, field for field.

The schemas read attributes (``from_attributes`` and ``resolve_*``); these tests pin what a
client receives so that how the schemas are filled can change without the answer changing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from careline.api.tests.helpers import ApiCaller
from careline.patients.models import (
    CommunicationPreference,
    Consent,
    ContactPoint,
    Patient,
    TimelineEvent,
)
from careline.platform.models import BreakGlassAccess
from careline.testing import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 1, 10, 15, 0, tzinfo=dt.UTC)
RECEIVED = "2026-01-02T03:04:05Z"
EHR = {"source_system": "urn:test:ehr", "received_at": RECEIVED}


def instant(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def send(client: Client, caller: ApiCaller, method: str, path: str, body: Any = None) -> Any:
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers=caller.headers,
    )


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def practitioner_ref(practitioner: Any) -> dict[str, Any]:
    return {
        **EHR,
        "public_id": str(practitioner.public_id),
        "name": practitioner.display_name,
        "npi": "1234567893",
    }


@pytest.mark.usefixtures("frozen")
def test_get_patient_answers_exactly_these_fields(
    api_client: Client, scheduler: ApiCaller, patient: Patient, home_location: Any
) -> None:
    pcp = f.PractitionerFactory.create(given_name="Ana", family_name="Lopez")
    patient.primary_care_practitioner = pcp
    patient.address_line, patient.city, patient.state, patient.postal_code = (
        "1 Main St",
        "Boston",
        "MA",
        "02118",
    )
    patient.save()

    body = send(api_client, scheduler, "GET", f"/api/patients/{patient.public_id}").json()

    assert body == {
        "source_system": "careline",
        "received_at": RECEIVED,
        "public_id": str(patient.public_id),
        "mrn": "MRN7000001",
        "name": "Robert Zebrowski",
        "prefix": "",
        "given_names": "Robert",
        "family_name": "Zebrowski",
        "suffix": "",
        "birth_date": "1951-03-14",
        "sex": "male",
        "is_deceased": False,
        "deceased_at": None,
        "language": "",
        "interpreter_needed": False,
        "address": {"line": "1 Main St", "city": "Boston", "state": "MA", "postal_code": "02118"},
        "primary_location": {
            **EHR,
            "public_id": str(home_location.public_id),
            "name": "Harbor Clinic",
        },
        "primary_care_practitioner": practitioner_ref(pcp),
        "updated_at": instant(patient.updated_at),
    }


@pytest.mark.usefixtures("frozen")
def test_search_hits_carry_exactly_these_fields(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    body = send(api_client, scheduler, "POST", "/api/patients/search", {"q": "zebrowski"}).json()

    assert body == [
        {
            "public_id": str(patient.public_id),
            "name": "Robert Zebrowski",
            "birth_date": "1951-03-14",
            "sex": "male",
            "mrn": "MRN7000001",
            "is_deceased": False,
        }
    ]


@pytest.mark.usefixtures("frozen")
def test_writes_answer_exactly_these_fields(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    base = f"/api/patients/{patient.public_id}"
    now = instant(NOW)

    added = send(
        api_client,
        scheduler,
        "POST",
        f"{base}/contact-points",
        {"system": "sms", "value": "617 555 0142"},
    ).json()
    contact = ContactPoint.objects.get()
    corrected = send(
        api_client,
        scheduler,
        "PATCH",
        f"{base}/contact-points/{contact.public_id}",
        {"value": "617-555-0199", "use": "home"},
    ).json()
    preference = send(
        api_client,
        scheduler,
        "PUT",
        f"{base}/communication-preference",
        {"preferred_channel": "email", "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"},
    ).json()
    consent = send(
        api_client, scheduler, "POST", f"{base}/consents", {"purpose": "sms", "status": "active"}
    ).json()
    grant = send(
        api_client, scheduler, "POST", f"{base}/break-glass", {"reason": "Covering the ward"}
    ).json()

    contact_fields = {"public_id": str(contact.public_id), "system": "sms", "rank": 1}
    assert added == {
        "source_system": "careline",
        "received_at": now,
        **contact_fields,
        "value": "+16175550142",
        "use": "",
        "is_active": True,
    }
    assert corrected == {
        "source_system": "careline",
        "received_at": now,
        **contact_fields,
        "value": "+16175550199",
        "use": "home",
        "is_active": True,
    }
    assert CommunicationPreference.objects.filter(patient=patient).exists()
    assert preference == {
        "source_system": "careline",
        "received_at": now,
        "preferred_channel": "email",
        "language": "",
        "quiet_hours_start": "21:00:00",
        "quiet_hours_end": "08:00:00",
        "time_zone": "",
        "updated_at": now,
    }
    assert consent == {
        "source_system": "careline",
        "received_at": now,
        "public_id": str(Consent.objects.get().public_id),
        "purpose": "sms",
        "status": "active",
        "description": "",
        "decided_at": now,
        "expires_on": None,
    }
    access = BreakGlassAccess.objects.get()
    assert grant == {
        "public_id": str(access.public_id),
        "patient_id": str(patient.public_id),
        "expires_at": instant(access.expires_at),
    }


def event_out(event: Any, title: str, detail: str, actor_label: str) -> dict[str, Any]:
    return {
        "source_system": "careline",
        "received_at": RECEIVED,
        "public_id": str(event.public_id),
        "kind": "call",
        "occurred_at": instant(event.occurred_at),
        "title": title,
        "detail": detail,
        "actor_label": actor_label,
    }


@pytest.mark.usefixtures("frozen")
def test_timeline_page_carries_exactly_these_fields(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    f.TimelineEventFactory.create(
        patient=patient, title="Called", detail="About a refill", actor_label="Sam Staff"
    )
    event = TimelineEvent.objects.get()

    body = send(api_client, scheduler, "GET", f"/api/patients/{patient.public_id}/timeline").json()

    assert body == {
        "events": [event_out(event, "Called", "About a refill", "Sam Staff")],
        "next_cursor": None,
    }


def fact(row: Any) -> dict[str, Any]:
    return {
        **EHR,
        "public_id": str(row.public_id),
        "code": row.code,
        "code_system": row.code_system,
        "display": row.display,
        "status": row.status,
        "effective_at": instant(row.effective_at),
    }


@pytest.mark.usefixtures("frozen")
def test_summary_answers_exactly_these_fields(
    api_client: Client, scheduler: ApiCaller, patient: Patient
) -> None:
    pcp = f.PractitionerFactory.create(given_name="Ana", family_name="Lopez")
    patient.primary_care_practitioner = pcp
    patient.language, patient.interpreter_needed = "pl", True
    patient.save()
    contact = f.ContactPointFactory.create(patient=patient)
    consent = f.ConsentFactory.create(patient=patient, expires_on=dt.date(2027, 1, 1))
    coverage = f.CoverageFactory.create(patient=patient, member_id="HHP1", group="G7")
    caregiver = f.RelatedPersonFactory.create(patient=patient, phone="+16175550100")
    need = f.SocialNeedFactory.create(patient=patient, note="No car")
    member = f.CareTeamMemberFactory.create(patient=patient, practitioner=pcp)
    allergy = f.AllergyFactory.create(
        patient=patient, category="medication", reactions="Hives", verification_status="confirmed"
    )
    condition = f.ConditionFactory.create(patient=patient, category="problem-list-item")
    medication = f.MedicationRequestFactory.create(patient=patient, dosage="1 tablet")
    immunization = f.ImmunizationFactory.create(patient=patient)
    vital = f.ObservationFactory.create(patient=patient)
    location = f.LocationFactory.create(name="Hilltop")
    encounter = f.EncounterFactory.create(patient=patient, practitioner=pcp, location=location)
    procedure = f.ProcedureFactory.create(patient=patient)
    plan = f.CarePlanFactory.create(patient=patient, activities=[{"detail": "walk"}])
    event = f.TimelineEventFactory.create(patient=patient)

    body = send(api_client, scheduler, "GET", f"/api/patients/{patient.public_id}/summary").json()

    allergy_out = {
        **fact(allergy),
        "category": "medication",
        "criticality": "high",
        "reactions": "Hives",
        "verification_status": "confirmed",
    }
    caregiver_out = {
        **EHR | {"source_system": "careline"},
        "public_id": str(caregiver.public_id),
        "name": "Mary Jones",
        "relationship": "Caregiver",
        "phone": "+16175550100",
        "email": "",
        "is_proxy": False,
        "is_emergency_contact": False,
        "note": "",
    }
    coverage_out = {
        **EHR | {"source_system": "careline"},
        "public_id": str(coverage.public_id),
        "payer": "Harbor Health Plan",
        "plan": "PPO",
        "member_id": "HHP1",
        "group": "G7",
        "relationship": "",
        "status": "active",
        "start_date": "2024-01-01",
        "end_date": None,
        "is_current": True,
    }
    assert set(body) == {
        "patient_id",
        "is_break_glass",
        "banner",
        "contact_points",
        "communication_preference",
        "consents",
        "current_consents",
        "coverages",
        "primary_care_practitioner",
        "care_team",
        "clinical",
        "appointments",
        "timeline",
    }
    assert body["appointments"] == {"upcoming": [], "missed": [], "waitlist": []}
    assert (body["patient_id"], body["is_break_glass"]) == (str(patient.public_id), False)
    assert body["banner"] == {
        "source_system": "careline",
        "received_at": RECEIVED,
        "public_id": str(patient.public_id),
        "name": "Robert Zebrowski",
        "age": 74,
        "birth_date": "1951-03-14",
        "sex": "male",
        "mrn": "MRN7000001",
        "is_deceased": False,
        "deceased_at": None,
        "language": "pl",
        "interpreter_needed": True,
        "allergies": [allergy_out],
        "allergy_state": "allergies",
        "no_known_allergies": [],
        "has_current_coverage": True,
        "transport_need": {
            **EHR | {"source_system": "careline"},
            "public_id": str(need.public_id),
            "category": "transportation",
            "note": "No car",
            "identified_at": None,
        },
        "caregivers": [caregiver_out],
    }
    assert body["contact_points"] == [
        {
            **EHR | {"source_system": "careline"},
            "public_id": str(contact.public_id),
            "system": "phone",
            "value": "+16175550142",
            "use": "mobile",
            "rank": 1,
            "is_active": True,
        }
    ]
    assert body["communication_preference"] is None
    consent_out = {
        **EHR | {"source_system": "careline"},
        "public_id": str(consent.public_id),
        "purpose": "sms",
        "status": "active",
        "description": "",
        "decided_at": RECEIVED,
        "expires_on": "2027-01-01",
    }
    assert body["consents"] == [consent_out]
    assert body["current_consents"] == [
        {"purpose": "sms", "state": "active", "is_given": True, "consent": consent_out}
    ]
    assert body["coverages"] == [coverage_out]
    assert body["primary_care_practitioner"] == practitioner_ref(pcp)
    assert body["care_team"] == [
        {
            **EHR | {"source_system": "careline"},
            "public_id": str(member.public_id),
            "role": "Primary care physician",
            "practitioner": practitioner_ref(pcp),
            "staff_name": None,
        }
    ]
    clinical = body["clinical"]
    assert clinical == {
        "allergies": [allergy_out],
        "active_conditions": [
            {
                **fact(condition),
                "verification_status": "",
                "category": "problem-list-item",
                "abated_at": None,
            }
        ],
        "resolved_conditions": [],
        "medications": [
            {**fact(medication), "intent": "order", "dosage": "1 tablet", "requester": ""}
        ],
        "immunizations": [fact(immunization)],
        "latest_vitals": [
            {
                **fact(vital),
                "category": "vital-signs",
                "value": "72 /min",
                "value_number": 72.0,
                "value_unit": "/min",
                "value_text": "",
                "interpretation": "",
            }
        ],
        "latest_labs": [],
        "encounters": [
            {
                **fact(encounter),
                "encounter_class": "AMB",
                "ended_at": None,
                "reason": "",
                "practitioner_name": "Dr. Ana Lopez",
                "location_name": "Hilltop",
            }
        ],
        "procedures": [{**fact(procedure), "ended_at": None}],
        "care_plans": [
            {**fact(plan), "intent": "plan", "ended_at": None, "activities": [{"detail": "walk"}]}
        ],
    }
    assert body["timeline"] == {
        "events": [event_out(event, "Inbound call", "", "")],
        "next_cursor": None,
    }
