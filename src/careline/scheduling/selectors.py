"""Scheduling reads: the slot search (``slot_search``), one appointment, and a patient's
upcoming and missed appointments and open waitlist entries for the 360 view and the API
summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.errors import NotFound
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.access import access_for_scheduling
from careline.scheduling.import_selectors import ScheduleInfo, list_import_conflicts, list_schedules
from careline.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Hold,
    RedFlagList,
)
from careline.scheduling.nearest_slots import (
    NEAREST_PLACES,
    PlaceQuery,
    SlotsNear,
    list_offering_location_ids,
    search_slots_near,
)
from careline.scheduling.schedule_selectors import (
    DAY_LIMIT,
    Bookables,
    PatientLabel,
    get_appointment_with_history,
    get_booking_patient,
    get_provider_rule,
    get_red_flag_list,
    get_template,
    list_bookables,
    list_day_appointments,
    list_exceptions,
    list_provider_rules,
    list_red_flag_lists,
    list_templates,
)
from careline.scheduling.slot_search import MAX_LIMIT, Place, SlotOption, search_slots
from careline.scheduling.waitlist.selectors import OpenEntry, list_open_entries

if TYPE_CHECKING:
    from careline.patients.models import Patient

__all__ = [
    "DAY_LIMIT",
    "MAX_LIMIT",
    "NEAREST_PLACES",
    "Bookables",
    "OpenEntry",
    "PatientAppointments",
    "PatientLabel",
    "PatientSchedule",
    "Place",
    "PlaceQuery",
    "ScheduleInfo",
    "SlotOption",
    "SlotsNear",
    "get_appointment",
    "get_appointment_with_history",
    "get_booking_patient",
    "get_patient_appointment",
    "get_patient_appointments",
    "get_patient_hold",
    "get_provider_rule",
    "get_red_flag_list",
    "get_safety_screen",
    "get_template",
    "list_bookables",
    "list_day_appointments",
    "list_exceptions",
    "list_import_conflicts",
    "list_offering_location_ids",
    "list_open_entries",
    "list_patient_appointments",
    "list_patient_schedule",
    "list_provider_rules",
    "list_red_flag_lists",
    "list_schedules",
    "list_templates",
    "search_slots",
    "search_slots_near",
]

UPCOMING_LIMIT = 10
MISSED_LIMIT = 5


def get_appointment(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    """One appointment, after the access check on its patient (audited as a read)."""
    patient_id = (
        Appointment.objects.filter(public_id=appointment_id)
        .values_list("patient__public_id", flat=True)
        .first()
    )
    if patient_id is None:
        raise NotFound("No such appointment.")
    access_for_scheduling(actor, patient_id, permission=Permission.VIEW_SCHEDULE)
    return (
        Appointment.objects.select_related(
            "patient", "visit_type", "practitioner", "location", "rescheduled_from"
        )
        .defer("patient__ssn", "practitioner__raw", "location__raw")
        .get(public_id=appointment_id)
    )


@dataclass(frozen=True)
class PatientAppointments:
    upcoming: list[Appointment]  # booked or arrived, not yet ended; soonest first
    missed: list[Appointment]  # no-shows, latest first
    waitlist: list[OpenEntry]  # waiting or offered, oldest first (``list_open_entries``)


def get_patient_appointments(
    *, actor: Actor, patient_id: uuid.UUID, now: datetime
) -> PatientAppointments:
    """Upcoming and missed appointments and open waitlist entries of one patient, after the
    access check (audited)."""
    access = access_for_scheduling(
        actor, patient_id, permission=Permission.VIEW_SCHEDULE, resource_type="Appointment"
    )
    return list_patient_appointments(patient=access.patient, now=now)


def list_patient_appointments(*, patient: Patient, now: datetime) -> PatientAppointments:
    """For a patient whose access the caller has checked: four bounded queries (the
    waitlist's second only when she has an open entry)."""
    rows = (
        Appointment.objects.filter(patient=patient)
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
    )
    upcoming = rows.filter(status__in=list(ACTIVE_STATUSES), ends_at__gt=now).order_by(
        "starts_at", "pk"
    )
    missed = rows.filter(status=AppointmentStatus.NO_SHOW).order_by("-starts_at", "-pk")
    return PatientAppointments(
        upcoming=list(upcoming[:UPCOMING_LIMIT]),
        missed=list(missed[:MISSED_LIMIT]),
        waitlist=list_open_entries(patient_id=patient.public_id, now=now),
    )


@dataclass(frozen=True)
class PatientSchedule:
    upcoming: list[Appointment]  # booked or arrived, not yet ended; soonest first
    past: list[Appointment]  # started before now, not cancelled; latest first


def list_patient_schedule(
    *, patient_id: uuid.UUID, now: datetime, past_limit: int = 5
) -> PatientSchedule:
    """A patient's own view of her appointments (the portal), in two queries. No access
    check: the caller decided (``portal_patient``, which audits the read)."""
    rows = (
        Appointment.objects.filter(patient__public_id=patient_id)
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
    )
    upcoming = rows.filter(status__in=list(ACTIVE_STATUSES), ends_at__gt=now).order_by(
        "starts_at", "pk"
    )
    past = (
        rows.filter(starts_at__lt=now)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED])
        .exclude(status__in=list(ACTIVE_STATUSES), ends_at__gt=now)
        .order_by("-starts_at", "-pk")
    )
    return PatientSchedule(upcoming=list(upcoming[:UPCOMING_LIMIT]), past=list(past[:past_limit]))


def get_patient_appointment(
    *, actor: Actor, patient_id: uuid.UUID, appointment_id: uuid.UUID
) -> Appointment:
    """One appointment of this patient (another patient's answers "not found", like a
    missing one), after the access check on her (audited as a read)."""
    access_for_scheduling(actor, patient_id, permission=Permission.VIEW_SCHEDULE, action=None)
    appointment = (
        Appointment.objects.filter(public_id=appointment_id, patient__public_id=patient_id)
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .first()
    )
    if appointment is None:
        raise NotFound("No such appointment.")
    audit.record_event(
        actor=actor,
        action=AuditAction.READ,
        resource_type="Appointment",
        resource_id=str(appointment_id),
        patient_id=patient_id,
    )
    return appointment


def get_patient_hold(*, patient_id: uuid.UUID, hold_id: uuid.UUID, now: datetime) -> Hold:
    """A live hold for this patient, with its visit type, practitioner and location; a hold
    that expired, or is someone else's, is "not found". The caller checked access."""
    hold = (
        Hold.objects.filter(public_id=hold_id, patient__public_id=patient_id, expires_at__gt=now)
        .select_related("visit_type", "practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .first()
    )
    if hold is None:
        raise NotFound("This time is no longer held for you (holds last a few minutes).")
    return hold


def get_safety_screen(*, code: str) -> RedFlagList | None:
    """The active red-flag list a visit type asks before booking (``None``: not defined)."""
    return RedFlagList.objects.filter(code=code, is_active=True).first() if code else None
