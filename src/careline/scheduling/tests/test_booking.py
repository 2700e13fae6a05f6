"""Booking services: book, hold, reschedule, cancel, status; refusals naming their rule;
audit, timeline and history with every write; nothing written on a refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from careline.patients.models import TimelineEvent
from careline.platform.errors import BreakGlassRequired, Conflict, PermissionDenied
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import services
from careline.scheduling.configuration import create_provider_rule, record_referral
from careline.scheduling.errors import (
    RuleRefusal,
    SafetyScreenPositive,
    SafetyScreenRequired,
    SlotNotOffered,
    SlotTaken,
)
from careline.scheduling.models import (
    AppointmentHistory,
    Hold,
    Occupancy,
    RedFlagList,
    Resource,
)
from careline.testing.factories import EncounterFactory, LocationFactory, PatientFactory
from careline.testing.scheduling import (
    NEW_YORK,
    NOW,
    TUESDAY,
    Clinic,
    at,
    make_practitioner,
    make_template,
    make_visit_type,
)

pytestmark = pytest.mark.django_db


def writes() -> tuple[int, int, int, int]:
    """(appointment audit entries, timeline events, history rows, occupancy rows)."""
    return (
        AuditEvent.objects.filter(resource_type="Appointment", outcome="success").count(),
        TimelineEvent.objects.count(),
        AppointmentHistory.objects.count(),
        Occupancy.objects.count(),
    )


def test_books_a_slot_with_audit_timeline_history_and_occupancy(clinic: Clinic) -> None:
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))

    assert appointment.starts_at == dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)
    assert appointment.ends_at == dt.datetime(2026, 6, 2, 13, 30, tzinfo=dt.UTC)
    assert (appointment.status, appointment.is_new_patient, appointment.is_overbook) == (
        "booked",
        True,
        False,
    )
    assert appointment.booked_by == clinic.scheduler
    entry = AuditEvent.objects.get(resource_type="Appointment")
    assert (entry.action, entry.patient_id, entry.resource_id, entry.details) == (
        "create",
        clinic.patient.public_id,
        str(appointment.public_id),
        {"change": "booked"},
    )
    event = TimelineEvent.objects.get(patient=clinic.patient)
    assert (event.kind, event.title) == (
        "appointment",
        "Booked Follow-up visit with Dr. Ana Lopez, Tue 02 Jun 2026 09:00 at Harbor Clinic",
    )
    history = AppointmentHistory.objects.get(appointment=appointment)
    assert (history.action, history.to_status, history.actor) == (
        "booked",
        "booked",
        clinic.scheduler,
    )
    keys = sorted(Occupancy.objects.values_list("resource_key", flat=True))
    assert keys == [f"patient:{clinic.patient.pk}", f"practitioner:{clinic.practitioner.pk}"]


def test_the_same_slot_twice_is_taken_and_writes_nothing(clinic: Clinic) -> None:
    services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    before = writes()
    with pytest.raises(SlotTaken) as taken:
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9, 15), patient_id=clinic.new_patient().public_id)
        )
    assert (taken.value.status, taken.value.code) == (409, "slot_taken")
    assert writes() == before


def test_a_patient_never_gets_two_overlapping_appointments(clinic: Clinic) -> None:
    other_doctor = make_practitioner(given_name="Ben", family_name="Okafor")
    make_template(other_doctor, clinic.location)
    services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    with pytest.raises(SlotTaken, match="already has an appointment"):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9, 15), practitioner_id=other_doctor.public_id)
        )


@pytest.mark.parametrize(
    ("starts_at", "rule"),
    [
        (at(TUESDAY, 12), "availability"),  # the lunch hour: no template
        (at(TUESDAY, 9, 5), "availability"),  # off the 15-minute grid
        (at(TUESDAY, 11, 45), "availability"),  # would end after the session
        (at(dt.date(2026, 6, 6), 9), "availability"),  # a Saturday
        (at(dt.date(2026, 6, 1), 7), "visit_type.booking_window"),  # in the past
    ],
)
def test_a_time_that_is_not_an_offered_slot_is_refused_naming_why(
    clinic: Clinic, starts_at: dt.datetime, rule: str
) -> None:
    with pytest.raises(SlotNotOffered) as refused:
        services.book_appointment(**clinic.booking(starts_at))
    assert refused.value.details["rule"] == rule
    assert writes() == (0, 0, 0, 0)


def test_booking_window_minimum_notice_and_horizon(clinic: Clinic) -> None:
    clinic.visit_type.minimum_notice_minutes = 60 * 24 * 2
    clinic.visit_type.maximum_horizon_days = 14
    clinic.visit_type.save()
    for refused_start in (at(TUESDAY, 9), at(dt.date(2026, 6, 16), 9)):
        with pytest.raises(SlotNotOffered) as refused:
            services.book_appointment(**clinic.booking(refused_start))
        assert refused.value.details["rule"] == "visit_type.booking_window"
    [appointment] = services.book_appointment(**clinic.booking(at(dt.date(2026, 6, 3), 9)))
    assert appointment.status == "booked"


def test_a_criterion_refuses_with_the_rule_named_and_nothing_written(clinic: Clinic) -> None:
    clinic.visit_type.min_age_years = 65
    clinic.visit_type.save()
    with pytest.raises(RuleRefusal) as refused:
        services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    assert (refused.value.status, refused.value.code) == (422, "rule_violation")
    assert refused.value.details["rule"] == "visit_type.min_age"
    assert writes() == (0, 0, 0, 0)


def test_established_follows_encounters_in_the_specialty_within_three_years(
    clinic: Clinic,
) -> None:
    clinic.visit_type.patient_status = "established"
    clinic.visit_type.save()
    with pytest.raises(RuleRefusal) as refused:
        services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    assert refused.value.details["rule"] == "visit_type.established_only"
    other_specialty = make_practitioner(specialty="Cardiology")
    EncounterFactory.create(
        patient=clinic.patient,
        practitioner=other_specialty,
        effective_at=NOW - dt.timedelta(days=30),
    )
    with pytest.raises(RuleRefusal):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    EncounterFactory.create(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        effective_at=NOW - dt.timedelta(days=365 * 3 + 5),
    )
    with pytest.raises(RuleRefusal):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    EncounterFactory.create(
        patient=clinic.patient,
        practitioner=clinic.practitioner,
        effective_at=NOW - dt.timedelta(days=400),
    )
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    assert appointment.is_new_patient is False


def test_a_referral_on_file_satisfies_referral_required(clinic: Clinic) -> None:
    clinic.visit_type.referral_required = True
    clinic.visit_type.save()
    with pytest.raises(RuleRefusal) as refused:
        services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    assert refused.value.details["rule"] == "visit_type.referral_required"
    record_referral(
        actor=clinic.actor, patient_id=clinic.patient.public_id, specialty="family MEDICINE"
    )
    assert len(services.book_appointment(**clinic.booking(at(TUESDAY, 9)))) == 1


def test_max_new_patients_per_session_counts_the_session(clinic: Clinic, settings: Any) -> None:
    admin = clinic.user(Role.ADMIN)
    create_provider_rule(
        actor=clinic.actor_for(admin),
        practitioner_id=clinic.practitioner.public_id,
        kind="max_new_per_session",
        parameters={"max": 2},
        description="At most 2 new patients a session",
    )
    for hour in (9, 10):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, hour), patient_id=clinic.new_patient().public_id)
        )
    with pytest.raises(RuleRefusal) as refused:
        services.book_appointment(**clinic.booking(at(TUESDAY, 11)))
    assert refused.value.details["rule"] == "provider_rule.max_new_per_session"
    assert refused.value.message == (
        "At most 2 new patients a session: this session already has 2 of 2 new patients."
    )
    [afternoon] = services.book_appointment(**clinic.booking(at(TUESDAY, 13)))
    assert afternoon.is_new_patient


def test_no_new_patients_on_friday_afternoons(clinic: Clinic) -> None:
    create_provider_rule(
        actor=clinic.actor_for(clinic.user(Role.ADMIN)),
        practitioner_id=clinic.practitioner.public_id,
        kind="no_new_patients",
        weekday=4,
        part_of_day="pm",
    )
    friday = dt.date(2026, 6, 5)
    with pytest.raises(RuleRefusal) as refused:
        services.book_appointment(**clinic.booking(at(friday, 14)))
    assert refused.value.details["rule"] == "provider_rule.no_new_patients"
    assert len(services.book_appointment(**clinic.booking(at(friday, 10)))) == 1


def test_the_safety_screen_asks_then_stops_on_a_yes(clinic: Clinic) -> None:
    RedFlagList.objects.create(
        code="chest",
        name="Chest symptoms",
        questions=[
            {"code": "chest_pain", "text": "Chest pain now?"},
            {"code": "breath", "text": "Short of breath?"},
        ],
        advice="Call 911 or the nurse line now.",
    )
    clinic.visit_type.requires_safety_screen, clinic.visit_type.safety_screen_code = True, "chest"
    clinic.visit_type.save()
    with pytest.raises(SafetyScreenRequired) as asked:
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9), safety_answers={"chest_pain": False})
        )
    assert [q["code"] for q in asked.value.details["questions"]] == ["chest_pain", "breath"]
    assert writes() == (0, 0, 0, 0)

    with pytest.raises(SafetyScreenPositive) as stopped:
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9), safety_answers={"chest_pain": True, "breath": False})
        )
    assert stopped.value.message == "Call 911 or the nurse line now."
    assert stopped.value.details == {"list": "chest", "positive": ["chest_pain"]}
    event = TimelineEvent.objects.get(patient=clinic.patient)
    assert event.title == "Booking of Follow-up visit stopped by the safety screen"
    assert (
        AuditEvent.objects.filter(
            resource_type="SafetyScreen", details={"positive": ["chest_pain"]}
        ).count()
        == 1
    )
    assert Occupancy.objects.count() == 0

    [appointment] = services.book_appointment(
        **clinic.booking(at(TUESDAY, 9), safety_answers={"chest_pain": False, "breath": False})
    )
    assert appointment.safety_screen == {
        "list": "chest",
        "answers": {"chest_pain": False, "breath": False},
    }


def test_a_recurring_series_is_all_or_nothing(clinic: Clinic) -> None:
    blocker = clinic.new_patient()
    services.book_appointment(
        **clinic.booking(at(dt.date(2026, 6, 16), 9), patient_id=blocker.public_id)
    )
    before = writes()
    with pytest.raises(SlotTaken):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9), occurrences=4))
    assert writes() == before

    series = services.book_appointment(**clinic.booking(at(TUESDAY, 10), occurrences=4))
    assert [a.starts_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for a in series] == [
        "06-02 10:00",
        "06-09 10:00",
        "06-16 10:00",
        "06-23 10:00",
    ]
    assert len({a.series_id for a in series}) == 1 and series[0].series_id is not None
    assert TimelineEvent.objects.filter(patient=clinic.patient).count() == 1


def test_a_weekly_series_keeps_its_wall_time_across_daylight_saving(clinic: Clinic) -> None:
    with time_machine.travel(dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC), tick=False):
        series = services.book_appointment(
            **clinic.booking(at(dt.date(2026, 10, 27), 9), occurrences=2)
        )
    assert [a.starts_at.isoformat() for a in series] == [
        "2026-10-27T13:00:00+00:00",  # EDT
        "2026-11-03T14:00:00+00:00",  # EST: still 09:00 in New York
    ]


def test_a_hold_keeps_the_slot_then_expires(clinic: Clinic) -> None:
    hold = services.hold_slot(
        actor=clinic.actor,
        visit_type_id=clinic.visit_type.public_id,
        practitioner_id=clinic.practitioner.public_id,
        location_id=clinic.location.public_id,
        starts_at=at(TUESDAY, 9),
        patient_id=clinic.patient.public_id,
    )
    assert hold.expires_at == NOW + dt.timedelta(minutes=5)
    someone_else = clinic.new_patient()
    with pytest.raises(SlotTaken):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9), patient_id=someone_else.public_id)
        )
    [mine] = services.book_appointment(**clinic.booking(at(TUESDAY, 9), hold_id=hold.public_id))
    assert not Hold.objects.exists()
    assert Occupancy.objects.filter(hold__isnull=False).count() == 0
    assert mine.status == "booked"

    second = services.hold_slot(
        actor=clinic.actor,
        visit_type_id=clinic.visit_type.public_id,
        practitioner_id=clinic.practitioner.public_id,
        location_id=clinic.location.public_id,
        starts_at=at(TUESDAY, 10),
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        [later] = services.book_appointment(
            **clinic.booking(at(TUESDAY, 10), patient_id=someone_else.public_id)
        )
    assert later.status == "booked"
    assert not Hold.objects.filter(pk=second.pk).exists()


def test_reschedule_moves_the_visit_and_keeps_history(clinic: Clinic) -> None:
    [first] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    moved = services.reschedule_appointment(
        actor=clinic.actor,
        appointment_id=first.public_id,
        starts_at=at(TUESDAY, 9, 15),
        reason="patient",
    )
    first.refresh_from_db()
    assert (first.status, first.cancel_reason) == ("cancelled", "patient")
    assert moved.rescheduled_from == first
    assert moved.starts_at == at(TUESDAY, 9, 15)
    assert list(
        AppointmentHistory.objects.filter(appointment=first).values_list("action", flat=True)
    ) == ["booked", "rescheduled"]
    assert Occupancy.objects.filter(appointment=first).count() == 0
    assert TimelineEvent.objects.filter(patient=clinic.patient).latest("pk").title == (
        "Rescheduled Follow-up visit from Tue 02 Jun 2026 09:00 to Tue 02 Jun 2026 09:15"
    )
    with pytest.raises(Conflict):
        services.reschedule_appointment(
            actor=clinic.actor, appointment_id=first.public_id, starts_at=at(TUESDAY, 10)
        )


def test_cancel_frees_the_time_and_records_the_reason(clinic: Clinic) -> None:
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    services.cancel_appointment(
        actor=clinic.actor, appointment_id=appointment.public_id, reason="weather", note="Snow"
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason, appointment.cancel_note) == (
        "cancelled",
        "weather",
        "Snow",
    )
    assert appointment.cancelled_at == NOW
    services.book_appointment(
        **clinic.booking(at(TUESDAY, 9), patient_id=clinic.new_patient().public_id)
    )
    with pytest.raises(Conflict):
        services.cancel_appointment(
            actor=clinic.actor, appointment_id=appointment.public_id, reason="patient"
        )


def test_front_desk_statuses_follow_the_visit(clinic: Clinic) -> None:
    [appointment] = services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    with pytest.raises(Conflict, match="start has passed"):
        services.mark_no_show(actor=clinic.actor, appointment_id=appointment.public_id)
    services.mark_arrived(actor=clinic.actor, appointment_id=appointment.public_id)
    done = services.mark_completed(actor=clinic.actor, appointment_id=appointment.public_id)
    assert done.status == "completed"
    with pytest.raises(Conflict):
        services.mark_arrived(actor=clinic.actor, appointment_id=appointment.public_id)
    [later] = services.book_appointment(**clinic.booking(at(TUESDAY, 10)))
    with time_machine.travel(at(TUESDAY, 10, 20), tick=False):
        assert (
            services.mark_no_show(actor=clinic.actor, appointment_id=later.public_id).status
            == "no_show"
        )
    actions = AppointmentHistory.objects.filter(appointment=appointment).values_list(
        "action", "from_status", "to_status"
    )
    assert list(actions) == [
        ("booked", "", "booked"),
        ("arrived", "booked", "arrived"),
        ("completed", "arrived", "completed"),
    ]


def test_overbook_needs_the_permission_a_reason_and_respects_the_cap(
    clinic: Clinic, settings: Any
) -> None:
    settings.CARELINE_OVERBOOK_CAP_PER_SESSION = 1
    services.book_appointment(**clinic.booking(at(TUESDAY, 9)))
    second = clinic.new_patient()
    with pytest.raises(PermissionDenied):
        services.book_appointment(
            **clinic.booking(at(TUESDAY, 9), patient_id=second.public_id, overbook_reason="Urgent")
        )
    nurse = clinic.actor_for(clinic.user(Role.NURSE))
    [overbooked] = services.book_appointment(
        **clinic.booking(
            at(TUESDAY, 9),
            actor=nurse,
            patient_id=second.public_id,
            overbook_reason="Urgent wound check",
        )
    )
    assert (overbooked.is_overbook, overbooked.overbook_reason) == (True, "Urgent wound check")
    with pytest.raises(RuleRefusal) as capped:
        services.book_appointment(
            **clinic.booking(
                at(TUESDAY, 9),
                actor=nurse,
                patient_id=clinic.new_patient().public_id,
                overbook_reason="Again",
            )
        )
    assert capped.value.details["rule"] == "overbook_cap"
    [free] = services.book_appointment(
        **clinic.booking(
            at(TUESDAY, 10),
            actor=nurse,
            patient_id=clinic.new_patient().public_id,
            overbook_reason="Not needed",
        )
    )
    assert (free.is_overbook, free.overbook_reason) == (False, "")


def test_a_device_is_booked_with_the_practitioner(clinic: Clinic) -> None:
    ct = make_visit_type(
        name="CT with contrast", required_resource_kinds=["CT scanner"], buffer_after_minutes=15
    )
    with pytest.raises(SlotTaken, match="No CT scanner is free"):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9), visit_type_id=ct.public_id))
    scanner = Resource.objects.create(location=clinic.location, kind="CT scanner", name="CT 1")
    services.book_appointment(**clinic.booking(at(TUESDAY, 9), visit_type_id=ct.public_id))
    row = Occupancy.objects.get(resource_key=f"resource:{scanner.pk}")
    assert (row.occupied_from, row.occupied_to) == (at(TUESDAY, 9), at(TUESDAY, 9, 45))
    radiologist = make_practitioner(given_name="Rui", family_name="Costa")
    make_template(radiologist, clinic.location)
    with pytest.raises(SlotTaken, match="No CT scanner is free"):
        services.book_appointment(
            **clinic.booking(
                at(TUESDAY, 9, 30),
                visit_type_id=ct.public_id,
                practitioner_id=radiologist.public_id,
                patient_id=clinic.new_patient().public_id,
            )
        )


def test_a_group_visit_takes_seats_up_to_its_capacity(clinic: Clinic) -> None:
    group = make_visit_type(name="Diabetes class", capacity=2, duration_minutes=60)
    for _ in range(2):
        services.book_appointment(
            **clinic.booking(
                at(TUESDAY, 9),
                visit_type_id=group.public_id,
                patient_id=clinic.new_patient().public_id,
            )
        )
    with pytest.raises(SlotTaken, match="session is full"):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9), visit_type_id=group.public_id))
    with pytest.raises(SlotTaken):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9, 30)))


def test_only_an_actor_with_access_to_the_patient_books(clinic: Clinic, make_user: Any) -> None:
    marketer = clinic.actor_for(make_user(Role.MARKETER))
    with pytest.raises(PermissionDenied):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9), actor=marketer))
    elsewhere = PatientFactory.create(primary_location=LocationFactory.create())
    with pytest.raises(BreakGlassRequired):
        services.book_appointment(**clinic.booking(at(TUESDAY, 9), patient_id=elsewhere.public_id))
    assert writes() == (0, 0, 0, 0)
    assert AuditEvent.objects.filter(action="access_denied").count() == 2
