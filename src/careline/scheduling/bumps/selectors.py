"""Reads of the provider-bump workflow: the open flags staff resolve (the page and
``GET /api/scheduling/flagged`` answer from the same function) and one flag.

A flag whose visit is no longer booked (cancelled or moved another way) is not listed: there
is nothing left to resolve, and the next review of its provider clears it. The listing is
one audit entry naming every patient it shows, as the day list's is.
"""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from careline.directory.visit_types import resolve_practitioner_ids
from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.selectors import SEARCH_LISTED_PATIENTS
from careline.platform.authorization import require_permission
from careline.platform.errors import NotFound
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.availability import local_instant
from careline.scheduling.bumps.models import FlaggedAppointment, FlagStatus
from careline.scheduling.models import AppointmentStatus

LIST_LIMIT = 500


def _rows() -> QuerySet[FlaggedAppointment]:
    return FlaggedAppointment.objects.select_related(
        "appointment__patient",
        "appointment__visit_type",
        "appointment__practitioner",
        "appointment__location",
        "rescheduled_to",
    )


def list_flagged_appointments(
    *,
    actor: Actor,
    practitioner_id: uuid.UUID | None = None,
    day: date | None = None,
) -> list[FlaggedAppointment]:
    """Open flags of booked visits, by visit start — of one practitioner and/or one local day
    (in ``CARELINE_TIME_ZONE``) if given; audited as a search listing the patients shown."""
    require_permission(
        actor, Permission.RESOLVE_FLAGGED_APPOINTMENT, resource_type="FlaggedAppointment"
    )
    rows = _rows().filter(status=FlagStatus.OPEN, appointment__status=AppointmentStatus.BOOKED)
    if practitioner_id is not None:
        pk = resolve_practitioner_ids([practitioner_id]).get(practitioner_id)
        if pk is None:
            raise NotFound("No such practitioner.", details={"field": "practitioner"})
        rows = rows.filter(appointment__practitioner_id=pk)
    if day is not None:
        zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
        rows = rows.filter(
            appointment__starts_at__gte=local_instant(day, time(0), zone),
            appointment__starts_at__lt=local_instant(day + timedelta(days=1), time(0), zone),
        )
    flags = list(rows.order_by("appointment__starts_at", "pk")[:LIST_LIMIT])
    audit.record_event(
        actor=actor,
        action=AuditAction.SEARCH,
        resource_type="FlaggedAppointment",
        details={
            "criteria": ["open"]
            + (["practitioner"] if practitioner_id else [])
            + (["day"] if day else []),
            "results": len(flags),
            SEARCH_LISTED_PATIENTS: sorted(
                {str(flag.appointment.patient.public_id) for flag in flags}
            ),
        },
    )
    return flags


def get_flag(*, flag_id: uuid.UUID) -> FlaggedAppointment:
    """One flag with its visit, for presenting what a service just resolved (the service
    checked access and audited)."""
    flag = _rows().filter(public_id=flag_id).first()
    if flag is None:
        raise NotFound("No such flagged appointment.")
    return flag
