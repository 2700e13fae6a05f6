"""Outcomes kept apart: no-shows, late cancellations, provider bumps (package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Q, Value

from careline.scheduling.metrics.period import Scope, organisation_zone, rate, week_date, week_trunc
from careline.scheduling.models import AppointmentStatus, CancelReason


@dataclass(frozen=True, slots=True)
class WeekOutcomes:
    week_start: date
    scheduled: int
    no_shows: int
    attended: int  # arrived or completed
    late_cancellations: int
    bumps: int

    @property
    def no_show_rate(self) -> float | None:
        return rate(self.no_shows, self.no_shows + self.attended)

    @property
    def late_cancellation_rate(self) -> float | None:
        return rate(self.late_cancellations, self.scheduled)

    @property
    def bump_rate(self) -> float | None:
        return rate(self.bumps, self.scheduled)


def late_cancellation_window() -> timedelta:
    return timedelta(hours=settings.CARELINE_LATE_CANCEL_HOURS)


def late_cancellation_condition() -> Q:
    """Cancelled by anyone but the provider within the window before the start."""
    deadline = ExpressionWrapper(
        F("starts_at") - Value(late_cancellation_window()), output_field=DateTimeField()
    )
    return (
        Q(status=AppointmentStatus.CANCELLED)
        & ~Q(cancel_reason=CancelReason.PROVIDER)
        & Q(cancelled_at__gte=deadline)
    )


def bump_condition() -> Q:
    return Q(status=AppointmentStatus.BUMPED) | Q(
        status=AppointmentStatus.CANCELLED, cancel_reason=CancelReason.PROVIDER
    )


def weekly_outcomes(scope: Scope) -> list[WeekOutcomes]:
    """One query: the outcome counts of every week of the period, earliest first."""
    zone = organisation_zone()
    rows = (
        scope.appointments()
        .annotate(week=week_trunc(zone))
        .order_by("week")
        .values("week")
        .annotate(
            scheduled=Count("pk"),
            no_shows=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
            attended=Count(
                "pk",
                filter=Q(status__in=[AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED]),
            ),
            late_cancellations=Count("pk", filter=late_cancellation_condition()),
            bumps=Count("pk", filter=bump_condition()),
        )
    )
    return [
        WeekOutcomes(
            week_start=week_date(row["week"], zone),
            scheduled=row["scheduled"],
            no_shows=row["no_shows"],
            attended=row["attended"],
            late_cancellations=row["late_cancellations"],
            bumps=row["bumps"],
        )
        for row in rows
    ]
