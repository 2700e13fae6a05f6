"""The demo's flagged appointment: a provider's leave added after her visits were booked,
through the set-up service, so the demo shows the provider-bump workflow with real data."""

from __future__ import annotations

from datetime import datetime, timedelta

from careline.platform.actors import Actor
from careline.scheduling import configuration
from careline.scheduling.bumps.models import FlaggedAppointment
from careline.scheduling.models import Appointment, AppointmentStatus, ExceptionKind

LEAD_DAYS = 3


def add_demo_leave(*, actor: Actor, now: datetime) -> list[FlaggedAppointment]:
    """Leave over the first visit booked at least ``LEAD_DAYS`` ahead (exactly its time, so
    one visit is flagged); the flags it raised."""
    visit = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            source_system="",
            starts_at__gte=now + timedelta(days=LEAD_DAYS),
        )
        .select_related("practitioner")
        .order_by("starts_at", "pk")
        .first()
    )
    if visit is None:
        return []
    exception = configuration.add_exception(
        actor=actor,
        kind=ExceptionKind.LEAVE,
        practitioner_id=visit.practitioner.public_id,
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        reason="Called to a hospital meeting",
    )
    return list(FlaggedAppointment.objects.filter(change_id=exception.public_id))
