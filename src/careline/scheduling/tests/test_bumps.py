"""The provider-bump workflow: detection per cause (leave, closure, template removed,
shortened, a break added, a daylight-saving day), idempotency, clearing, and the three
resolutions — bump, keep, reschedule — with their permission checks, audit and side effects.

The clinic (``careline.testing.scheduling``): Ana Lopez works weekdays 09:00-12:00 and
13:00-17:00 in New York; "now" is Monday 1 June 2026, 08:00 there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from careline.patients.models import TimelineEvent
from careline.platform.errors import (
    BreakGlassRequired,
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from careline.platform.models import AuditEvent
from careline.platform.permissions import Role
from careline.scheduling import configuration, configuration_changes, services
from careline.scheduling.bumps import services as bumps
from careline.scheduling.bumps.detection import Change, Scope, review_displaced_appointments
from careline.scheduling.bumps.models import (
    BumpNotice,
    FlagCause,
    FlagFinding,
    FlaggedAppointment,
    FlagResolution,
    FlagStatus,
)
from careline.scheduling.configuration import BlockIn
from careline.scheduling.metrics import bump_condition, late_cancellation_condition
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentStatus,
    AvailabilityException,
    AvailabilityTemplate,
    Occupancy,
)
from careline.scheduling.waitlist.models import FreedSlot, WaitlistEntry, WaitlistPriority
from careline.testing.factories import LocationFactory, UserFactory
from careline.testing.scheduling import TUESDAY, Clinic, at, make_clinic, make_template

pytestmark = pytest.mark.django_db

NOTIFIED: list[uuid.UUID] = []


def record_notices(notice_ids: list[uuid.UUID]) -> None:
    """A test notifier: what messaging would be handed."""
    NOTIFIED.extend(notice_ids)


@pytest.fixture
def admin(clinic: Clinic) -> Any:
    return clinic.actor_for(clinic.user(Role.ADMIN))


def book(clinic: Clinic, hour: int, minute: int = 0, **overrides: Any) -> Appointment:
    return services.book_appointment(**clinic.booking(at(TUESDAY, hour, minute), **overrides))[0]


def add_leave(clinic: Clinic, admin: Any, start: int = 9, end: int = 12) -> AvailabilityException:
    return configuration.add_exception(
        actor=admin,
        kind="leave",
        starts_at=at(TUESDAY, start),
        ends_at=at(TUESDAY, end),
        practitioner_id=clinic.practitioner.public_id,
        reason="conference",
    )


def tuesday_morning(clinic: Clinic) -> AvailabilityTemplate:
    return AvailabilityTemplate.objects.get(
        practitioner=clinic.practitioner, weekday=1, start_time=dt.time(9)
    )


def open_flags() -> list[tuple[int, str, str]]:
    return [
        (flag.appointment_id, flag.cause, flag.finding)
        for flag in FlaggedAppointment.objects.filter(status=FlagStatus.OPEN).order_by("pk")
    ]


# --- detection ---------------------------------------------------------------------------------


def test_leave_over_a_booked_visit_flags_it_in_the_same_change(clinic: Clinic, admin: Any) -> None:
    inside = book(clinic, 10)
    afternoon = book(clinic, 14, patient_id=clinic.new_patient().public_id)
    exception = add_leave(clinic, admin)

    assert open_flags() == [(inside.pk, FlagCause.EXCEPTION_ADDED, FlagFinding.EXCEPTION)]
    flag = FlaggedAppointment.objects.get()
    assert flag.change_id == exception.public_id
    assert flag.change_summary == "Leave from 2026-06-02 (conference)"
    assert flag.detected_at == dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    inside.refresh_from_db()
    afternoon.refresh_from_db()
    assert (inside.status, afternoon.status) == (AppointmentStatus.BOOKED,) * 2
    history = AppointmentHistory.objects.get(appointment=inside, action="flagged")
    assert history.details == {"cause": "exception_added", "finding": "exception"}
    audited = AuditEvent.objects.get(resource_type="FlaggedAppointment")
    assert (audited.action, audited.patient_id) == ("create", clinic.patient.public_id)
    assert AuditEvent.objects.get(resource_type="AvailabilityException").details == {"flagged": 1}


def test_an_organisation_wide_closure_at_the_location_flags_every_provider(
    clinic: Clinic, admin: Any
) -> None:
    visit = book(clinic, 9)
    elsewhere = LocationFactory.create(time_zone="America/New_York")
    configuration.add_exception(
        actor=admin,
        kind="closure",
        starts_at=at(TUESDAY, 0),
        ends_at=at(TUESDAY, 23),
        location_id=elsewhere.public_id,
    )
    assert open_flags() == []
    configuration.add_exception(
        actor=admin,
        kind="holiday",
        starts_at=at(TUESDAY, 0),
        ends_at=at(TUESDAY, 23),
        location_id=clinic.location.public_id,
    )
    assert open_flags() == [(visit.pk, FlagCause.EXCEPTION_ADDED, FlagFinding.EXCEPTION)]


def test_removing_the_weekly_hours_flags_the_visits_booked_in_them(
    clinic: Clinic, admin: Any
) -> None:
    morning = book(clinic, 9, 30)
    afternoon = book(clinic, 13, patient_id=clinic.new_patient().public_id)
    template = tuesday_morning(clinic)
    configuration_changes.remove_template(actor=admin, template_id=template.public_id)

    assert open_flags() == [(morning.pk, FlagCause.TEMPLATE_REMOVED, FlagFinding.OUTSIDE_HOURS)]
    flag = FlaggedAppointment.objects.get()
    assert flag.change_id == template.public_id
    assert flag.change_summary == f"Tuesday 09:00-12:00 at {clinic.location.name} removed"
    assert afternoon.pk not in [row[0] for row in open_flags()]


def test_shortening_the_hours_flags_only_the_visits_now_outside(clinic: Clinic, admin: Any) -> None:
    early = book(clinic, 9)
    late = book(clinic, 10, 30, patient_id=clinic.new_patient().public_id)
    template = tuesday_morning(clinic)
    configuration_changes.update_template(
        actor=admin,
        template_id=template.public_id,
        start_time=dt.time(9),
        end_time=dt.time(10, 15),
        effective_from=dt.date(2026, 1, 1),
    )
    assert open_flags() == [(late.pk, FlagCause.TEMPLATE_CHANGED, FlagFinding.OUTSIDE_HOURS)]
    assert early.pk not in [row[0] for row in open_flags()]
    template.refresh_from_db()
    assert template.end_time == dt.time(10, 15)


def test_a_break_added_over_a_visit_flags_it_as_a_closed_block(clinic: Clinic, admin: Any) -> None:
    visit = book(clinic, 10)
    configuration_changes.update_template(
        actor=admin,
        template_id=tuesday_morning(clinic).public_id,
        start_time=dt.time(9),
        end_time=dt.time(12),
        effective_from=dt.date(2026, 1, 1),
        blocks=[BlockIn(kind="break", start=dt.time(10, 15), end=dt.time(10, 45))],
    )
    assert open_flags() == [(visit.pk, FlagCause.TEMPLATE_CHANGED, FlagFinding.CLOSED_BLOCK)]


def test_an_edit_that_keeps_the_visit_in_hours_flags_nothing(clinic: Clinic, admin: Any) -> None:
    book(clinic, 9)
    configuration_changes.update_template(
        actor=admin,
        template_id=tuesday_morning(clinic).public_id,
        start_time=dt.time(8),
        end_time=dt.time(12),
        slot_minutes=20,
        effective_from=dt.date(2026, 1, 1),
    )
    assert FlaggedAppointment.objects.count() == 0


def test_a_past_visit_and_an_imported_one_are_never_flagged(clinic: Clinic, admin: Any) -> None:
    visit = book(clinic, 10)
    Appointment.objects.filter(pk=visit.pk).update(source_system="urn:ehr", source_id="a1")
    add_leave(clinic, admin)
    assert FlaggedAppointment.objects.count() == 0


@pytest.fixture
def october() -> Iterator[None]:
    # Monday 26 October 2026; Sunday 1 November is the fall-back day in New York.
    with time_machine.travel(dt.datetime(2026, 10, 26, 12, tzinfo=dt.UTC), tick=False):
        yield


def test_on_a_daylight_saving_day_the_hours_are_read_in_local_time(db: None, october: None) -> None:
    clinic = make_clinic()
    [sunday] = make_template(
        clinic.practitioner, clinic.location, weekdays=(6,), start=dt.time(9), end=dt.time(12)
    )
    admin = clinic.actor_for(clinic.user(Role.ADMIN))
    fall_back = dt.date(2026, 11, 1)
    # 11:30 EST is 16:30 UTC; read with the summer offset the session would end at 16:00 UTC.
    visit = services.book_appointment(**clinic.booking(at(fall_back, 11, 30)))[0]
    assert visit.starts_at == dt.datetime(2026, 11, 1, 16, 30, tzinfo=dt.UTC)
    configuration_changes.update_template(
        actor=admin,
        template_id=sunday.public_id,
        start_time=dt.time(9),
        end_time=dt.time(12),
        effective_from=dt.date(2026, 1, 1),
    )
    assert FlaggedAppointment.objects.count() == 0
    configuration_changes.update_template(
        actor=admin,
        template_id=sunday.public_id,
        start_time=dt.time(9),
        end_time=dt.time(11, 45),
        effective_from=dt.date(2026, 1, 1),
    )
    assert open_flags() == [(visit.pk, FlagCause.TEMPLATE_CHANGED, FlagFinding.OUTSIDE_HOURS)]


def test_reviewing_again_flags_nothing_new(clinic: Clinic, admin: Any) -> None:
    visit = book(clinic, 10)
    exception = add_leave(clinic, admin)
    again = review_displaced_appointments(
        actor=admin,
        change=Change(cause=FlagCause.EXCEPTION_ADDED, change_id=exception.public_id),
        scope=Scope(practitioner_ids=[clinic.practitioner.pk]),
        now=dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC),
    )
    assert (again.flagged, again.cleared) == ([], 0)
    add_leave(clinic, admin, start=10, end=11)  # a second leave over the same visit
    assert open_flags() == [(visit.pk, FlagCause.EXCEPTION_ADDED, FlagFinding.EXCEPTION)]
    assert FlaggedAppointment.objects.count() == 1


def test_removing_the_leave_clears_the_flag(clinic: Clinic, admin: Any) -> None:
    book(clinic, 10)
    exception = add_leave(clinic, admin)
    configuration_changes.remove_exception(actor=admin, exception_id=exception.public_id)
    flag = FlaggedAppointment.objects.get()
    assert (flag.status, flag.resolution) == (FlagStatus.RESOLVED, FlagResolution.CLEARED)


def test_a_visit_cancelled_meanwhile_is_cleared_at_the_next_review(
    clinic: Clinic, admin: Any
) -> None:
    visit = book(clinic, 10)
    add_leave(clinic, admin)
    services.cancel_appointment(
        actor=clinic.actor, appointment_id=visit.public_id, reason="patient"
    )
    add_leave(clinic, admin, start=10, end=11)
    assert FlaggedAppointment.objects.get().resolution == FlagResolution.CLEARED


def test_a_kept_visit_is_not_flagged_again(clinic: Clinic, admin: Any) -> None:
    book(clinic, 10)
    add_leave(clinic, admin)
    bumps.keep_appointment(
        actor=clinic.actor,
        flag_id=FlaggedAppointment.objects.get().public_id,
        reason="Dr Lopez sees her before the conference",
    )
    add_leave(clinic, admin, start=10, end=11)
    assert FlaggedAppointment.objects.count() == 1


# --- bump ----------------------------------------------------------------------------------------


@pytest.fixture
def flagged(clinic: Clinic, admin: Any) -> FlaggedAppointment:
    book(clinic, 10)
    add_leave(clinic, admin)
    return FlaggedAppointment.objects.get()


def test_bump_cancels_as_a_provider_bump_and_tells_the_patient(
    clinic: Clinic,
    flagged: FlaggedAppointment,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CARELINE_BUMP_NOTIFIER = f"{__name__}.record_notices"
    NOTIFIED.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bumps.bump_appointment(
            actor=clinic.actor, flag_id=flagged.public_id, reason="provider_leave", note="Sorry"
        )
    visit = Appointment.objects.get(pk=flagged.appointment_id)
    assert (visit.status, visit.cancel_reason, visit.cancel_note) == ("bumped", "provider", "Sorry")
    assert not Occupancy.objects.filter(appointment=visit).exists()
    assert FreedSlot.objects.count() == 0  # the provider is on leave: nothing to offer
    flagged.refresh_from_db()
    assert (flagged.status, flagged.resolution, flagged.bump_reason) == (
        "resolved",
        "bumped",
        "provider_leave",
    )
    assert flagged.resolved_by == clinic.scheduler
    notice = BumpNotice.objects.get()
    assert (notice.patient, notice.appointment, notice.sent_at) == (clinic.patient, visit, None)
    assert [notice.public_id] == NOTIFIED
    assert TimelineEvent.objects.filter(patient=clinic.patient).latest("pk").title == (
        "Bumped by the provider: Follow-up visit of Tue 02 Jun 2026 10:00 "
        "(The provider is on leave)"
    )
    audited = AuditEvent.objects.filter(action="update", details__change="flag_bumped")
    assert sorted(audited.values_list("resource_type", flat=True)) == [
        "Appointment",
        "FlaggedAppointment",
    ]
    assert WaitlistEntry.objects.count() == 0
    counted = Appointment.objects.filter(pk=visit.pk)
    assert (
        counted.filter(bump_condition()).count(),
        counted.filter(late_cancellation_condition()).count(),
    ) == (1, 0)


def test_bump_puts_the_patient_on_the_waitlist_with_priority_high(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    bumps.bump_appointment(
        actor=clinic.actor, flag_id=flagged.public_id, reason="provider_leave", add_to_waitlist=True
    )
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.visit_type, entry.priority) == (
        clinic.patient,
        clinic.visit_type,
        WaitlistPriority.HIGH,
    )
    assert (entry.earliest_date, entry.latest_date) == (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert BumpNotice.objects.get().is_waitlisted is True


def test_a_bump_the_waitlist_refuses_writes_nothing(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    from careline.scheduling.waitlist.services import join_waitlist

    join_waitlist(
        actor=clinic.actor,
        patient_id=clinic.patient.public_id,
        visit_type_id=clinic.visit_type.public_id,
        earliest_date=TUESDAY,
        latest_date=TUESDAY + dt.timedelta(days=7),
    )
    with pytest.raises(Conflict, match="already on the waitlist"):
        bumps.bump_appointment(
            actor=clinic.actor, flag_id=flagged.public_id, reason="other", add_to_waitlist=True
        )
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN
    assert Appointment.objects.get(pk=flagged.appointment_id).status == AppointmentStatus.BOOKED
    assert BumpNotice.objects.count() == 0
    assert not TimelineEvent.objects.filter(title__startswith="Bumped").exists()


def test_bump_offers_the_time_when_the_provider_is_available_after_all(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    AvailabilityException.objects.all().delete()  # the leave is gone, the flag not yet cleared
    bumps.bump_appointment(actor=clinic.actor, flag_id=flagged.public_id, reason="other")
    assert FreedSlot.objects.get().starts_at == at(TUESDAY, 10)


def test_bump_refuses_a_reason_outside_the_list(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        bumps.bump_appointment(actor=clinic.actor, flag_id=flagged.public_id, reason="because")
    assert refused.value.details == {"field": "reason"}
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN


# --- keep and reschedule ---------------------------------------------------------------------


def test_keep_needs_a_reason_and_leaves_the_visit_booked(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    with pytest.raises(ValidationFailed):
        bumps.keep_appointment(actor=clinic.actor, flag_id=flagged.public_id, reason="  ")
    bumps.keep_appointment(
        actor=clinic.actor, flag_id=flagged.public_id, reason="She sees the patient anyway"
    )
    flagged.refresh_from_db()
    assert (flagged.resolution, flagged.resolution_note) == ("kept", "She sees the patient anyway")
    visit = Appointment.objects.get(pk=flagged.appointment_id)
    assert visit.status == AppointmentStatus.BOOKED
    assert AppointmentHistory.objects.filter(appointment=visit, action="kept").count() == 1


def test_reschedule_moves_the_visit_with_the_reason_provider(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    bumps.reschedule_flagged_appointment(
        actor=clinic.actor, flag_id=flagged.public_id, starts_at=at(TUESDAY, 14)
    )
    flagged.refresh_from_db()
    old = Appointment.objects.get(pk=flagged.appointment_id)
    assert (old.status, old.cancel_reason) == ("cancelled", "provider")
    assert flagged.resolution == FlagResolution.RESCHEDULED
    assert flagged.rescheduled_to is not None
    assert flagged.rescheduled_to.starts_at == at(TUESDAY, 14)
    assert flagged.rescheduled_to.status == AppointmentStatus.BOOKED


def test_a_resolved_flag_cannot_be_resolved_again(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    bumps.keep_appointment(actor=clinic.actor, flag_id=flagged.public_id, reason="Seen anyway")
    with pytest.raises(Conflict, match="resolved already"):
        bumps.bump_appointment(actor=clinic.actor, flag_id=flagged.public_id, reason="other")
    assert Appointment.objects.get(pk=flagged.appointment_id).status == AppointmentStatus.BOOKED


# --- who may -----------------------------------------------------------------------------------


def test_a_role_without_the_permission_is_refused_and_audited(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    marketer = clinic.actor_for(UserFactory.create(role=Role.MARKETER))
    care_manager = clinic.actor_for(clinic.user(Role.CARE_MANAGER))
    for actor in (marketer, care_manager):
        with pytest.raises(PermissionDenied):
            bumps.bump_appointment(actor=actor, flag_id=flagged.public_id, reason="other")
    assert AuditEvent.objects.filter(action="access_denied").count() == 2
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN


def test_a_scheduler_of_another_location_cannot_resolve(
    clinic: Clinic, flagged: FlaggedAppointment
) -> None:
    stranger = UserFactory.create(role=Role.SCHEDULER)
    stranger.locations.add(LocationFactory.create())
    with pytest.raises(BreakGlassRequired):
        bumps.keep_appointment(
            actor=clinic.actor_for(stranger), flag_id=flagged.public_id, reason="x"
        )
    flagged.refresh_from_db()
    assert flagged.status == FlagStatus.OPEN
