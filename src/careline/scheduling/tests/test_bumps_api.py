"""/api/scheduling/flagged and the Flagged appointments page (/schedule/flagged/): answers,
the one error shape, who may (anonymous, a role without the permission, a scheduler out of
scope), the audit of the listing, and page and API listing the same flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import configuration, services
from careline.scheduling.bumps.models import FlaggedAppointment, FlagStatus
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.tests.test_api import error, headers, post
from careline.testing.factories import LocationFactory, UserFactory
from careline.testing.scheduling import TUESDAY, Clinic, at

pytestmark = pytest.mark.django_db

BASE = "/api/scheduling/flagged"


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def flagged(clinic: Clinic) -> FlaggedAppointment:
    services.book_appointment(**clinic.booking(at(TUESDAY, 10)))
    configuration.add_exception(
        actor=clinic.actor_for(clinic.user(Role.ADMIN)),
        kind="leave",
        starts_at=at(TUESDAY, 9),
        ends_at=at(TUESDAY, 12),
        practitioner_id=clinic.practitioner.public_id,
    )
    return FlaggedAppointment.objects.select_related("appointment").get()


def resolve(flag: FlaggedAppointment, body: dict[str, Any], auth: dict[str, str]) -> Any:
    return post(f"{BASE}/{flag.public_id}/resolve", body, auth)


def test_the_list_answers_the_open_flags(clinic: Clinic, flagged: FlaggedAppointment) -> None:
    response = Client().get(BASE, headers=headers(clinic))
    assert response.status_code == 200
    [row] = response.json()
    visit = flagged.appointment
    assert row == {
        "public_id": str(flagged.public_id),
        "appointment_id": str(visit.public_id),
        "patient_id": str(clinic.patient.public_id),
        "visit_type_id": str(clinic.visit_type.public_id),
        "practitioner_id": str(clinic.practitioner.public_id),
        "location_id": str(clinic.location.public_id),
        "starts_at": "2026-06-02T14:00:00Z",
        "ends_at": "2026-06-02T14:30:00Z",
        "detected_at": "2026-06-01T12:00:00Z",
        "cause": "exception_added",
        "change_id": str(flagged.change_id),
        "change_summary": "Leave from 2026-06-02",
        "finding": "exception",
        "status": "open",
        "resolution": "",
        "bump_reason": "",
        "resolution_note": "",
        "resolved_at": None,
        "rescheduled_to_id": None,
    }
    listing = AuditEvent.objects.get(action="search", resource_type="FlaggedAppointment")
    assert listing.details["patients"] == [str(clinic.patient.public_id)]
    other_day = Client().get(BASE, {"day": "2026-06-03"}, headers=headers(clinic))
    assert other_day.json() == []


def test_page_and_api_list_the_same_flags(
    client: Client, clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    client.force_login(clinic.scheduler)
    page = client.get(reverse("scheduling:flagged"), {"day": "2026-06-02"})
    assert page.status_code == 200
    api = Client().get(BASE, {"day": "2026-06-02"}, headers=headers(clinic))
    assert [row["flag"].public_id for row in page.context["rows"]] == [flagged.public_id] and [
        row["public_id"] for row in api.json()
    ] == [str(flagged.public_id)]
    assert clinic.patient.display_name in page.content.decode()


def test_resolve_bump_answers_the_resolved_flag(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    response = resolve(flagged, {"action": "bump", "reason": "provider_illness"}, headers(clinic))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["resolution"], body["bump_reason"]) == (
        "resolved",
        "bumped",
        "provider_illness",
    )
    assert Appointment.objects.get(pk=flagged.appointment_id).status == AppointmentStatus.BUMPED
    assert Client().get(BASE, headers=headers(clinic)).json() == []


def test_resolve_keep_and_reschedule(clinic: Clinic, flagged: FlaggedAppointment) -> None:
    refused = resolve(flagged, {"action": "keep"}, headers(clinic))
    assert refused.status_code == 422
    assert error(refused)["code"] == "validation_failed"
    assert [item["loc"] for item in error(refused)["details"]] == [["body", "reason"]]
    missing = resolve(flagged, {"action": "reschedule"}, headers(clinic))
    assert missing.status_code == 422
    assert [item["loc"] for item in error(missing)["details"]] == [["body", "starts_at"]]
    moved = resolve(
        flagged,
        {"action": "reschedule", "starts_at": at(TUESDAY, 14).isoformat()},
        headers(clinic),
    )
    assert moved.status_code == 200, moved.content
    new = Appointment.objects.get(starts_at=at(TUESDAY, 14))
    assert moved.json()["rescheduled_to_id"] == str(new.public_id)
    again = resolve(flagged, {"action": "keep", "reason": "x"}, headers(clinic))
    assert (again.status_code, error(again)["code"]) == (409, "conflict")


def test_resolve_refusals_keep_the_error_shape(clinic: Clinic, flagged: FlaggedAppointment) -> None:
    auth = headers(clinic)
    unknown = post(
        f"{BASE}/00000000-0000-0000-0000-000000000000/resolve",
        {"action": "keep", "reason": "x"},
        auth,
    )
    assert (unknown.status_code, error(unknown)["code"]) == (404, "not_found")
    bad_action = resolve(flagged, {"action": "delete"}, auth)
    assert (bad_action.status_code, error(bad_action)["code"]) == (422, "validation_failed")
    bad_reason = resolve(flagged, {"action": "bump", "reason": "tired"}, auth)
    assert bad_reason.status_code == 422
    assert [item["loc"] for item in error(bad_reason)["details"]] == [["body", "reason"]]
    marketer = resolve(flagged, {"action": "keep", "reason": "x"}, headers(clinic, Role.MARKETER))
    assert (marketer.status_code, error(marketer)["code"]) == (403, "permission_denied")
    anonymous = resolve(flagged, {"action": "keep", "reason": "x"}, {})
    assert anonymous.status_code == 401
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN


def test_the_page_matrix(client: Client, clinic: Clinic, flagged: FlaggedAppointment) -> None:
    url = reverse("scheduling:flagged")
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    client.force_login(UserFactory.create(role=Role.MARKETER))
    assert client.get(url).status_code == 403
    client.force_login(clinic.user(Role.CARE_MANAGER))
    assert client.get(url).status_code == 403
    client.force_login(clinic.user(Role.NURSE))
    assert client.get(url).status_code == 200


def test_the_page_bumps_and_keeps_by_form(
    client: Client, clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    client.force_login(clinic.scheduler)
    keep_url = reverse("scheduling:flag_keep", args=[flagged.public_id])
    refused = client.post(keep_url, {"reason": ""})
    assert refused.status_code == 422
    assert "Say why the visit is kept" in refused.content.decode()
    bump_url = reverse("scheduling:flag_bump", args=[flagged.public_id])
    done = client.post(bump_url, {"reason": "provider_leave", "add_to_waitlist": "on"})
    assert done.status_code == 302
    flagged.refresh_from_db()
    assert (flagged.resolution, flagged.bump_reason) == ("bumped", "provider_leave")
    again = client.post(bump_url, {"reason": "provider_leave"})
    assert again.status_code == 409


def test_a_scheduler_out_of_scope_cannot_bump_from_the_page(
    client: Client, clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    stranger = UserFactory.create(role=Role.SCHEDULER)
    stranger.locations.add(LocationFactory.create())
    client.force_login(stranger)
    response = client.post(
        reverse("scheduling:flag_bump", args=[flagged.public_id]), {"reason": "other"}
    )
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN


def test_the_page_reschedules_to_a_slot_from_the_search(
    client: Client, clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    client.force_login(clinic.scheduler)
    url = reverse("scheduling:flag_reschedule", args=[flagged.public_id])
    page = client.get(url)
    assert page.status_code == 200
    first = page.context["options"][0]
    assert first.starts_at > dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    moved = client.post(
        url,
        {
            "practitioner": str(first.practitioner_id),
            "location": str(first.location_id),
            "starts_at": first.starts_at.isoformat(),
        },
    )
    assert moved.status_code == 302
    flagged.refresh_from_db()
    assert flagged.resolution == "rescheduled"
    assert flagged.rescheduled_to is not None
    assert flagged.rescheduled_to.starts_at == first.starts_at


def test_a_bump_shows_in_the_bump_rate_on_the_metrics_page(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    services.book_appointment(
        **clinic.booking(at(TUESDAY, 14), patient_id=clinic.new_patient().public_id)
    )
    assert (
        resolve(flagged, {"action": "bump", "reason": "other"}, headers(clinic)).status_code == 200
    )
    client = Client()
    client.force_login(clinic.user(Role.EXECUTIVE))
    page = client.get("/schedule/metrics/?from=2026-06-01&to=2026-06-07")
    html = page.content.decode()
    assert '<strong data-testid="bumps">1</strong>' in html
    assert '<strong data-testid="bump-rate">50 %</strong>' in html
    api = Client().get(
        "/api/scheduling/metrics?from=2026-06-01&to=2026-06-07", headers=headers(clinic, Role.ADMIN)
    )
    assert (api.json()["outcomes"]["bumps"], api.json()["outcomes"]["bump_rate"]) == (1, 0.5)


def test_editing_weekly_hours_on_the_set_up_page_flags_the_visits_left_out(
    client: Client, clinic: Clinic
) -> None:
    visit = services.book_appointment(**clinic.booking(at(TUESDAY, 11)))[0]
    template = clinic.practitioner.availability_templates.get(weekday=1, start_time=dt.time(9))
    client.force_login(clinic.user(Role.ADMIN))
    url = reverse("scheduling:template_edit", args=[template.public_id])
    form = client.get(url).context["form"]
    assert (form.initial["start_time"], form.initial["end_time"], form.initial["weekdays"]) == (
        dt.time(9),
        dt.time(12),
        [1],
    )
    body = {
        "practitioner": str(clinic.practitioner.public_id),
        "location": str(clinic.location.public_id),
        "weekdays": ["3"],  # disabled: the session's day stays
        "start_time": "09:00",
        "end_time": "10:30",
        "slot_minutes": "15",
        "effective_from": "2026-01-01",
        "blocks": "break 10:00-10:15",
    }
    refused = client.post(url, {**body, "end_time": "08:00"})
    assert refused.status_code == 422
    assert FlaggedAppointment.objects.count() == 0
    assert client.post(url, body).status_code == 302
    template.refresh_from_db()
    assert (template.weekday, template.end_time) == (1, dt.time(10, 30))
    assert [str(block) for block in template.blocks.all()] == ["break 10:00-10:15"]
    flag = FlaggedAppointment.objects.get()
    assert (flag.appointment_id, flag.cause, flag.finding) == (
        visit.pk,
        "template_changed",
        "outside_hours",
    )


def test_the_listing_costs_the_same_queries_for_one_flag_or_many(
    clinic: Clinic, flagged: FlaggedAppointment, django_assert_num_queries: Any
) -> None:
    from careline.scheduling.bumps.selectors import list_flagged_appointments

    with CaptureQueriesContext(connection) as one:  # 5 on SQLite, 6 on PostgreSQL (audit)
        assert len(list_flagged_appointments(actor=clinic.actor)) == 1
    assert len(one.captured_queries) <= 6
    for hour in (13, 14, 15):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, hour), patient_id=clinic.new_patient().public_id)
        )
    configuration.add_exception(
        actor=clinic.actor_for(clinic.user(Role.ADMIN)),
        kind="leave",
        starts_at=at(TUESDAY, 13),
        ends_at=at(TUESDAY, 17),
        practitioner_id=clinic.practitioner.public_id,
    )
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(list_flagged_appointments(actor=clinic.actor)) == 4
