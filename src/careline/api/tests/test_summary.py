"""The 360 summary: what it says, where each fact came from, one audited read, and a query
count that does not grow with the patient's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careline.api.tests.helpers import ApiCaller
from careline.patients.models import Patient
from careline.platform.models import AuditEvent
from careline.platform.permissions import ROLE_PERMISSIONS, Permission, Role
from careline.testing import factories as f

TODAY = dt.datetime(2026, 1, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def full_patient(patient: Patient) -> Patient:
    """Mr. Zebrowski with something in every section of the summary."""
    pcp = f.PractitionerFactory.create(given_name="Ana", family_name="Lopez")
    patient.primary_care_practitioner = pcp
    patient.language, patient.interpreter_needed = "pl", True
    patient.save(update_fields=["primary_care_practitioner", "language", "interpreter_needed"])
    f.ContactPointFactory.create(patient=patient, value="+16175550142")
    f.ConsentFactory.create(patient=patient, purpose="sms", status="active")
    f.CoverageFactory.create(patient=patient, payer="Harbor Health Plan")
    f.CoverageFactory.create(patient=patient, payer="Old Plan", end_date=dt.date(2023, 12, 31))
    f.RelatedPersonFactory.create(
        patient=patient, name="Mary Zebrowski", note="Drives him; reliable"
    )
    f.RelatedPersonFactory.create(patient=patient, name="Neighbour", is_caregiver=False)
    f.SocialNeedFactory.create(patient=patient, note="No car")
    f.CareTeamMemberFactory.create(patient=patient, practitioner=pcp)
    f.AllergyFactory.create(patient=patient)
    f.ConditionFactory.create(patient=patient)
    f.ConditionFactory.create(
        patient=patient, code="38341003", display="Hypertension", status="resolved"
    )
    f.MedicationRequestFactory.create(patient=patient)
    f.ImmunizationFactory.create(patient=patient)
    f.ObservationFactory.create(
        patient=patient, value_number=80, effective_at=TODAY - dt.timedelta(9)
    )
    f.ObservationFactory.create(
        patient=patient, value_number=64, effective_at=TODAY - dt.timedelta(1)
    )
    f.ObservationFactory.create(
        patient=patient,
        category="laboratory",
        code="4548-4",
        display="Hemoglobin A1c",
        value_number=7.1,
        value_unit="%",
    )
    f.EncounterFactory.create(patient=patient)
    f.ProcedureFactory.create(patient=patient)
    f.CarePlanFactory.create(patient=patient)
    f.TimelineEventFactory.create(patient=patient, title="Called about a refill")
    return patient


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def get_summary(client: Client, caller: ApiCaller, patient: Patient) -> Any:
    return client.get(f"/api/patients/{patient.public_id}/summary", headers=caller.headers)


@pytest.mark.usefixtures("today")
def test_summary_answers_the_schedulers_questions(
    api_client: Client, scheduler: ApiCaller, full_patient: Patient
) -> None:
    response = get_summary(api_client, scheduler, full_patient)

    assert response.status_code == 200
    body = response.json()
    banner = body["banner"]
    assert (banner["name"], banner["age"], banner["sex"], banner["mrn"]) == (
        "Robert Zebrowski",
        74,
        "male",
        "MRN7000001",
    )
    assert (banner["language"], banner["interpreter_needed"], banner["is_deceased"]) == (
        "pl",
        True,
        False,
    )
    assert [a["display"] for a in banner["allergies"]] == ["Allergy to iodinated contrast media"]
    assert banner["transport_need"]["note"] == "No car"
    assert [c["name"] for c in banner["caregivers"]] == ["Mary Zebrowski"]
    assert banner["has_current_coverage"] is True
    assert {c["payer"]: c["is_current"] for c in body["coverages"]} == {
        "Harbor Health Plan": True,
        "Old Plan": False,
    }
    assert [c["value"] for c in body["contact_points"]] == ["+16175550142"]
    assert [c["purpose"] for c in body["consents"]] == ["sms"]
    assert body["primary_care_practitioner"]["name"] == "Dr. Ana Lopez"
    assert body["care_team"][0]["practitioner"]["name"] == "Dr. Ana Lopez"
    clinical = body["clinical"]
    assert [c["display"] for c in clinical["active_conditions"]] == ["Diabetes mellitus type 2"]
    assert [c["display"] for c in clinical["resolved_conditions"]] == ["Hypertension"]
    assert [v["value"] for v in clinical["latest_vitals"]] == ["64 /min"]
    assert [v["value"] for v in clinical["latest_labs"]] == ["7.1 %"]
    for section in ("medications", "immunizations", "encounters", "procedures", "care_plans"):
        assert len(clinical[section]) == 1, section
    assert [e["title"] for e in body["timeline"]["events"]] == ["Called about a refill"]
    assert body["is_break_glass"] is False


def facts_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in the answer that stands for a stored fact (it has a public id)."""
    if isinstance(value, dict):
        if "public_id" in value:
            yield value
        for item in value.values():
            yield from facts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from facts_in(item)


def keys_in(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from keys_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_in(item)


@pytest.mark.usefixtures("today")
def test_every_fact_says_where_it_came_from_and_no_integer_ids_leave(
    api_client: Client, scheduler: ApiCaller, full_patient: Patient
) -> None:
    body = get_summary(api_client, scheduler, full_patient).json()

    facts = list(facts_in(body))
    # each row of full_patient the summary shows, the patient included; the one consent twice
    # (all consents, and the current one per purpose)
    assert len(facts) == 23
    for fact in facts:
        assert fact["source_system"], fact
        assert dt.datetime.fromisoformat(fact["received_at"]).tzinfo is not None, fact
    assert body["communication_preference"] is None
    for key, value in keys_in(body):
        assert key not in {"id", "pk", "ssn"}
        if key.endswith("_id"):
            assert not isinstance(value, int), key
    assert "123-45-6789" not in str(body)


def test_summary_is_checked_and_audited_once(
    api_client: Client, scheduler: ApiCaller, full_patient: Patient
) -> None:
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()

    get_summary(api_client, scheduler, full_patient)

    events = list(AuditEvent.objects.filter(sequence__gt=last or 0))
    assert [(e.action, e.resource_type, e.patient_id) for e in events] == [
        ("read", "Patient", full_patient.public_id)
    ]


def test_without_clinical_permission_the_clinical_half_is_null(
    api_client: Client,
    caller_for: Callable[..., ApiCaller],
    full_patient: Patient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        ROLE_PERMISSIONS,
        Role.MARKETER,
        frozenset({Permission.VIEW_PATIENT, Permission.ACCESS_ALL_PATIENTS}),
    )
    marketer = caller_for(Role.MARKETER)

    response = get_summary(api_client, marketer, full_patient)

    assert response.status_code == 200
    body = response.json()
    assert body["clinical"] is None
    assert body["banner"]["allergies"] is None  # unknown to this caller, not "no allergies"
    assert "iodinated" not in response.content.decode()


def make_history(patient: Patient, *, encounters: int, observations: int) -> None:
    f.EncounterFactory.create_batch(encounters, patient=patient)
    for number in range(observations):
        f.ObservationFactory.create(
            patient=patient,
            code=f"code-{number % 7}",
            category="vital-signs" if number % 2 else "laboratory",
        )
    f.TimelineEventFactory.create_batch(encounters, patient=patient)


def test_query_count_does_not_grow_with_history(
    api_client: Client,
    caller_for: Callable[..., ApiCaller],
    home_location: Any,
    django_assert_num_queries: Any,
) -> None:
    caller = caller_for(Role.SCHEDULER)
    small = f.PatientFactory.create(primary_location=home_location)
    large = f.PatientFactory.create(primary_location=home_location)
    make_history(small, encounters=1, observations=5)
    make_history(large, encounters=40, observations=400)
    assert get_summary(api_client, caller, small).status_code == 200  # token's first use

    with CaptureQueriesContext(connection) as small_queries:
        small_response = get_summary(api_client, caller, small)
    with django_assert_num_queries(len(small_queries)):
        response = get_summary(api_client, caller, large)

    for answer, patient, encounters in ((small_response, small, 1), (response, large, 10)):
        assert answer.status_code == 200
        body = answer.json()
        assert (body["banner"]["mrn"], len(body["clinical"]["encounters"])) == (
            patient.mrn,
            encounters,
        )
    assert len(small_queries) <= 30
