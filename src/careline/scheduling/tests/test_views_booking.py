"""The Schedule page: search, hold, safety screen, book; refusals named; the page and the API
answer the same slots and the same refusal for the same input (one rule, one place)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import configuration
from careline.scheduling.models import Appointment, AppointmentStatus, Hold
from careline.testing.factories import LocationFactory, PatientFactory, UserFactory
from careline.testing.scheduling import TUESDAY, Clinic, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


def _signed_in(client: Client, clinic: Clinic) -> Client:
    client.force_login(clinic.scheduler)
    return client


def _search(clinic: Clinic, **extra: str) -> dict[str, str]:
    return {
        "patient": str(clinic.patient.public_id),
        "visit_type": str(clinic.visit_type.public_id),
        "date_from": "2026-06-02",
        "date_to": "2026-06-02",
        **extra,
    }


def _slot(clinic: Clinic, starts_at: dt.datetime) -> dict[str, str]:
    return {
        "patient": str(clinic.patient.public_id),
        "visit_type": str(clinic.visit_type.public_id),
        "practitioner": str(clinic.practitioner.public_id),
        "location": str(clinic.location.public_id),
        "starts_at": starts_at.astimezone(dt.UTC).isoformat(),
    }


def test_anonymous_is_sent_to_sign_in(client: Client, clinic: Clinic) -> None:
    response = client.get(reverse("scheduling:schedule"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_role_without_booking_gets_403_audited(client: Client, clinic: Clinic) -> None:
    marketer = UserFactory.create(role=Role.MARKETER)
    client.force_login(marketer)
    response = client.get(reverse("scheduling:schedule"))
    assert response.status_code == 403
    denied = AuditEvent.objects.filter(actor=marketer, action="access_denied").get()
    assert denied.details == {"permission": "scheduling.book_appointment"}


def test_the_page_lists_the_next_free_slots(client: Client, clinic: Clinic) -> None:
    response = _signed_in(client, clinic).get(reverse("scheduling:schedule"), _search(clinic))
    assert response.status_code == 200
    slots = response.context["options"]
    assert [option.local_start.strftime("%H:%M") for option in slots[:3]] == [
        "09:00",
        "09:15",
        "09:30",
    ]
    assert len(slots) == 20
    assert response.context["patient"].public_id == clinic.patient.public_id


def test_a_form_error_is_shown_at_its_field(client: Client, clinic: Clinic) -> None:
    response = _signed_in(client, clinic).get(
        reverse("scheduling:schedule"), _search(clinic, date_from="2026-06-05")
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"date_to": ["The last day is before the first."]}
    assert response.context["options"] is None


def test_a_refusing_criterion_is_named(client: Client, clinic: Clinic) -> None:
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    response = _signed_in(client, clinic).get(reverse("scheduling:schedule"), _search(clinic))
    assert response.status_code == 200
    assert response.context["refusal"].code == "rule_violation"
    assert response.context["refusal"].details["rule"] == "visit_type.min_age"


def test_hold_then_book_in_one_click(client: Client, clinic: Clinic) -> None:
    client = _signed_in(client, clinic)
    held = client.post(reverse("scheduling:hold"), _slot(clinic, at(TUESDAY, 9)))
    assert held.status_code == 200
    hold = Hold.objects.get()
    booked = client.post(
        reverse("scheduling:book"), {**_slot(clinic, at(TUESDAY, 9)), "hold": str(hold.public_id)}
    )
    appointment = Appointment.objects.get()
    assert booked.status_code == 302
    assert booked["Location"] == reverse("scheduling:appointment", args=[appointment.public_id])
    assert appointment.starts_at == at(TUESDAY, 9)
    assert appointment.status == AppointmentStatus.BOOKED
    assert not Hold.objects.exists()


def test_a_taken_slot_shows_fresh_options(client: Client, clinic: Clinic) -> None:
    other = clinic.new_patient(birth_date=dt.date(1990, 1, 1))
    from careline.scheduling.services import book_appointment

    book_appointment(**clinic.booking(at(TUESDAY, 9), patient_id=other.public_id))
    response = _signed_in(client, clinic).post(
        reverse("scheduling:hold"), _slot(clinic, at(TUESDAY, 9))
    )
    assert response.status_code == 409
    assert response.context["error"].code == "slot_taken"
    assert [o.local_start.strftime("%H:%M") for o in response.context["options"]] == [
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
    ]


def test_the_safety_screen_is_asked_and_a_yes_stops_booking(client: Client, clinic: Clinic) -> None:
    configuration.create_red_flag_list(
        actor=clinic.actor_for(UserFactory.create(role=Role.ADMIN)),
        code="contrast",
        name="Contrast safety",
        questions=[{"code": "kidney", "text": "Kidney disease?"}],
        advice="Call the nurse line.",
    )
    clinic.visit_type.requires_safety_screen = True
    clinic.visit_type.safety_screen_code = "contrast"
    clinic.visit_type.save()
    client = _signed_in(client, clinic)
    held = client.post(reverse("scheduling:hold"), _slot(clinic, at(TUESDAY, 9)))
    assert held.status_code == 200
    assert b"Kidney disease?" in held.content
    hold = Hold.objects.get()
    form = {**_slot(clinic, at(TUESDAY, 9)), "hold": str(hold.public_id)}
    unanswered = client.post(reverse("scheduling:book"), form)
    assert unanswered.status_code == 422
    assert unanswered.context["error"].code == "safety_screen_required"
    positive = client.post(reverse("scheduling:book"), {**form, "screen_kidney": "yes"})
    assert positive.status_code == 422
    assert positive.context["error"].message == "Call the nurse line."
    assert not Appointment.objects.exists()
    booked = client.post(reverse("scheduling:book"), {**form, "screen_kidney": "no"})
    assert booked.status_code == 302
    assert Appointment.objects.get().safety_screen == {
        "list": "contrast",
        "answers": {"kidney": False},
    }


def test_overbook_needs_the_permission(client: Client, clinic: Clinic) -> None:
    response = _signed_in(client, clinic).post(
        reverse("scheduling:overbook"), {**_slot(clinic, at(TUESDAY, 9)), "overbook_reason": "x"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        actor=clinic.scheduler, action="access_denied", resource_type="Appointment"
    ).exists()


def test_a_nurse_overbooks_a_taken_time_with_a_reason(client: Client, clinic: Clinic) -> None:
    from careline.scheduling.services import book_appointment

    other = clinic.new_patient(birth_date=dt.date(1990, 1, 1))
    book_appointment(**clinic.booking(at(TUESDAY, 9), patient_id=other.public_id))
    nurse = clinic.user(Role.NURSE)
    client.force_login(nurse)
    slot = {**_slot(clinic, at(TUESDAY, 9)), "overbook_reason": "Urgent, seen by the doctor"}
    confirm = client.post(reverse("scheduling:overbook"), slot)
    assert confirm.status_code == 200
    booked = client.post(reverse("scheduling:book"), slot)
    assert booked.status_code == 302
    overbooked = Appointment.objects.get(patient=clinic.patient)
    assert overbooked.is_overbook is True
    assert overbooked.overbook_reason == "Urgent, seen by the doctor"


def test_the_page_and_the_api_give_the_same_slots_and_refusal(
    client: Client, clinic: Clinic
) -> None:
    client = _signed_in(client, clinic)
    page = client.get(reverse("scheduling:schedule"), _search(clinic))
    api = client.get(
        "/api/scheduling/slots",
        {**_search(clinic), "limit": "20"},
    )
    assert api.status_code == 200
    assert [(o["starts_at"], o["practitioner_id"]) for o in api.json()] == [
        (o.starts_at.isoformat().replace("+00:00", "Z"), str(o.practitioner_id))
        for o in page.context["options"]
    ]
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    page = client.get(reverse("scheduling:schedule"), _search(clinic))
    api = client.get("/api/scheduling/slots", _search(clinic))
    assert api.status_code == 422
    assert api.json()["error"]["code"] == page.context["refusal"].code
    assert api.json()["error"]["message"] == page.context["refusal"].message


def test_the_patient_picker_lists_matches_with_booking_links(
    client: Client, clinic: Clinic
) -> None:
    PatientFactory.create(
        given_names="Zelda",
        family_name="Quimby",
        search_name="zelda quimby",
        primary_location=LocationFactory.create(),
    )
    response = _signed_in(client, clinic).post(
        reverse("scheduling:patient_picker"), {"q": "zelda quim"}
    )
    assert response.status_code == 200
    assert [hit.display_name for hit in response.context["hits"]] == ["Zelda Quimby"]
    assert b"/schedule/?patient=" in response.content


def test_choosing_a_patient_starts_an_unbound_search_for_her(
    client: Client, clinic: Clinic
) -> None:
    response = _signed_in(client, clinic).get(
        reverse("scheduling:schedule"), {"patient": str(clinic.patient.public_id)}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.is_bound is False
    assert form["patient"].value() == str(clinic.patient.public_id)
    assert form["date_from"].value() == dt.date(2026, 6, 1)
