"""Self-scheduling on the portal: book (questionnaire, tickets, hold, safety screen), move,
cancel within the policy, .ics, requests — through scheduling's own services, audited as the
portal account; and what a patient may not do herself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careline.patients.models import TimelineEvent
from careline.platform.actors import Actor
from careline.platform.errors import PermissionDenied
from careline.platform.models import AuditChannel, AuditEvent, User
from careline.portal.models import PortalLink
from careline.portal.tests.conftest import client_for
from careline.scheduling import patient_booking, services
from careline.scheduling.errors import SelfServiceRefused
from careline.scheduling.models import (
    Appointment,
    BookingQuestion,
    BookingRequest,
    BookingTicket,
    Hold,
    RedFlagList,
)
from careline.testing.scheduling import NOW, TUESDAY, Clinic, at, make_clinic, make_visit_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):  # Monday 1 June 2026, 08:00 in New York
        yield


@pytest.fixture
def clinic(db: None, frozen: None) -> Clinic:
    return make_clinic(portal_booking="self", name="Check-up")


@pytest.fixture
def account(
    clinic: Clinic, make_account: Callable[..., User], make_link: Callable[..., PortalLink]
) -> User:
    user = make_account("pat@example.org")
    make_link(user, clinic.patient)
    return user


def portal_actor(user: User) -> Actor:
    return Actor(user=user, channel=AuditChannel.PORTAL, remote_addr="127.0.0.1")


def url(name: str, clinic: Clinic, *args: object) -> str:
    return reverse(f"portal:{name}", args=[clinic.patient.public_id, *args])


def slot_form(clinic: Clinic, starts_at: dt.datetime, **extra: str) -> dict[str, str]:
    return {
        "practitioner_id": str(clinic.practitioner.public_id),
        "location_id": str(clinic.location.public_id),
        "starts_at": starts_at.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **extra,
    }


def book_in_portal(client: Client, clinic: Clinic, starts_at: dt.datetime) -> Appointment:
    held = client.post(
        url("hold", clinic, clinic.visit_type.public_id), slot_form(clinic, starts_at)
    )
    assert held.status_code == 302, held.content.decode()
    booked = client.post(held["Location"], {})
    assert booked.status_code == 302, booked.content.decode()
    return Appointment.objects.get(patient=clinic.patient, status="booked")


def test_a_patient_books_a_self_schedulable_visit_as_herself(clinic: Clinic, account: User) -> None:
    client = client_for(account)

    choose = client.get(url("choose_visit", clinic))
    slots = client.get(url("choose_slot", clinic, clinic.visit_type.public_id))
    appointment = book_in_portal(client, clinic, at(TUESDAY, 9))

    assert choose.status_code == 200 and "Check-up" in choose.content.decode()
    assert slots.status_code == 200
    assert "Monday, June 1" in slots.content.decode()  # 09:00 today is the first slot
    assert 'value="2026-06-01T09:00:00-0400"' in slots.content.decode()
    assert (appointment.starts_at, appointment.booked_by) == (
        dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC),
        account,
    )
    assert Hold.objects.count() == 0  # the hold was consumed
    created = AuditEvent.objects.get(resource_type="Appointment", action="create")
    assert (created.actor, created.channel, created.patient_id) == (
        account,
        "portal",
        clinic.patient.public_id,
    )
    hold_entry = AuditEvent.objects.get(resource_type="Hold", action="create")
    assert (hold_entry.actor, hold_entry.channel) == (account, "portal")
    assert (
        TimelineEvent.objects.filter(
            patient=clinic.patient, title__startswith="Booked Check-up"
        ).count()
        == 1
    )
    page = client.get(url("patient_home", clinic)).content.decode()
    assert url("appointment", clinic, appointment.public_id) in page


def test_a_positive_red_flag_stops_the_booking_says_what_to_do_and_is_on_the_timeline(
    clinic: Clinic, account: User
) -> None:
    RedFlagList.objects.create(
        code="chest",
        name="Chest symptoms",
        questions=[{"code": "chest_pain", "text": "Do you have chest pain now?"}],
        advice="Call the nurse line at 555-0100 now.",
    )
    clinic.visit_type.requires_safety_screen, clinic.visit_type.safety_screen_code = True, "chest"
    clinic.visit_type.save()
    client = client_for(account)
    held = client.post(
        url("hold", clinic, clinic.visit_type.public_id), slot_form(clinic, at(TUESDAY, 9))
    )
    question = client.get(held["Location"])
    unanswered = client.post(held["Location"], {})

    stopped = client.post(held["Location"], {"flag_chest_pain": "yes"})

    assert "Do you have chest pain now?" in question.content.decode()
    assert unanswered.status_code == 422 and "Answer yes or no." in unanswered.content.decode()
    assert stopped.status_code == 422
    assert "Call the nurse line at 555-0100 now." in stopped.content.decode()
    assert "call 911" in stopped.content.decode()
    assert Appointment.objects.count() == 0
    assert Hold.objects.count() == 0  # released
    assert (
        TimelineEvent.objects.filter(
            patient=clinic.patient, title="Booking of Check-up stopped by the safety screen"
        ).count()
        == 1
    )
    screen = AuditEvent.objects.get(resource_type="SafetyScreen")
    assert (screen.actor, screen.details) == (account, {"positive": ["chest_pain"]})


def test_a_negative_screen_books_and_keeps_the_answers(clinic: Clinic, account: User) -> None:
    RedFlagList.objects.create(
        code="chest", name="Chest", questions=[{"code": "pain", "text": "Pain?"}], advice="Call."
    )
    clinic.visit_type.requires_safety_screen, clinic.visit_type.safety_screen_code = True, "chest"
    clinic.visit_type.save()
    client = client_for(account)
    held = client.post(
        url("hold", clinic, clinic.visit_type.public_id), slot_form(clinic, at(TUESDAY, 9))
    )

    booked = client.post(held["Location"], {"flag_pain": "no"})

    assert booked.status_code == 302
    assert Appointment.objects.get().safety_screen == {"list": "chest", "answers": {"pain": False}}


def test_visit_types_not_on_the_portal_are_not_offered_nor_bookable(
    clinic: Clinic, account: User
) -> None:
    hidden = make_visit_type(name="CT with contrast", portal_booking="none")
    client = client_for(account)

    choose = client.get(url("choose_visit", clinic)).content.decode()
    slots = client.get(url("choose_slot", clinic, hidden.public_id))
    held = client.post(url("hold", clinic, hidden.public_id), slot_form(clinic, at(TUESDAY, 9)))

    assert "CT with contrast" not in choose
    assert slots.status_code == 422
    assert "cannot be booked on the portal" in slots.content.decode()
    assert held.status_code == 422
    with pytest.raises(SelfServiceRefused) as refused:
        services.book_appointment(
            **clinic.booking(
                at(TUESDAY, 9), actor=portal_actor(account), visit_type_id=hidden.public_id
            )
        )
    assert refused.value.details == {"rule": "visit_type.portal_booking", "mode": "none"}
    assert (Appointment.objects.count(), Hold.objects.count()) == (0, 0)


def test_a_request_only_visit_becomes_a_request_staff_see_and_close(
    clinic: Clinic, account: User, settings: Any
) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False  # as if signed in with the second factor
    asked = make_visit_type(name="Physical therapy evaluation", portal_booking="request")
    client = client_for(account)

    redirected = client.get(url("choose_slot", clinic, asked.public_id))
    sent = client.post(
        url("request_visit", clinic, asked.public_id), {"preferred_times": "mornings"}
    )
    again = client.post(url("request_visit", clinic, asked.public_id), {})
    staff = Client()
    staff.force_login(clinic.scheduler)
    listed = staff.get(reverse("portal_access:booking_requests"))
    request_row = BookingRequest.objects.get()
    closed = staff.post(
        reverse("portal_access:close_booking_request", args=[request_row.public_id]),
        {"status": "booked"},
    )

    assert redirected.status_code == 302
    assert redirected["Location"] == url("request_visit", clinic, asked.public_id)
    assert sent.status_code == 302
    assert again.status_code == 409  # one open request per visit type
    assert (request_row.preferred_times, request_row.requested_by) == ("mornings", account)
    assert listed.status_code == 200 and "Physical therapy evaluation" in listed.content.decode()
    assert closed.status_code == 302
    request_row.refresh_from_db()
    assert (request_row.status, request_row.handled_by) == ("booked", clinic.scheduler)
    assert (
        AuditEvent.objects.filter(
            resource_type="BookingRequest", action="create", actor=account
        ).count()
        == 1
    )


def test_a_ticket_lets_her_book_a_staff_only_visit_inside_its_window_only(
    clinic: Clinic, account: User
) -> None:
    follow_up = make_visit_type(name="Diabetes follow-up", portal_booking="none")
    patient_booking.issue_booking_ticket(
        actor=clinic.actor,
        patient_id=clinic.patient.public_id,
        visit_type_id=follow_up.public_id,
        earliest_date=dt.date(2026, 6, 15),
        latest_date=dt.date(2026, 6, 19),
        note="Follow-up in 2 weeks",
    )
    client = client_for(account)
    actor = portal_actor(account)

    choose = client.get(url("choose_visit", clinic)).content.decode()
    slots = client.get(url("choose_slot", clinic, follow_up.public_id)).content.decode()
    with pytest.raises(SelfServiceRefused) as outside:
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9), actor=actor, visit_type_id=follow_up.public_id)
        )
    [inside] = services.book_appointment(
        **clinic.booking(
            at(dt.date(2026, 6, 16), 9), actor=actor, visit_type_id=follow_up.public_id
        )
    )
    with pytest.raises(SelfServiceRefused):  # used: no second visit on one ticket
        services.book_appointment(
            **clinic.booking(
                at(dt.date(2026, 6, 17), 9), actor=actor, visit_type_id=follow_up.public_id
            )
        )

    assert "Diabetes follow-up" in choose and "Follow-up in 2 weeks" in choose
    assert "Monday, June 15" in slots and "June 1," not in slots and "June 20" not in slots
    assert outside.value.details == {"rule": "portal.ticket_window"}
    assert "between June 15 and June 19, 2026" in outside.value.message
    assert BookingTicket.objects.get().appointment == inside


def test_she_moves_and_cancels_a_visit_more_than_24_hours_ahead(
    clinic: Clinic, account: User
) -> None:
    client = client_for(account)
    first = book_in_portal(client, clinic, at(TUESDAY, 9))
    held = client.post(
        url("hold", clinic, clinic.visit_type.public_id),
        slot_form(clinic, at(TUESDAY, 10), reschedule=str(first.public_id)),
    )
    moved = client.post(held["Location"], {})
    new = Appointment.objects.get(status="booked")

    cancelled = client.post(url("cancel_appointment", clinic, new.public_id), {"note": "Away"})

    assert moved.status_code == 302
    assert new.rescheduled_from == first
    assert new.starts_at == dt.datetime(2026, 6, 2, 14, 0, tzinfo=dt.UTC)
    assert cancelled.status_code == 302
    new.refresh_from_db()
    assert (new.status, new.cancel_reason, new.cancel_note) == ("cancelled", "patient", "Away")
    assert set(
        AuditEvent.objects.filter(resource_type="Appointment", action="update").values_list(
            "actor", "channel"
        )
    ) == {(account.pk, "portal")}


def test_changes_inside_the_notice_are_refused_with_the_reason(
    clinic: Clinic, account: User
) -> None:
    [soon] = services.book_appointment(**clinic.booking(at(dt.date(2026, 6, 1), 15)))
    client = client_for(account)

    page = client.get(url("appointment", clinic, soon.public_id)).content.decode()
    refused = client.post(url("cancel_appointment", clinic, soon.public_id), {})
    with pytest.raises(SelfServiceRefused) as moving:
        services.reschedule_appointment(
            actor=portal_actor(account), appointment_id=soon.public_id, starts_at=at(TUESDAY, 9)
        )

    assert "too soon to change online" in page
    assert refused.status_code == 422
    assert "up to 24 hours before they start" in refused.content.decode()
    assert moving.value.details == {"rule": "visit_type.portal_change_notice", "hours": 24}
    soon.refresh_from_db()
    assert soon.status == "booked"
    assert Appointment.objects.count() == 1


def test_a_visit_types_own_notice_wins_over_the_setting(clinic: Clinic, account: User) -> None:
    clinic.visit_type.portal_change_notice_hours = 48
    clinic.visit_type.save()
    [tomorrow] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))  # 25 h ahead

    with pytest.raises(SelfServiceRefused) as refused:
        services.cancel_appointment(
            actor=portal_actor(account), appointment_id=tomorrow.public_id, reason="patient"
        )

    assert refused.value.details == {"rule": "visit_type.portal_change_notice", "hours": 48}


def test_the_calendar_file_is_in_utc_and_names_the_local_time(
    clinic: Clinic, account: User
) -> None:
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))

    response = client_for(account).get(url("appointment_ics", clinic, appointment.public_id))

    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="appointment.ics"'
    assert "DTSTART:20260602T130000Z\r\n" in body
    assert "DTEND:20260602T133000Z\r\n" in body
    assert "SUMMARY:Check-up\r\n" in body
    assert f"UID:{appointment.public_id}@careline\r\n" in body
    assert "(America/New_York)" in body.replace("\r\n ", "")


def test_a_portal_account_cannot_do_what_only_staff_may(clinic: Clinic, account: User) -> None:
    actor = portal_actor(account)
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))

    with pytest.raises(PermissionDenied):
        services.mark_arrived(actor=actor, appointment_id=appointment.public_id)
    with pytest.raises(PermissionDenied):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 10), actor=actor, overbook_reason="urgent")
        )
    with pytest.raises(SelfServiceRefused):
        services.book_appointment(**clinic.booking(at(TUESDAY, 10), actor=actor, occurrences=3))
    with pytest.raises(PermissionDenied):
        services.hold_slot(
            actor=actor,
            visit_type_id=clinic.visit_type.public_id,
            practitioner_id=clinic.practitioner.public_id,
            location_id=clinic.location.public_id,
            starts_at=at(TUESDAY, 10),
        )
    assert Appointment.objects.count() == 1
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_the_questionnaire_leads_to_a_visit_type_or_to_advice(
    clinic: Clinic, account: User
) -> None:
    BookingQuestion.objects.create(
        code="start",
        text="What do you need?",
        is_start=True,
        answers=[
            {"label": "A routine check-up", "next": "routine"},
            {"label": "I feel very unwell", "advice": "Call the nurse line now."},
        ],
    )
    BookingQuestion.objects.create(
        code="routine",
        text="Have you been here before?",
        answers=[{"label": "Yes", "visit_type": clinic.visit_type.code}],
    )
    client = client_for(account)

    start = client.get(url("choose_visit", clinic)).content.decode()
    routine = client.get(url("choose_visit", clinic) + "?question=routine").content.decode()
    advice = client.get(url("choose_visit", clinic) + "?question=start&answer=1").content.decode()

    assert "What do you need?" in start and "?question=routine" in start
    assert url("choose_slot", clinic, clinic.visit_type.public_id) in routine
    assert "Call the nurse line now." in advice and "Call the nurse line now." not in start


def test_question_answers_are_checked_before_they_are_saved(clinic: Clinic) -> None:
    known = {"start", "routine"}
    patient_booking.check_question_answers(
        [{"label": "Yes", "visit_type": clinic.visit_type.code}], known_codes=known
    )
    bad = [
        ([], "Give at least one answer, as a list."),
        ([{"next": "routine"}], "Answer 1 needs a label."),
        ([{"label": "x", "next": "routine", "advice": "y"}], "Answer 1 needs exactly one of"),
        ([{"label": "x", "next": "nowhere"}], "Answer 1 leads to the unknown question 'nowhere'."),
        ([{"label": "x", "visit_type": "nope"}], "Answer 1 names the unknown visit type 'nope'."),
    ]
    for answers, message in bad:
        with pytest.raises(Exception) as error:
            patient_booking.check_question_answers(answers, known_codes=known)
        assert str(error.value.message).startswith(message)  # type: ignore[attr-defined]
