"""/api/scheduling/: answers and their shapes (201, 409 with fresh options, 422 naming the rule),
and who may do what (anonymous, a role without the permission, a patient out of scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from careline.patients.models import TimelineEvent
from careline.platform.actors import Actor
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.scheduling import services
from careline.scheduling.models import Appointment
from careline.testing.factories import LocationFactory, PatientFactory
from careline.testing.scheduling import TUESDAY, Clinic, at

pytestmark = pytest.mark.django_db


def headers(clinic: Clinic, role: str = Role.SCHEDULER) -> dict[str, str]:
    user = clinic.scheduler if role == Role.SCHEDULER else clinic.user(role)
    issued = issue_api_token(actor=Actor.system("test"), user=user, name="token")
    return {"Authorization": f"Bearer {issued.secret}"}


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    result: dict[str, Any] = body["error"]
    return result


def booking_body(clinic: Clinic, starts_at: dt.datetime, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": str(clinic.patient.public_id),
        "visit_type_id": str(clinic.visit_type.public_id),
        "practitioner_id": str(clinic.practitioner.public_id),
        "location_id": str(clinic.location.public_id),
        "starts_at": starts_at.isoformat(),
    }
    body.update(changes)
    return body


def post(path: str, body: dict[str, Any], auth: dict[str, str]) -> Any:
    return Client().post(path, body, content_type="application/json", headers=auth)


def test_book_answers_201_with_the_appointment(clinic: Clinic) -> None:
    response = post(
        "/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9)), headers(clinic)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get()
    assert body["appointment"] == {
        "public_id": str(appointment.public_id),
        "patient_id": str(clinic.patient.public_id),
        "visit_type_id": str(clinic.visit_type.public_id),
        "practitioner_id": str(clinic.practitioner.public_id),
        "location_id": str(clinic.location.public_id),
        "starts_at": "2026-06-02T13:00:00Z",
        "ends_at": "2026-06-02T13:30:00Z",
        "status": "booked",
        "is_new_patient": True,
        "is_overbook": False,
        "cancel_reason": "",
        "series_id": None,
        "rescheduled_from_id": None,
    }
    assert body["series"] == [body["appointment"]]


def test_a_taken_slot_answers_409_with_fresh_options(clinic: Clinic) -> None:
    auth = headers(clinic)
    post("/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9)), auth)
    other = clinic.new_patient()
    response = post(
        "/api/scheduling/appointments",
        booking_body(clinic, at(TUESDAY, 9), patient_id=str(other.public_id)),
        auth,
    )
    assert response.status_code == 409
    refusal = error(response)
    assert (refusal["code"], refusal["message"]) == (
        "slot_taken",
        "That time was just taken. Pick another slot.",
    )
    assert [option["starts_at"] for option in refusal["details"]["options"]] == [
        "2026-06-02T13:30:00Z",
        "2026-06-02T13:45:00Z",
        "2026-06-02T14:00:00Z",
        "2026-06-02T14:15:00Z",
        "2026-06-02T14:30:00Z",
    ]
    assert Appointment.objects.count() == 1


def test_a_rule_answers_422_naming_it(clinic: Clinic) -> None:
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    response = post(
        "/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9)), headers(clinic)
    )
    assert response.status_code == 422
    refusal = error(response)
    assert refusal["code"] == "rule_violation"
    assert refusal["details"]["rule"] == "visit_type.min_age"
    assert refusal["details"]["violations"] == [
        {
            "rule": "visit_type.min_age",
            "message": "Follow-up visit is for patients aged 65 or older.",
            "rule_id": None,
        }
    ]


def test_a_time_off_the_grid_answers_422_slot_not_offered(clinic: Clinic) -> None:
    response = post(
        "/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9, 7)), headers(clinic)
    )
    assert (response.status_code, error(response)["code"]) == (422, "slot_not_offered")
    naive = {**booking_body(clinic, at(TUESDAY, 9)), "starts_at": "2026-06-02T09:00:00"}
    response = post("/api/scheduling/appointments", naive, headers(clinic))
    assert (response.status_code, error(response)["code"]) == (422, "validation_failed")


def test_search_reschedule_cancel_and_status_through_the_api(clinic: Clinic) -> None:
    auth = headers(clinic)
    client = Client()
    query: dict[str, Any] = {
        "visit_type": str(clinic.visit_type.public_id),
        "patient": str(clinic.patient.public_id),
        "location": [str(clinic.location.public_id)],
        "date_from": "2026-06-02",
        "date_to": "2026-06-03",
        "limit": 2,
    }
    slots = client.get("/api/scheduling/slots", query, headers=auth)
    assert slots.status_code == 200, slots.content
    assert [(s["starts_at"], s["local_start"], s["practitioner_name"]) for s in slots.json()] == [
        ("2026-06-02T13:00:00Z", "2026-06-02T09:00:00-04:00", "Dr. Ana Lopez"),
        ("2026-06-02T13:15:00Z", "2026-06-02T09:15:00-04:00", "Dr. Ana Lopez"),
    ]
    booked = post("/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9)), auth).json()
    appointment_id = booked["appointment"]["public_id"]
    moved = post(
        f"/api/scheduling/appointments/{appointment_id}/reschedule",
        {"starts_at": at(TUESDAY, 10).isoformat(), "reason": "provider"},
        auth,
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["rescheduled_from_id"] == appointment_id
    new_id = moved.json()["public_id"]
    arrived = post(f"/api/scheduling/appointments/{new_id}/arrived", {}, auth)
    assert arrived.json()["status"] == "arrived"
    cancel = post(f"/api/scheduling/appointments/{new_id}/cancel", {"reason": "patient"}, auth)
    assert (cancel.status_code, error(cancel)["code"]) == (409, "conflict")
    got = client.get(f"/api/scheduling/appointments/{appointment_id}", headers=auth)
    assert (got.json()["status"], got.json()["cancel_reason"]) == ("cancelled", "provider")
    types = client.get("/api/scheduling/visit-types", headers=auth).json()
    assert [t["code"] for t in types] == [clinic.visit_type.code]


def test_hold_then_release(clinic: Clinic) -> None:
    auth = headers(clinic)
    body = booking_body(clinic, at(TUESDAY, 9))
    held = post("/api/scheduling/holds", body, auth)
    assert held.status_code == 201, held.content
    assert held.json()["expires_at"] == "2026-06-01T12:05:00Z"
    again = post(
        "/api/scheduling/holds",
        booking_body(clinic, at(TUESDAY, 9), patient_id=str(clinic.new_patient().public_id)),
        auth,
    )
    assert (again.status_code, error(again)["code"]) == (409, "slot_taken")
    released = Client().delete(f"/api/scheduling/holds/{held.json()['public_id']}", headers=auth)
    assert released.status_code == 204
    assert post("/api/scheduling/holds", body, auth).status_code == 201


def test_anonymous_gets_401(clinic: Clinic) -> None:
    response = post("/api/scheduling/appointments", booking_body(clinic, at(TUESDAY, 9)), {})
    assert (response.status_code, error(response)["code"]) == (401, "not_authenticated")
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "path", "method"),
    [
        (Role.MARKETER, "/api/scheduling/appointments", "post"),
        (Role.MARKETER, "/api/scheduling/slots", "get"),
        (Role.CARE_MANAGER, "/api/scheduling/appointments/{id}/arrived", "post"),
        (Role.SCHEDULER, "/api/scheduling/appointments", "post-overbook"),
    ],
)
def test_a_role_without_the_permission_gets_403_and_nothing_changes(
    clinic: Clinic, role: str, path: str, method: str
) -> None:
    [existing] = services.book_appointment(**clinic.booking(at(TUESDAY, 11)))
    auth = headers(clinic, role)
    before = (Appointment.objects.count(), TimelineEvent.objects.count())
    if method == "get":
        response = Client().get(
            path,
            {
                "visit_type": str(clinic.visit_type.public_id),
                "date_from": "2026-06-02",
                "date_to": "2026-06-02",
            },
            headers=auth,
        )
    elif method == "post-overbook":
        response = post(
            path,
            booking_body(
                clinic,
                at(TUESDAY, 11),
                patient_id=str(clinic.new_patient().public_id),
                overbook_reason="Urgent",
            ),
            auth,
        )
    else:
        response = post(
            path.format(id=existing.public_id), booking_body(clinic, at(TUESDAY, 9)), auth
        )
    assert (response.status_code, error(response)["code"]) == (403, "permission_denied")
    assert (Appointment.objects.count(), TimelineEvent.objects.count()) == before
    assert AuditEvent.objects.filter(action="access_denied").count() == 1


def test_a_patient_out_of_scope_needs_break_glass(clinic: Clinic) -> None:
    outside = PatientFactory.create(primary_location=LocationFactory.create())
    response = post(
        "/api/scheduling/appointments",
        booking_body(clinic, at(TUESDAY, 9), patient_id=str(outside.public_id)),
        headers(clinic),
    )
    assert (response.status_code, error(response)["code"]) == (403, "break_glass_required")
    assert Appointment.objects.count() == 0
    unknown = post(
        "/api/scheduling/appointments/00000000-0000-0000-0000-000000000000/cancel",
        {"reason": "patient"},
        headers(clinic),
    )
    assert (unknown.status_code, error(unknown)["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/scheduling/slots", {"date_from": "9999-12-31", "date_to": "9999-12-31"}),
        ("get", "/api/scheduling/slots", {"date_from": "0001-01-01", "date_to": "0001-01-02"}),
        ("get", "/api/scheduling/slots", {"date_from": "2026-06-02", "date_to": "2026-06-01"}),
        ("get", "/api/scheduling/slots", {"date_from": "2026-06-02", "date_to": "2028-06-01"}),
        ("post", "/api/scheduling/appointments", {"starts_at": "9999-12-31T23:59:00+00:00"}),
        ("post", "/api/scheduling/appointments", {"starts_at": "0001-01-01T00:00:00+00:00"}),
        ("post", "/api/scheduling/holds", {"starts_at": "9999-12-31T23:59:00-12:00"}),
    ],
)
def test_extreme_dates_answer_422_not_500(
    clinic: Clinic, method: str, path: str, body: dict[str, Any]
) -> None:
    auth = headers(clinic)
    if method == "get":
        query = {"visit_type": str(clinic.visit_type.public_id), **body}
        response = Client().get(path, query, headers=auth)
    else:
        response = post(path, {**booking_body(clinic, at(TUESDAY, 9)), **body}, auth)
    assert (response.status_code, error(response)["code"]) == (422, "validation_failed")


def test_rescheduling_to_the_end_of_time_answers_422(clinic: Clinic) -> None:
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    response = post(
        f"/api/scheduling/appointments/{appointment.public_id}/reschedule",
        {"starts_at": "9999-12-31T23:00:00+00:00"},
        headers(clinic),
    )
    assert (response.status_code, error(response)["code"]) == (422, "validation_failed")
