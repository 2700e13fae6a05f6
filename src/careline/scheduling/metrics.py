"""Access metrics — each defined once, here. The Access metrics page, ``GET
/api/scheduling/metrics`` and the weekly snapshot task call these functions and nothing else.

**The period.** ``date_from``..``date_to`` are local days (inclusive) in
``CARELINE_TIME_ZONE``; an appointment belongs to the period, and to a week (Monday to
Sunday, local), by its start. A visit type narrows every metric to that type; a location
narrows the appointment metrics and utilisation to that place (third-next-available is kept
per visit type and provider, not per place).

**Outcomes** (``weekly_outcomes``), kept as separate outcomes:

- *no-show rate* = no-shows ÷ (no-shows + arrived + completed): of the visits whose outcome
  was recorded, the share missed. Cancelled, bumped and still-booked visits are not in it.
- *late cancellation* = cancelled by anyone but the provider (reason not "provider") at or
  after ``CARELINE_LATE_CANCEL_HOURS`` before the start (a reschedule away counts: the old
  appointment is cancelled). Rate over the appointments scheduled in the week.
- *provider bump* = status "bumped", or cancelled with the reason "provider" (whenever it
  happened). Rate over the appointments scheduled in the week.

**Template utilisation** (``utilisation_by_provider``) = booked minutes ÷ available template
minutes. Available: each day a provider's template applies in the period, its session less
breaks and less leave and closures (reserved and frozen blocks are available time). Booked:
the length of every appointment that kept its time — booked, arrived, completed or no-show —
overbooks included, so it can pass 100 %.

**Fill rate** (``weekly_fill``) = freed slots rebooked before they start ÷ freed slots. A
freed slot is an appointment (not an overbook) cancelled or rescheduled away before its
start. It is rebooked when another appointment of the same practitioner that is not
cancelled or bumped overlaps its time and was created after the freeing and before the
freed start. Derived from the appointments alone; when the waitlist keeps its own freed-slot
records, this function is the one place to read them instead.

**Third next available** (``third_next_available``), as IHI defines it: calendar days from
the request date to the third next available slot of the visit type — per visit type across
its providers, and per provider. Slots are what ``search_slots`` offers a booking (the
template expansion, the booking window, free time and rooms): held slots and frozen blocks
(reserves kept back from booking) are not available. None when fewer than three slots are
free within a year. It cannot be recomputed later, so ``record_access_snapshots`` stores it
weekly (``AccessSnapshot``) and the trend reads those snapshots.

Queries: the page's numbers cost a fixed number of queries whatever the number of weeks,
appointments and providers (tested).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import TruncWeek

from careline.directory.visit_types import (
    get_visit_type,
    list_locations,
    list_offering_practitioners,
    list_visit_types,
    resolve_location_ids,
    time_zone_of,
)
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.errors import NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.platform.permissions import Permission
from careline.scheduling.availability import BREAK, Interval, TemplateSpec, local_instant
from careline.scheduling.calendars import load_exceptions, load_templates
from careline.scheduling.models import (
    AccessSnapshot,
    Appointment,
    AppointmentStatus,
    AvailabilityTemplate,
    CancelReason,
)
from careline.scheduling.slot_search import MAX_RANGE_DAYS, search_slots

EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
THIRD = 3
_OUTCOME_RECORDED = (
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
)
_KEPT_TIME = (*_OUTCOME_RECORDED, AppointmentStatus.BOOKED)
_GONE = (AppointmentStatus.CANCELLED, AppointmentStatus.BUMPED)


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
class _Scope:
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


def _resolve(filters: MetricFilters) -> _Scope:
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
    return _Scope(
        start=local_instant(filters.date_from, time(0), zone),
        end=local_instant(filters.date_to + timedelta(days=1), time(0), zone),
        visit_type_pk=visit_type_pk,
        location_pk=location_pk,
    )


# --- outcomes: no-shows, late cancellations, bumps ------------------------------------------


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


def _week(zone: ZoneInfo) -> TruncWeek:
    return TruncWeek("starts_at", tzinfo=zone)


def _week_date(value: datetime | date, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(zone) if value.tzinfo else value).date()
    return value


def weekly_outcomes(scope: _Scope) -> list[WeekOutcomes]:
    """One query: the outcome counts of every week of the period, earliest first."""
    zone = organisation_zone()
    rows = (
        scope.appointments()
        .annotate(week=_week(zone))
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
            week_start=_week_date(row["week"], zone),
            scheduled=row["scheduled"],
            no_shows=row["no_shows"],
            attended=row["attended"],
            late_cancellations=row["late_cancellations"],
            bumps=row["bumps"],
        )
        for row in rows
    ]


# --- fill rate -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekFill:
    week_start: date
    freed: int
    rebooked: int

    @property
    def fill_rate(self) -> float | None:
        return rate(self.rebooked, self.freed)


def freed_slots(scope: _Scope) -> QuerySet[Appointment]:
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
        .exclude(status__in=_GONE)
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


def weekly_fill(scope: _Scope) -> list[WeekFill]:
    """One query: freed and rebooked slots of every week of the period, earliest first."""
    zone = organisation_zone()
    rows = (
        freed_slots(scope)
        .annotate(week=_week(zone))
        .order_by("week")
        .values("week")
        .annotate(freed=Count("pk"), rebooked_count=Count("pk", filter=Q(rebooked=True)))
    )
    return [
        WeekFill(_week_date(row["week"], zone), row["freed"], row["rebooked_count"]) for row in rows
    ]


# --- template utilisation --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderUtilisation:
    practitioner_id: uuid.UUID
    practitioner_name: str
    available_minutes: int
    booked_minutes: int

    @property
    def utilisation(self) -> float | None:
        return rate(self.booked_minutes, self.available_minutes)


def utilisation_by_provider(scope: _Scope) -> list[ProviderUtilisation]:
    """Booked ÷ available template minutes per provider, by name. Eight queries."""
    templates = AvailabilityTemplate.objects.all()
    if scope.location_pk is not None:
        templates = templates.filter(location_id=scope.location_pk)
    practitioner_pks = set(templates.values_list("practitioner_id", flat=True))
    booked: dict[int, int] = defaultdict(int)
    for practitioner_pk, starts_at, ends_at in (
        scope.appointments()
        .filter(status__in=_KEPT_TIME)
        .order_by()
        .values_list("practitioner_id", "starts_at", "ends_at")
    ):
        booked[practitioner_pk] += int((ends_at - starts_at).total_seconds() // 60)
    practitioner_pks |= set(booked)
    specs = [
        spec
        for spec in load_templates(
            practitioner_ids=practitioner_pks,
            location_ids=None if scope.location_pk is None else [scope.location_pk],
        )
        if scope.visit_type_pk is None or spec.offers(scope.visit_type_pk)
    ]
    exceptions = load_exceptions(
        practitioner_ids=practitioner_pks, start=scope.start, end=scope.end
    )
    zones = _template_zones(specs)
    available: dict[int, int] = defaultdict(int)
    for spec in specs:
        closed = exceptions.for_session(spec.practitioner_id, spec.location_id)
        available[spec.practitioner_id] += available_minutes(
            spec, zones[spec.location_id], scope.start, scope.end, closed
        )
    names = list_offering_practitioners(specialty="", practitioner_ids=practitioner_pks)
    result = [
        ProviderUtilisation(
            practitioner_id=info.public_id,
            practitioner_name=info.display_name,
            available_minutes=available.get(pk, 0),
            booked_minutes=booked.get(pk, 0),
        )
        for pk, info in names.items()
        if available.get(pk) or booked.get(pk)
    ]
    return sorted(result, key=lambda row: (row.practitioner_name, str(row.practitioner_id)))


def _template_zones(specs: Sequence[TemplateSpec]) -> dict[int, ZoneInfo]:
    locations = list_locations(location_ids={spec.location_id for spec in specs})
    return {pk: time_zone_of(location.time_zone) for pk, location in locations.items()}


def available_minutes(
    spec: TemplateSpec,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    exceptions: Iterable[Interval],
) -> int:
    """Minutes the template offers in [start, end): its sessions less breaks and exceptions."""
    exceptions = list(exceptions)
    total = 0
    day = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        if spec.applies_on(day):
            session = Interval(
                local_instant(day, spec.start, zone), local_instant(day, spec.end, zone)
            )
            if start <= session.start and session.end <= end:
                closed = [
                    Interval(
                        local_instant(day, block.start, zone), local_instant(day, block.end, zone)
                    )
                    for block in spec.blocks
                    if block.kind == BREAK
                ]
                closed += [item for item in exceptions if item.overlaps(session.start, session.end)]
                total += _open_minutes(session, closed)
        day += timedelta(days=1)
    return total


def _open_minutes(session: Interval, closed: Sequence[Interval]) -> int:
    """Minutes of ``session`` not covered by any of ``closed``."""
    cursor, covered = session.start, timedelta()
    for item in sorted(closed, key=lambda interval: interval.start):
        begin, finish = max(item.start, cursor), min(item.end, session.end)
        if finish > begin:
            covered += finish - begin
            cursor = finish
    return int((session.end - session.start - covered).total_seconds() // 60)


# --- third next available --------------------------------------------------------------------


def third_next_available(
    *,
    actor: Actor,
    visit_type_id: uuid.UUID,
    request_date: date,
    practitioner_pk: int | None,
    now: datetime | None = None,
) -> int | None:
    """Calendar days from ``request_date`` to the third next available slot of the visit
    type (of one provider, or of any), by the booking slot search made at ``now`` (default:
    the clock); None if fewer than three within a year."""
    slots = search_slots(
        actor=actor,
        visit_type_id=visit_type_id,
        date_from=request_date,
        date_to=request_date + timedelta(days=MAX_RANGE_DAYS - 1),
        limit=THIRD,
        only_practitioners=None if practitioner_pk is None else [practitioner_pk],
        as_of=now,
    )
    if len(slots) < THIRD:
        return None
    return (slots[THIRD - 1].local_start.date() - request_date).days


def is_week_recorded(*, now: datetime) -> bool:
    """Whether the snapshot of ``now``'s week has been recorded."""
    week = week_of(now.astimezone(organisation_zone()).date())
    return AccessSnapshot.objects.filter(week_start=week).exists()


def record_access_snapshots(*, actor: Actor, now: datetime | None = None) -> int:
    """Record this week's third-next-available per visit type (across providers and per
    provider who has hours for it); pairs already recorded this week are left as they are,
    so running it again in the same week changes nothing. Returns the rows written.
    ``now`` (default: the clock) is the moment measured: the week, the request date and the
    slot search's own clock all follow it.

    Each pair costs one slot search — the price of measuring with the booking's own rules."""
    require_permission(actor, Permission.VIEW_SCHEDULE, resource_type="AccessSnapshot")
    now = now or clock.now()
    today = now.astimezone(organisation_zone()).date()
    week = week_of(today)
    done = set(
        AccessSnapshot.objects.filter(week_start=week).values_list(
            "visit_type_id", "practitioner_id"
        )
    )
    rows = []
    for visit_type in list_visit_types():
        providers = list_offering_practitioners(specialty=visit_type.specialty)
        with_hours = sorted(
            {
                spec.practitioner_id
                for spec in load_templates(practitioner_ids=list(providers))
                if spec.offers(visit_type.pk)
            }
        )
        for practitioner_pk in [None, *with_hours]:
            if (visit_type.pk, practitioner_pk) in done:
                continue
            days = third_next_available(
                actor=actor,
                visit_type_id=visit_type.public_id,
                request_date=today,
                practitioner_pk=practitioner_pk,
                now=now,
            )
            rows.append(
                AccessSnapshot(
                    week_start=week,
                    visit_type_id=visit_type.pk,
                    practitioner_id=practitioner_pk,
                    request_date=today,
                    days=days,
                    recorded_at=now,
                )
            )
    with transaction.atomic():
        written = AccessSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="AccessSnapshot",
            details={"week_start": week.isoformat(), "rows": len(written)},
        )
    return len(written)


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    week_start: date
    visit_type_id: uuid.UUID
    visit_type_name: str
    practitioner_id: uuid.UUID | None  # None: across the visit type's providers
    practitioner_name: str
    days: int | None


def list_snapshots(scope: _Scope) -> list[SnapshotRow]:
    """Recorded third-next-available values of the weeks the period touches. One query."""
    zone = organisation_zone()
    first = week_of(scope.start.astimezone(zone).date())
    last = (scope.end - timedelta(microseconds=1)).astimezone(zone).date()
    rows = AccessSnapshot.objects.filter(week_start__gte=first, week_start__lte=last)
    if scope.visit_type_pk is not None:
        rows = rows.filter(visit_type_id=scope.visit_type_pk)
    return [
        SnapshotRow(
            week_start=row.week_start,
            visit_type_id=row.visit_type.public_id,
            visit_type_name=row.visit_type.name,
            practitioner_id=row.practitioner.public_id if row.practitioner else None,
            practitioner_name=row.practitioner.display_name if row.practitioner else "",
            days=row.days,
        )
        for row in rows.select_related("visit_type", "practitioner").order_by(
            "week_start",
            "visit_type__name",
            F("practitioner__family_name").asc(nulls_first=True),  # across providers first
            "pk",
        )
    ]


def latest_per_provider(snapshots: Sequence[SnapshotRow]) -> list[SnapshotRow]:
    """Each (visit type, provider)'s most recent value, by visit type then provider."""
    latest: dict[tuple[uuid.UUID, uuid.UUID], SnapshotRow] = {}
    for row in snapshots:  # earliest week first: later weeks replace earlier ones
        if row.practitioner_id is not None:
            latest[(row.visit_type_id, row.practitioner_id)] = row
    return sorted(latest.values(), key=lambda row: (row.visit_type_name, row.practitioner_name))


# --- everything, for the page and the API ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessMetrics:
    filters: MetricFilters
    late_cancel_hours: int
    outcomes: list[WeekOutcomes]
    fill: list[WeekFill]
    utilisation: list[ProviderUtilisation]
    snapshots: list[SnapshotRow]

    @property
    def totals(self) -> WeekOutcomes:
        return WeekOutcomes(
            week_start=self.filters.date_from,
            scheduled=sum(week.scheduled for week in self.outcomes),
            no_shows=sum(week.no_shows for week in self.outcomes),
            attended=sum(week.attended for week in self.outcomes),
            late_cancellations=sum(week.late_cancellations for week in self.outcomes),
            bumps=sum(week.bumps for week in self.outcomes),
        )

    @property
    def fill_total(self) -> WeekFill:
        return WeekFill(
            self.filters.date_from,
            sum(week.freed for week in self.fill),
            sum(week.rebooked for week in self.fill),
        )


def get_access_metrics(*, actor: Actor, filters: MetricFilters) -> AccessMetrics:
    """Every access metric of the period (aggregates: no patient is read or shown)."""
    require_permission(actor, Permission.VIEW_ACCESS_METRICS, resource_type="AccessMetrics")
    scope = _resolve(filters)
    return AccessMetrics(
        filters=filters,
        late_cancel_hours=settings.CARELINE_LATE_CANCEL_HOURS,
        outcomes=weekly_outcomes(scope),
        fill=weekly_fill(scope),
        utilisation=utilisation_by_provider(scope),
        snapshots=list_snapshots(scope),
    )


def default_filters(today: date) -> MetricFilters:
    """The last twelve weeks up to today."""
    return MetricFilters(date_from=week_of(today) - timedelta(weeks=11), date_to=today)


def payload(metrics: AccessMetrics) -> dict[str, object]:
    """The numbers as plain JSON values — what the API answers and the page's charts read."""
    totals, fill_total = metrics.totals, metrics.fill_total
    return {
        "from": metrics.filters.date_from.isoformat(),
        "to": metrics.filters.date_to.isoformat(),
        "visit_type": str(metrics.filters.visit_type_id or "") or None,
        "location": str(metrics.filters.location_id or "") or None,
        "late_cancel_hours": metrics.late_cancel_hours,
        "outcomes": {
            "scheduled": totals.scheduled,
            "no_shows": totals.no_shows,
            "attended": totals.attended,
            "no_show_rate": totals.no_show_rate,
            "late_cancellations": totals.late_cancellations,
            "late_cancellation_rate": totals.late_cancellation_rate,
            "bumps": totals.bumps,
            "bump_rate": totals.bump_rate,
        },
        "weeks": [
            {
                "week_start": week.week_start.isoformat(),
                "scheduled": week.scheduled,
                "no_shows": week.no_shows,
                "attended": week.attended,
                "no_show_rate": week.no_show_rate,
                "late_cancellations": week.late_cancellations,
                "bumps": week.bumps,
            }
            for week in metrics.outcomes
        ],
        "fill": {
            "freed": fill_total.freed,
            "rebooked": fill_total.rebooked,
            "fill_rate": fill_total.fill_rate,
            "weeks": [
                {
                    "week_start": week.week_start.isoformat(),
                    "freed": week.freed,
                    "rebooked": week.rebooked,
                    "fill_rate": week.fill_rate,
                }
                for week in metrics.fill
            ],
        },
        "utilisation": [
            {
                "practitioner_id": str(row.practitioner_id),
                "practitioner_name": row.practitioner_name,
                "available_minutes": row.available_minutes,
                "booked_minutes": row.booked_minutes,
                "utilisation": row.utilisation,
            }
            for row in metrics.utilisation
        ],
        "third_next_available": [
            {
                "week_start": row.week_start.isoformat(),
                "visit_type_id": str(row.visit_type_id),
                "visit_type_name": row.visit_type_name,
                "practitioner_id": str(row.practitioner_id) if row.practitioner_id else None,
                "practitioner_name": row.practitioner_name,
                "days": row.days,
            }
            for row in metrics.snapshots
        ],
    }
