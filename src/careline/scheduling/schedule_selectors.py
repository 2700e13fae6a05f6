"""Reads behind the staff scheduling pages (re-exported by ``scheduling.selectors``): the
front desk's day list, one appointment with its history, and the configuration lists.

The day list shows the minimum a front desk needs (name, birth date, MRN, the visit) and
its read is one audit entry naming every patient it listed, as the patient search does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet

from careline.directory.visit_types import (
    LocationInfo,
    PractitionerInfo,
    list_locations,
    list_offering_practitioners,
    resolve_location_ids,
    resolve_practitioner_ids,
    time_zone_of,
)
from careline.patients.access import access_patient
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.authorization import require_permission
from careline.platform.errors import NotFound
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.availability import local_instant
from careline.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AvailabilityException,
    AvailabilityTemplate,
    ProviderRule,
    RedFlagList,
)

DAY_LIMIT = 500


@dataclass(frozen=True)
class Bookables:
    """Where and with whom visits can be booked: the locations and practitioners that have
    availability templates, by name."""

    locations: list[LocationInfo]
    practitioners: list[PractitionerInfo]


def list_bookables() -> Bookables:
    """Locations and practitioners with templates (four queries; no PHI)."""
    pairs = set(
        AvailabilityTemplate.objects.values_list("location_id", "practitioner_id").distinct()
    )
    locations = list_locations(location_ids={location for location, _ in pairs})
    practitioners = list_offering_practitioners(
        specialty="", practitioner_ids={practitioner for _, practitioner in pairs}
    )
    return Bookables(
        locations=sorted(locations.values(), key=lambda row: (row.name, row.id)),
        practitioners=sorted(practitioners.values(), key=lambda row: (row.display_name, row.id)),
    )


def list_day_appointments(
    *,
    actor: Actor,
    day: date,
    location_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
) -> list[Appointment]:
    """Every appointment of ``day`` (the location's local day) at a location and/or with a
    practitioner, earliest first; audited as a search listing the patients shown."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="Appointment")
    rows = _day_rows(day, location_id, practitioner_id)
    appointments = list(rows[:DAY_LIMIT])
    audit.record_event(
        actor=actor,
        action=AuditAction.SEARCH,
        resource_type="Appointment",
        details={
            "criteria": ["day"]
            + (["location"] if location_id else [])
            + (["practitioner"] if practitioner_id else []),
            "results": len(appointments),
            SEARCH_LISTED_PATIENTS: sorted({str(row.patient.public_id) for row in appointments}),
        },
    )
    return appointments


def _day_rows(
    day: date, location_id: uuid.UUID | None, practitioner_id: uuid.UUID | None
) -> QuerySet[Appointment]:
    rows = Appointment.objects.select_related(
        "patient", "visit_type", "practitioner", "location"
    ).only(
        "public_id",
        "starts_at",
        "ends_at",
        "status",
        "is_overbook",
        "is_new_patient",
        "cancel_reason",
        "patient__public_id",
        "patient__given_names",
        "patient__family_name",
        "patient__birth_date",
        "patient__mrn",
        "visit_type__name",
        "practitioner__prefix",
        "practitioner__given_name",
        "practitioner__family_name",
        "location__name",
        "location__time_zone",
    )
    zone_name = ""
    if location_id is not None:
        pk = resolve_location_ids([location_id]).get(location_id)
        if pk is None:
            raise NotFound("No such location.", details={"field": "location"})
        rows = rows.filter(location_id=pk)
        zone_name = list_locations(location_ids=[pk])[pk].time_zone
    if practitioner_id is not None:
        found = resolve_practitioner_ids([practitioner_id]).get(practitioner_id)
        if found is None:
            raise NotFound("No such practitioner.", details={"field": "practitioner"})
        rows = rows.filter(practitioner_id=found)
    zone = time_zone_of(zone_name)
    start = local_instant(day, time(0), zone)
    end = local_instant(day + timedelta(days=1), time(0), zone)
    return rows.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at", "pk")


def get_appointment_with_history(*, actor: Actor, appointment_id: uuid.UUID) -> Appointment:
    """One appointment (access-checked and audited as a read) with its history, oldest first,
    and the appointments it was rescheduled to."""
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
        .prefetch_related(
            Prefetch("history", queryset=AppointmentHistory.objects.order_by("occurred_at", "pk")),
            Prefetch("rescheduled_to", queryset=Appointment.objects.only("public_id", "starts_at")),
        )
        .get(public_id=appointment_id)
    )


# --- configuration lists (no PHI) ------------------------------------------------------------


def list_templates() -> list[AvailabilityTemplate]:
    return list(
        AvailabilityTemplate.objects.select_related("practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .prefetch_related("blocks__visit_type", "visit_types")
        .order_by(
            "practitioner__family_name",
            "practitioner_id",
            "location__name",
            "weekday",
            "start_time",
        )
    )


def get_template(*, template_id: uuid.UUID) -> AvailabilityTemplate:
    template = (
        AvailabilityTemplate.objects.select_related("practitioner", "location")
        .prefetch_related("blocks__visit_type", "visit_types")
        .filter(public_id=template_id)
        .first()
    )
    if template is None:
        raise NotFound("No such availability template.")
    return template


def list_exceptions(*, since: datetime) -> list[AvailabilityException]:
    """Exceptions that end after ``since``, soonest first."""
    return list(
        AvailabilityException.objects.filter(ends_at__gt=since)
        .select_related("practitioner", "location")
        .defer("practitioner__raw", "location__raw")
        .order_by("starts_at", "pk")
    )


def list_provider_rules() -> list[ProviderRule]:
    return list(
        ProviderRule.objects.select_related("practitioner", "visit_type")
        .defer("practitioner__raw")
        .order_by("practitioner__family_name", "practitioner_id", "kind", "pk")
    )


def get_provider_rule(*, rule_id: uuid.UUID) -> ProviderRule:
    rule = ProviderRule.objects.select_related("practitioner", "visit_type").filter(
        public_id=rule_id
    )
    found = rule.first()
    if found is None:
        raise NotFound("No such provider rule.")
    return found


def list_red_flag_lists(*, active_only: bool = False) -> list[RedFlagList]:
    rows = RedFlagList.objects.all()
    if active_only:
        rows = rows.filter(is_active=True)
    return list(rows.order_by("name", "pk"))


def get_red_flag_list(*, code: str, active_only: bool = True) -> RedFlagList | None:
    rows = RedFlagList.objects.filter(code=code)
    if active_only:
        rows = rows.filter(is_active=True)
    return rows.first()


@dataclass(frozen=True)
class PatientLabel:
    """Who a booking is for, as the Schedule page shows her."""

    public_id: uuid.UUID
    display_name: str
    birth_date: date | None
    mrn: str


def get_booking_patient(*, actor: Actor, patient_id: uuid.UUID) -> PatientLabel:
    """The patient being booked for (booking permission and scope checked; audited read)."""
    patient = access_patient(
        actor=actor, patient_id=patient_id, permission=Permission.BOOK_APPOINTMENT
    ).patient
    return PatientLabel(patient.public_id, patient.display_name, patient.birth_date, patient.mrn)
