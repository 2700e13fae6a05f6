"""The period the access metrics cover: filters checked and resolved, local weeks (see the
package docstring for the definitions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import TruncWeek

from careline.directory.visit_types import get_visit_type, resolve_location_ids
from careline.platform.errors import NotFound, ValidationFailed
from careline.scheduling.availability import local_instant
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.slot_search import MAX_RANGE_DAYS

EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
OUTCOME_RECORDED = (
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
)
KEPT_TIME = (*OUTCOME_RECORDED, AppointmentStatus.BOOKED)
GONE = (AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED)


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(settings.CARELINE_TIME_ZONE)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator to four places; None when nothing was counted."""
    return round(numerator / denominator, 4) if denominator else None


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricFilters:
    date_from: date
    date_to: date
    visit_type_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """Filters resolved to internal keys and instants."""

    start: datetime
    end: datetime
    visit_type_pk: int | None
    location_pk: int | None

    def appointments(self) -> QuerySet[Appointment]:
        rows = Appointment.objects.filter(starts_at__gte=self.start, starts_at__lt=self.end)
        if self.visit_type_pk is not None:
            rows = rows.filter(visit_type_id=self.visit_type_pk)
        if self.location_pk is not None:
            rows = rows.filter(location_id=self.location_pk)
        return rows


def resolve_scope(filters: MetricFilters) -> Scope:
    for name, day in (("from", filters.date_from), ("to", filters.date_to)):
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise ValidationFailed(
                f"Dates fall in the years {EARLIEST_YEAR} to {LATEST_YEAR}.",
                details={"parameter": name},
            )
    if filters.date_from > filters.date_to:
        raise ValidationFailed("'to' must be on or after 'from'.", details={"parameter": "to"})
    if (filters.date_to - filters.date_from).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"The period is at most {MAX_RANGE_DAYS} days.", details={"parameter": "to"}
        )
    visit_type_pk = location_pk = None
    if filters.visit_type_id is not None:
        visit_type_pk = get_visit_type(visit_type_id=filters.visit_type_id, active_only=False).pk
    if filters.location_id is not None:
        location_pk = resolve_location_ids([filters.location_id]).get(filters.location_id)
        if location_pk is None:
            raise NotFound("No such location.", details={"location_id": str(filters.location_id)})
    zone = organisation_zone()
    return Scope(
        start=local_instant(filters.date_from, time(0), zone),
        end=local_instant(filters.date_to + timedelta(days=1), time(0), zone),
        visit_type_pk=visit_type_pk,
        location_pk=location_pk,
    )


def week_trunc(zone: ZoneInfo) -> TruncWeek:
    return TruncWeek("starts_at", tzinfo=zone)


def week_date(value: datetime | date, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if value.tzinfo else value).date()
    return value
