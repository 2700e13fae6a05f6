"""Fill rate of freed slots: freed slots rebooked before they start ÷ freed slots (package
docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from careline.scheduling.metrics.period import (
    GONE,
    Scope,
    organisation_zone,
    rate,
    week_date,
    week_trunc,
)
from careline.scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True, slots=True)
class WeekFill:
    week_start: date
    freed: int
    rebooked: int

    @property
    def fill_rate(self) -> float | None:
        return rate(self.rebooked, self.freed)


def freed_slots(scope: Scope) -> QuerySet[Appointment]:
    """Appointments cancelled or rescheduled away before their start (no overbooks), each
    annotated ``rebooked`` (see the module docstring)."""
    rebooking = (
        Appointment.objects.filter(
            practitioner_id=OuterRef("practitioner_id"),
            starts_at__lt=OuterRef("ends_at"),
            ends_at__gt=OuterRef("starts_at"),
            created_at__gt=OuterRef("cancelled_at"),
            created_at__lt=OuterRef("starts_at"),
        )
        .exclude(status__in=GONE)
        .exclude(pk=OuterRef("pk"))
    )
    return (
        scope.appointments()
        .filter(
            status=AppointmentStatus.CANCELLED,
            is_overbook=False,
            cancelled_at__lt=F("starts_at"),
        )
        .annotate(rebooked=Exists(rebooking))
    )


def weekly_fill(scope: Scope) -> list[WeekFill]:
    """One query: freed and rebooked slots of every week of the period, earliest first."""
    zone = organisation_zone()
    rows = (
        freed_slots(scope)
        .annotate(week=week_trunc(zone))
        .order_by("week")
        .values("week")
        .annotate(freed=Count("pk"), rebooked_count=Count("pk", filter=Q(rebooked=True)))
    )
    return [
        WeekFill(week_date(row["week"], zone), row["freed"], row["rebooked_count"]) for row in rows
    ]
