"""Scheduling reads: the slot search (``slot_search``), one appointment, and a patient's
upcoming and missed appointments for the 360 view and the API summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from careline.patients.access import access_patient
from careline.platform.actors import Actor
from careline.platform.errors import NotFound
from careline.platform.permissions import Permission
from careline.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from careline.scheduling.schedule_selectors import (
    DAY_LIMIT,
    Bookables,
    PatientLabel,
    get_appointment_with_history,
    get_booking_patient,
    get_provider_rule,
    get_red_flag_list,
    list_bookables,
    list_day_appointments,
    list_exceptions,
    list_provider_rules,
    list_red_flag_lists,
    list_templates,
)
from careline.scheduling.slot_search import MAX_LIMIT, Place, SlotOption, search_slots

if TYPE_CHECKING:
    from careline.patients.models import Patient

__all__ = [
    "DAY_LIMIT",
    "MAX_LIMIT",
    "Bookables",
    "PatientAppointments",
    "PatientLabel",
    "Place",
    "SlotOption",
    "get_appointment",
    "get_appointment_with_history",
    "get_booking_patient",
    "get_provider_rule",
    "get_red_flag_list",
    "list_bookables",
    "list_day_appointments",
    "list_exceptions",
    "list_patient_appointments",
    "list_provider_rules",
    "list_red_flag_lists",
    "list_templates",
    "search_slots",
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
    access_patient(
        actor=actor,
        patient_id=patient_id,
        permission=Permission.VIEW_SCHEDULE,
        resource_type="Appointment",
    )
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


def list_patient_appointments(*, patient: Patient, now: datetime) -> PatientAppointments:
    """For a patient whose access the caller has checked: two bounded queries."""
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
        upcoming=list(upcoming[:UPCOMING_LIMIT]), missed=list(missed[:MISSED_LIMIT])
    )
