"""The day list, arrived / no-show / completed by htmx, cancel with a reason, reschedule,
history; and the set-up pages (administrators), their validation and refusals."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.directory.models import VisitType
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling.models import Appointment, AppointmentStatus, ProviderRule
from careline.scheduling.services import book_appointment
from careline.testing.factories import UserFactory
from careline.testing.scheduling import TUESDAY, Clinic, at

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def booked(clinic: Clinic) -> Appointment:
    return book_appointment(**clinic.booking(at(TUESDAY, 9)))[0]


def test_the_day_list_shows_the_day_and_audits_who_it_listed(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.scheduler)
    response = client.get(
        reverse("scheduling:day"), {"day": "2026-06-02", "location": str(clinic.location.public_id)}
    )
    assert response.status_code == 200
    assert [row.public_id for row in response.context["appointments"]] == [booked.public_id]
    entry = AuditEvent.objects.filter(action="search", resource_type="Appointment").get()
    assert entry.details["patients"] == [str(clinic.patient.public_id)]


def test_the_day_list_refuses_a_bad_day(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    response = client.get(reverse("scheduling:day"), {"day": "June 2nd"})
    assert response.status_code == 422


def test_a_role_without_the_schedule_gets_403_audited(client: Client, clinic: Clinic) -> None:
    marketer = UserFactory.create(role=Role.MARKETER)
    client.force_login(marketer)
    assert client.get(reverse("scheduling:day")).status_code == 403
    assert AuditEvent.objects.filter(actor=marketer, action="access_denied").count() == 1


def test_arrived_by_htmx_swaps_the_row(client: Client, clinic: Clinic, booked: Appointment) -> None:
    client.force_login(clinic.scheduler)
    url = reverse("scheduling:change_status", args=[booked.public_id, "arrived"])
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert b'data-status="arrived"' in response.content
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.ARRIVED


def test_no_show_before_the_start_is_refused_with_the_reason(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.scheduler)
    url = reverse("scheduling:change_status", args=[booked.public_id, "no-show"])
    response = client.post(url, headers=HTMX)
    assert response.status_code == 409
    assert b"only once the visit&#x27;s start has passed" in response.content
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        client.force_login(clinic.scheduler)  # a new session: the old one timed out
        assert client.post(url, headers=HTMX).status_code == 200


def test_a_care_manager_may_not_mark_arrival(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.user(Role.CARE_MANAGER))
    url = reverse("scheduling:change_status", args=[booked.public_id, "arrived"])
    assert client.post(url, headers=HTMX).status_code == 403
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_cancel_with_a_reason_keeps_the_history(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.scheduler)
    response = client.post(
        reverse("scheduling:cancel", args=[booked.public_id]),
        {"reason": "weather", "note": "Snow"},
    )
    assert response.status_code == 302
    page = client.get(reverse("scheduling:appointment", args=[booked.public_id]))
    assert [entry.action for entry in page.context["appointment"].history.all()] == [
        "booked",
        "cancelled",
    ]
    assert b"Weather: Snow" in page.content


def test_cancel_without_a_reason_is_refused(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.scheduler)
    response = client.post(reverse("scheduling:cancel", args=[booked.public_id]), {})
    assert response.status_code == 422
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_reschedule_offers_slots_and_moves(
    client: Client, clinic: Clinic, booked: Appointment
) -> None:
    client.force_login(clinic.scheduler)
    url = reverse("scheduling:reschedule", args=[booked.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert len(page.context["options"]) == 15
    response = client.post(
        url,
        {
            "practitioner": clinic.practitioner.public_id,
            "location": clinic.location.public_id,
            "starts_at": at(TUESDAY, 14).isoformat(),
            "reason": "patient",
        },
    )
    moved = Appointment.objects.get(rescheduled_from=booked)
    assert response.status_code == 302
    assert moved.starts_at == at(TUESDAY, 14)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED


# --- set-up ----------------------------------------------------------------------------------


def _admin(client: Client) -> Client:
    client.force_login(UserFactory.create(role=Role.ADMIN))
    return client


def test_set_up_is_for_administrators(client: Client, clinic: Clinic) -> None:
    client.force_login(clinic.scheduler)
    assert client.get(reverse("scheduling:setup")).status_code == 403
    assert _admin(client).get(reverse("scheduling:setup")).status_code == 200


def test_a_visit_type_is_added_and_edited(client: Client, clinic: Clinic) -> None:
    client = _admin(client)
    form = {
        "code": "flu-shot",
        "name": "Flu shot",
        "duration_minutes": "15",
        "modality": "in_person",
        "patient_status": "any",
        "portal_booking": "self",
        "minimum_notice_minutes": "0",
        "maximum_horizon_days": "90",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "capacity": "1",
        "accepted_payers": "Medicare\nAetna",
        "is_active": "on",
    }
    assert client.post(reverse("scheduling:visit_type_new"), form).status_code == 302
    added = VisitType.objects.get(code="flu-shot")
    assert added.accepted_payers == ["Medicare", "Aetna"]
    edit = reverse("scheduling:visit_type_edit", args=[added.public_id])
    wrong = client.post(edit, {**form, "min_age_years": "70", "max_age_years": "60"})
    assert wrong.status_code == 422
    assert wrong.context["form"].errors == {
        "max_age_years": ["The maximum age is below the minimum age."]
    }
    assert client.post(edit, {**form, "duration_minutes": "10"}).status_code == 302
    added.refresh_from_db()
    assert added.duration_minutes == 10


def test_a_provider_rule_with_a_missing_number_says_what_to_give(
    client: Client, clinic: Clinic
) -> None:
    client = _admin(client)
    form = {
        "practitioner": str(clinic.practitioner.public_id),
        "kind": "max_new_per_session",
        "part_of_day": "any",
        "is_active": "on",
    }
    response = client.post(reverse("scheduling:rule_new"), form)
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "number": ["Give the most new patients per session, 0 to 100."]
    }
    assert client.post(reverse("scheduling:rule_new"), {**form, "number": "2"}).status_code == 302
    rule = ProviderRule.objects.get()
    assert rule.parameters == {"max": 2}
    edit = reverse("scheduling:rule_edit", args=[rule.public_id])
    unticked = {name: value for name, value in form.items() if name != "is_active"}
    assert client.post(edit, {**unticked, "number": "3"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.parameters, rule.is_active) == ({"max": 3}, False)


def test_weekly_hours_with_a_bad_block_line_name_it(client: Client, clinic: Clinic) -> None:
    client = _admin(client)
    form = {
        "practitioner": str(clinic.practitioner.public_id),
        "location": str(clinic.location.public_id),
        "weekdays": ["5"],
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_minutes": "15",
        "effective_from": "2026-06-01",
        "blocks": "lunch 12-1",
    }
    response = client.post(reverse("scheduling:template_new"), form)
    assert response.status_code == 422
    assert response.context["form"].errors["blocks"][0].startswith("Line 1 reads “lunch 12-1”")
    outside = client.post(
        reverse("scheduling:template_new"), {**form, "blocks": "break 13:00-13:30"}
    )
    assert outside.status_code == 422
    assert outside.context["form"].errors == {
        "blocks": ["A block lies inside its session and ends after it starts."]
    }
    ok = client.post(reverse("scheduling:template_new"), {**form, "blocks": "break 10:30-10:45"})
    assert ok.status_code == 302


def test_a_red_flag_list_is_added_from_lines(client: Client, clinic: Clinic) -> None:
    client = _admin(client)
    form = {
        "code": "chest",
        "name": "Chest",
        "questions": "chest_pain: Chest pain now?\nbreath: Short of breath?",
        "advice": "Call 911.",
        "is_active": "on",
    }
    assert client.post(reverse("scheduling:red_flag_new"), form).status_code == 302
    bad = client.post(reverse("scheduling:red_flag_new"), {**form, "code": "x", "questions": "?"})
    assert bad.status_code == 422
    again = client.post(reverse("scheduling:red_flag_new"), form)
    assert again.status_code == 409
    assert again.context["form"].non_field_errors() == ["A red-flag list 'chest' exists already."]


def test_an_exception_in_the_past_order_is_refused(client: Client, clinic: Clinic) -> None:
    client = _admin(client)
    response = client.post(
        reverse("scheduling:exception_new"),
        {"kind": "holiday", "starts_at": "2026-07-04T00:00", "ends_at": "2026-07-03T00:00"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"ends_at": ["The end is not after the start."]}
    ok = client.post(
        reverse("scheduling:exception_new"),
        {"kind": "holiday", "starts_at": "2026-07-03T00:00", "ends_at": "2026-07-04T00:00"},
    )
    assert ok.status_code == 302
