"""/api/scheduling/waitlist and the staff Waitlist page: answers, the one error shape, and
who may do what (anonymous, a role without the permission, a patient out of scope)."""

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
from careline.scheduling.tests.test_api import error, headers, post
from careline.scheduling.waitlist import engine
from careline.scheduling.waitlist.models import FreedSlot, WaitlistEntry, WaitlistOffer
from careline.testing.factories import LocationFactory, PatientFactory
from careline.testing.scheduling import TUESDAY, Clinic, at

pytestmark = pytest.mark.django_db

BASE = "/api/scheduling/waitlist"


def join_body(clinic: Clinic, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": str(clinic.patient.public_id),
        "visit_type_id": str(clinic.visit_type.public_id),
        "earliest_date": TUESDAY.isoformat(),
        "latest_date": (TUESDAY + dt.timedelta(days=5)).isoformat(),
        "earliest_time": "08:00",
        "priority": 2,
    }
    body.update(changes)
    return body


def offer_to(clinic: Clinic, *patients_waiting: Any) -> list[WaitlistOffer]:
    """Free Tuesday 09:00 and run the round."""
    [appointment] = services.book_appointment(
        **clinic.booking(at(TUESDAY, 9), patient_id=clinic.new_patient().public_id)
    )
    services.cancel_appointment(
        actor=clinic.actor, appointment_id=appointment.public_id, reason="provider"
    )
    engine.run_offer_round(freed_slot_id=FreedSlot.objects.get().public_id)
    return list(WaitlistOffer.objects.order_by("pk"))


def test_join_answers_201_and_lists_the_entry(clinic: Clinic) -> None:
    response = post(BASE, join_body(clinic), headers(clinic))
    assert response.status_code == 201, response.content
    entry = WaitlistEntry.objects.get()
    assert response.json()["public_id"] == str(entry.public_id)
    assert (response.json()["status"], response.json()["priority"]) == ("active", 2)
    assert AuditEvent.objects.filter(resource_type="WaitlistEntry", action="create").count() == 1
    assert TimelineEvent.objects.filter(patient=clinic.patient, title__startswith="Joined").exists()
    listed = Client().get(BASE, headers=headers(clinic))
    assert listed.status_code == 200
    assert [row["public_id"] for row in listed.json()] == [str(entry.public_id)]
    assert listed.json()[0]["offers"] == []


def test_join_refusals_keep_the_error_shape(clinic: Clinic) -> None:
    auth = headers(clinic)
    backwards = post(BASE, join_body(clinic, latest_date="2026-06-01"), auth)
    assert backwards.status_code == 422
    assert error(backwards)["details"] == [
        {"loc": ["body", "latest_date"], "msg": "latest_date must be on or after earliest_date."}
    ]
    assert post(BASE, join_body(clinic), auth).status_code == 201
    twice = post(BASE, join_body(clinic), auth)
    assert (twice.status_code, error(twice)["code"]) == (409, "conflict")
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    young_patient = clinic.new_patient(birth_date=dt.date(2000, 1, 1))
    young = post(BASE, join_body(clinic, patient_id=str(young_patient.public_id)), auth)
    assert young.status_code == 422
    assert error(young)["details"]["rule"] == "visit_type.min_age"
    garbage = post(BASE, join_body(clinic, earliest_time="25:99"), auth)
    assert garbage.status_code == 422


def test_accept_answers_201_then_a_second_acceptance_409_slot_taken(clinic: Clinic) -> None:
    other = clinic.new_patient()
    auth = headers(clinic)
    assert post(BASE, join_body(clinic), auth).status_code == 201
    assert post(BASE, join_body(clinic, patient_id=str(other.public_id)), auth).status_code == 201
    first, second = offer_to(clinic)
    offers = Client().get(f"{BASE}/patients/{clinic.patient.public_id}/offers", headers=auth)
    assert [row["offer_id"] for row in offers.json()] == [str(first.public_id)]
    accepted = post(f"{BASE}/offers/{first.public_id}/accept", {}, auth)
    assert accepted.status_code == 201, accepted.content
    appointment = Appointment.objects.get(status="booked")
    assert accepted.json()["appointment_id"] == str(appointment.public_id)
    late = post(f"{BASE}/offers/{second.public_id}/accept", {}, auth)
    assert (late.status_code, error(late)["code"]) == (409, "slot_taken")
    again = post(f"{BASE}/offers/{first.public_id}/decline", {}, auth)
    assert again.status_code == 409


def test_decline_and_remove(clinic: Clinic) -> None:
    auth = headers(clinic)
    assert post(BASE, join_body(clinic), auth).status_code == 201
    [offer] = offer_to(clinic)
    declined = post(f"{BASE}/offers/{offer.public_id}/decline", {}, auth)
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    entry = WaitlistEntry.objects.get()
    removed = post(f"{BASE}/{entry.public_id}/remove", {"reason": "no_longer_needed"}, auth)
    assert (removed.status_code, removed.json()["removed_reason"]) == (200, "no_longer_needed")
    wrong = post(f"{BASE}/{entry.public_id}/remove", {"reason": "bored"}, auth)
    assert wrong.status_code == 422


def test_authorization_matrix(clinic: Clinic) -> None:
    anonymous = Client().post(BASE, join_body(clinic), content_type="application/json")
    assert anonymous.status_code == 401
    marketer = post(BASE, join_body(clinic), headers(clinic, Role.MARKETER))
    assert marketer.status_code == 403
    stranger = PatientFactory.create(primary_location=LocationFactory.create())
    out_of_scope = post(
        BASE, join_body(clinic, patient_id=str(stranger.public_id)), headers(clinic)
    )
    assert (out_of_scope.status_code, error(out_of_scope)["code"]) == (403, "break_glass_required")
    missing = post(
        f"{BASE}/offers/00000000-0000-4000-8000-000000000000/accept", {}, headers(clinic)
    )
    assert missing.status_code == 404
    assert not WaitlistEntry.objects.exists()
    listed = Client().get(BASE, headers=headers(clinic, Role.MARKETER))
    assert listed.status_code == 403


def test_the_list_shows_only_patients_in_scope(clinic: Clinic) -> None:
    assert post(BASE, join_body(clinic), headers(clinic)).status_code == 201
    elsewhere = clinic.user()
    elsewhere.locations.set([LocationFactory.create()])
    listed = Client().get(BASE, headers=_token(elsewhere))
    assert listed.json() == []


def _token(user: Any) -> dict[str, str]:
    issued = issue_api_token(actor=Actor.system("test"), user=user, name="token")
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
def staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def test_the_staff_page_lists_offers_and_adds_a_patient(
    clinic: Clinic, staff_without_mfa: None
) -> None:
    client = Client()
    client.force_login(clinic.scheduler)
    assert post(BASE, join_body(clinic), headers(clinic)).status_code == 201
    offer_to(clinic)
    page = client.get("/waitlist/")
    assert page.status_code == 200, page.get("Location")
    html = page.content.decode()
    assert clinic.patient.display_name in html
    assert "Waiting for an answer" in html and "Accept for the patient" in html
    added = client.post(
        "/waitlist/add/",
        {
            "patient_id": str(clinic.new_patient().public_id),
            "visit_type_id": str(clinic.visit_type.public_id),
            "earliest_date": "2026-06-02",
            "latest_date": "2026-06-09",
            "priority": "3",
        },
    )
    assert added.status_code == 302
    assert WaitlistEntry.objects.count() == 2
    refused = client.post(
        "/waitlist/add/",
        {
            "patient_id": str(clinic.new_patient().public_id),
            "visit_type_id": str(clinic.visit_type.public_id),
            "earliest_date": "2026-06-09",
            "latest_date": "2026-06-02",
            "priority": "3",
        },
    )
    assert refused.status_code == 422
    assert "latest_date must be on or after earliest_date." in refused.content.decode()


def test_the_staff_page_refuses_a_role_without_the_permission(
    clinic: Clinic, staff_without_mfa: None
) -> None:
    client = Client()
    client.force_login(clinic.user(Role.MARKETER))
    assert client.get("/waitlist/").status_code == 403
    assert Client().get("/waitlist/").status_code == 302  # anonymous: to the login page
