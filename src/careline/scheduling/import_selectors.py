"""Reads for the FHIR side of scheduling (re-exported by ``scheduling.selectors``): the
schedules Careline would publish, and the EHR appointments that overlap Careline's time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.models import Appointment, AvailabilityTemplate


def list_import_conflicts(
    *, actor: Actor, ending_after: datetime | None = None, limit: int = 200
) -> list[Appointment]:
    """EHR appointments whose time overlaps time already taken in Careline, soonest first,
    for staff to resolve (``scheduling.manage_schedules``; audited per patient listed)."""
    require_permission(actor, Permission.MANAGE_SCHEDULES, resource_type="Appointment")
    rows = Appointment.objects.exclude(conflict_note="").exclude(source_system="")
    if ending_after is not None:
        rows = rows.filter(ends_at__gt=ending_after)
    found = list(
        rows.select_related("patient", "practitioner", "location")
        .defer("patient__ssn", "practitioner__raw", "location__raw", "raw")
        .order_by("starts_at", "pk")[:limit]
    )
    audit.record_event(
        actor=actor,
        action=AuditAction.SEARCH,
        resource_type="Appointment",
        details={
            "criteria": ["import_conflict"],
            "results": len(found),
            SEARCH_LISTED_PATIENTS: sorted({str(row.patient.public_id) for row in found}),
        },
    )
    return found


@dataclass(frozen=True)
class ScheduleInfo:
    """A practitioner's availability at a location: what FHIR calls a Schedule. Careline
    keeps it as weekly templates; their earliest and latest effective days bound it."""

    practitioner_id: uuid.UUID
    practitioner_name: str
    location_id: uuid.UUID
    location_name: str
    effective_from: date
    effective_to: date | None  # None: open-ended


def list_schedules(
    *, actor: Actor, practitioner_id: uuid.UUID | None = None, limit: int = 500
) -> list[ScheduleInfo]:
    """Every (practitioner, location) with availability templates (one query)."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="Schedule")
    rows = AvailabilityTemplate.objects.all()
    if practitioner_id is not None:
        rows = rows.filter(practitioner__public_id=practitioner_id)
    found: dict[tuple[uuid.UUID, uuid.UUID], ScheduleInfo] = {}
    values = rows.order_by("practitioner_id", "location_id").values_list(
        "practitioner__public_id",
        "practitioner__prefix",
        "practitioner__given_name",
        "practitioner__family_name",
        "location__public_id",
        "location__name",
        "effective_from",
        "effective_to",
    )
    for practitioner, prefix, given, family, location, place, start, end in values:
        known = found.get((practitioner, location))
        if known is not None:
            start = min(start, known.effective_from)
            end = (
                None if end is None or known.effective_to is None else max(end, known.effective_to)
            )
        name = " ".join(part for part in (prefix, given, family) if part)
        found[(practitioner, location)] = ScheduleInfo(
            practitioner, name, location, place, start, end
        )
    return list(found.values())[:limit]
